// The headless web host over real HTTP and WebSocket on loopback.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { writeFileSync, mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import WebSocket from 'ws'
import { createHeadlessHost } from '../../src-host/headless'
import type { Host } from '../../src-host/host'
import { startWebHost, type WebHost } from '../../src-host/web/server'
import { cleanupTmp, tmpDir } from '../helpers/tmp'
import { rawExchange, upgradeRequest } from '../helpers/raw-socket'

const MAX_FRAME = 4 * 1024 * 1024

let web: WebHost
let base: string
let staticDir: string
let outsideDir: string
/** Whatever reaches the process as an uncaught exception or unhandled rejection during a test. */
let crashes: unknown[] = []
const onCrash = (e: unknown): void => {
  crashes.push(e)
}

beforeEach(async () => {
  crashes = []
  process.on('uncaughtException', onCrash)
  process.on('unhandledRejection', onCrash)
  staticDir = tmpDir()
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>')
  mkdirSync(path.join(staticDir, 'assets'))
  writeFileSync(path.join(staticDir, 'assets', 'a.js'), 'console.log(1)')
  outsideDir = tmpDir()
  writeFileSync(path.join(outsideDir, 'secret.txt'), 'secret')
  const host = createHeadlessHost({ configDir: tmpDir(), defaultWorkspace: path.join(tmpDir(), 'ws') })
  web = await startWebHost({ host, staticDir, port: 0 })
  base = `http://127.0.0.1:${web.port}`
})
afterEach(async () => {
  await web.close()
  cleanupTmp()
  vi.restoreAllMocks()
  process.off('uncaughtException', onCrash)
  process.off('unhandledRejection', onCrash)
  expect(crashes).toEqual([])
})

function openWs(query: string, headers: Record<string, string> = {}, port = web.port): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api${query}`, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  })
}
function nextFrame(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))))
}
function closeCode(ws: WebSocket): Promise<number> {
  return new Promise((resolve) => ws.once('close', (code) => resolve(code)))
}
/** `p`, or a rejection naming `what` after `ms`: a host that hangs fails the test quickly. */
function within<T>(p: Promise<T>, what: string, ms = 3000): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no answer within ${ms} ms: ${what}`)), ms)
    p.then(
      (v) => {
        clearTimeout(t)
        resolve(v)
      },
      (e) => {
        clearTimeout(t)
        reject(e)
      }
    )
  })
}
async function settingsGet(port = web.port): Promise<Record<string, unknown>> {
  const ws = await openWs(`?token=${web.token}`, {}, port)
  const f = nextFrame(ws)
  ws.send(JSON.stringify({ id: 99, name: 'settings.get', arg: {} }))
  const reply = await within(f, 'settings.get')
  ws.close()
  return reply
}

describe('web host HTTP', () => {
  it('binds to loopback and prints a URL carrying the token', () => {
    expect(web.url).toBe(`http://127.0.0.1:${web.port}/?token=${web.token}`)
    expect(web.token.length).toBeGreaterThanOrEqual(32)
  })

  it('refuses a request without the token', async () => {
    const r = await fetch(`${base}/`)
    expect(r.status).toBe(401)
    expect(await r.text()).toMatch(/access token/)
    expect((await fetch(`${base}/?token=wrong`)).status).toBe(401)
  })

  it('serves the page with the token, sets a strict cookie and a CSP', async () => {
    const r = await fetch(web.url)
    expect(r.status).toBe(200)
    expect(r.headers.get('content-security-policy')).toContain("script-src 'self'")
    expect(r.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Strict/)
    const cookie = r.headers.get('set-cookie')!.split(';')[0]!
    const asset = await fetch(`${base}/assets/a.js`, { headers: { cookie } })
    expect(asset.status).toBe(200)
    expect(asset.headers.get('content-type')).toMatch(/javascript/)
  })

  it('never serves files outside the renderer folder', async () => {
    const r = await fetch(`${base}/..%2F..%2Fetc%2Fpasswd?token=${web.token}`)
    expect(r.status).toBe(404)
  })

  it('rejects a foreign Host header (DNS rebinding)', async () => {
    const http = await import('node:http')
    const status = await new Promise<number>((resolve) => {
      http.get({ host: '127.0.0.1', port: web.port, path: `/?token=${web.token}`, headers: { host: 'evil.example:80' } }, (res) => resolve(res.statusCode!))
    })
    expect(status).toBe(421)
  })
})

describe('web host WebSocket', () => {
  it('refuses a socket without the token, or from another origin', async () => {
    await expect(openWs('')).rejects.toThrow(/401/)
    await expect(openWs(`?token=${web.token}`, { origin: 'http://evil.example' })).rejects.toThrow(/403/)
  })

  it('answers contract requests and pushes events to every client', async () => {
    const a = await openWs(`?token=${web.token}`)
    const b = await openWs(`?token=${web.token}`)
    const got = nextFrame(a)
    a.send(JSON.stringify({ id: 1, name: 'settings.get', arg: {} }))
    expect(await got).toMatchObject({ id: 1, reply: { ok: true, value: { theme: 'system' } } })
    const event = nextFrame(b)
    a.send(JSON.stringify({ id: 2, name: 'settings.update', arg: { theme: 'dark' } }))
    expect(await event).toMatchObject({ event: 'settings.changed', payload: { theme: 'dark' } })
    a.close()
    b.close()
  })

  it('answers malformed frames and arguments with typed errors and stays up', async () => {
    const a = await openWs(`?token=${web.token}`)
    let f = nextFrame(a)
    a.send('not json')
    expect(await f).toMatchObject({ id: null, reply: { ok: false, error: { code: 'invalid-argument' } } })
    f = nextFrame(a)
    a.send(JSON.stringify({ id: 3, name: 'workspace.open', arg: { path: 7 } }))
    expect(await f).toMatchObject({ id: 3, reply: { ok: false, error: { code: 'invalid-argument', issues: [{ path: 'path' }] } } })
    f = nextFrame(a)
    a.send(JSON.stringify({ id: 4, name: 'app.info', arg: {} }))
    expect(await f).toMatchObject({ id: 4, reply: { ok: true } })
    a.close()
  })
})

describe('web host hardening', () => {
  it('refuses an upgrade whose Origin is null or unparsable with 403, and stays up', async () => {
    for (const origin of ['null', 'garbage', 'http://[', '']) {
      const r = await rawExchange(web.port, upgradeRequest(web.port, `/api?token=${web.token}`, [`Origin: ${origin}`]), { timeoutMs: 2000 })
      expect(r, `Origin: ${origin}`).toMatchObject({ status: 403, timedOut: false })
    }
    expect(await settingsGet()).toMatchObject({ id: 99, reply: { ok: true } })
  })

  it('answers an upgrade to an odd request target with 400 or 404, reading a leading // as a path', async () => {
    const cases: [string, number][] = [
      // Resolved against a base, '//[' would be a broken authority and '//evil.example/api' a
      // host with the path '/api'; appended to the host's own origin, both are mere paths.
      [`//[?token=${web.token}`, 404],
      [`//evil.example/api?token=${web.token}`, 404],
      [`http://[/api?token=${web.token}`, 400],
      [`http://127.0.0.1:${web.port}/api?token=${web.token}`, 400],
      ['*', 400]
    ]
    for (const [target, status] of cases) {
      const r = await rawExchange(web.port, upgradeRequest(web.port, target), { timeoutMs: 2000 })
      expect(r, target).toMatchObject({ status, timedOut: false })
    }
    expect(await settingsGet()).toMatchObject({ reply: { ok: true } })
  })

  it('survives a reset in the middle of a refused handshake', async () => {
    for (let i = 0; i < 20; i++) {
      await rawExchange(web.port, upgradeRequest(web.port, '/api?token=wrong'), { after: 'reset' })
    }
    expect(await settingsGet()).toMatchObject({ reply: { ok: true } })
  })

  it('closes a signed-in socket that sends an oversize or invalid UTF-8 frame, and stays up', async () => {
    const big = await openWs(`?token=${web.token}`)
    big.on('error', () => undefined)
    const bigClosed = closeCode(big)
    big.send(Buffer.alloc(MAX_FRAME + 1))
    expect(await within(bigClosed, 'oversize frame')).toBe(1009)

    const utf = await openWs(`?token=${web.token}`)
    utf.on('error', () => undefined)
    const utfClosed = closeCode(utf)
    utf.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })
    expect(await within(utfClosed, 'invalid UTF-8 frame')).toBe(1007)

    expect(crashes).toEqual([])
    expect(await settingsGet()).toMatchObject({ reply: { ok: true } })
  })

  it('answers a malformed percent-escape or an escaped NUL in the path with 400, without logging', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    for (const p of ['/%E0%A4%A', '/%zz', '/assets/%', '/a%00b.js']) {
      const r = await fetch(`${base}${p}?token=${web.token}`)
      expect(r.status, p).toBe(400)
    }
    expect(logged).not.toHaveBeenCalled()
  })

  it.skipIf(process.platform === 'win32')('serves no file through a symlink that leads out of the renderer folder', async () => {
    symlinkSync(path.join(outsideDir, 'secret.txt'), path.join(staticDir, 'leak.txt'))
    symlinkSync(outsideDir, path.join(staticDir, 'out'))
    symlinkSync(path.join(staticDir, 'assets', 'a.js'), path.join(staticDir, 'alias.js'))
    for (const p of ['/leak.txt', '/out/secret.txt']) {
      const r = await fetch(`${base}${p}?token=${web.token}`)
      expect(r.status, p).toBe(404)
      expect(await r.text()).not.toContain('secret')
    }
    // A link that stays inside is served: what is checked is where the bytes live.
    const inside = await fetch(`${base}/alias.js?token=${web.token}`)
    expect(inside.status).toBe(200)
    expect(await inside.text()).toBe('console.log(1)')
  })

  it('turns a dispatch that throws or rejects into an internal error reply', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const failing = {
      dispatch: (name: string) => {
        if (name === 'throws') throw new Error('thrown')
        return Promise.reject(new Error('rejected'))
      },
      onEvent: () => () => undefined
    } as unknown as Host
    const other = await startWebHost({ host: failing, staticDir, port: 0, token: web.token })
    try {
      const ws = await openWs(`?token=${web.token}`, {}, other.port)
      for (const [id, name] of [[1, 'rejects'], [2, 'throws']] as const) {
        const f = nextFrame(ws)
        ws.send(JSON.stringify({ id, name, arg: {} }))
        expect(await within(f, name)).toMatchObject({ id, reply: { ok: false, error: { code: 'internal' } } })
      }
      ws.close()
    } finally {
      await other.close()
    }
    expect(logged).toHaveBeenCalledTimes(2)
    expect(crashes).toEqual([])
  })
})
