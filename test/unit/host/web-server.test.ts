// The headless web host over real HTTP and WebSocket on loopback.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { writeFileSync, mkdirSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import WebSocket from 'ws'
import { createHeadlessHost } from '../../../src-host/headless'
import type { Host } from '../../../src-host/host'
import { startWebHost, type WebHost } from '../../../src-host/web/server'
import { Rng } from '../../../src-shared/rng'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { OP, rawExchange, upgradeRequest, wsFrame, type RawAnswer } from '../../helpers/raw-socket'

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
      for (const [id, name] of [
        [1, 'rejects'],
        [2, 'throws']
      ] as const) {
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

describe('web host fuzz', () => {
  it('survives a seeded fuzz of malformed requests and frames, then answers normally', async () => {
    const logged = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    const rng = new Rng(0x51ab1e)
    const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)]!
    const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => rng.int(256)))
    const printable = (n: number): string => String.fromCharCode(...Array.from({ length: n }, () => 0x21 + rng.int(94)))
    const port = web.port
    const tok = web.token
    const sent: Record<string, number> = {}
    const count = (kind: string, n = 1): void => {
      sent[kind] = (sent[kind] ?? 0) + n
    }

    // Raw connections: what to send, how to leave the socket, and what answers are acceptable
    // (null: the host just closed). None may be a 101 unless the request was a good one.
    type Case = { kind: string; data: Buffer; after?: 'end' | 'reset'; ok: (r: RawAnswer) => boolean }
    const cases: Case[] = []
    const refused =
      (...statuses: number[]) =>
      (r: RawAnswer) =>
        r.status !== null && statuses.includes(r.status)
    const origins = (): string | Buffer =>
      pick([
        () => 'null',
        () => 'garbage',
        () => printable(1 + rng.int(40)),
        () => Buffer.from(`Origin: http://ünïcødé-${rng.int(1000)}.例え`, 'utf8'),
        () => `http://${'a'.repeat(2000 + rng.int(8000))}.example`,
        () => `http://${'a'.repeat(17000)}.example`, // over Node's header limit
        () => 'http://[',
        () => 'http://evil.example',
        () => `file://${printable(8)}`
      ])()
    for (let i = 0; i < 60; i++) {
      const o = origins()
      cases.push({
        kind: 'upgrade, bad Origin',
        data: upgradeRequest(port, `/api?token=${tok}`, [typeof o === 'string' ? `Origin: ${o}` : o]),
        ok: refused(400, 403, 431)
      })
    }
    const paths = (): string | Buffer =>
      pick([
        () => `//[?token=${tok}`,
        () => `/api%zz?token=${tok}`,
        () => `%zz`,
        () => `/%E0%A4%A?token=${tok}`,
        () => `/${'x'.repeat(1000 + rng.int(10000))}?token=${tok}`,
        () => `/api?token=${tok}&${'y'.repeat(20000)}`,
        () => Buffer.concat([Buffer.from('/api'), Buffer.from([0]), Buffer.from(`?token=${tok}`)]),
        () => `/api%00?token=${tok}`,
        () => `http://[/api?token=${tok}`,
        () => `//evil.example/api?token=${tok}`,
        () => `/${printable(1 + rng.int(60))}`
      ])()
    for (let i = 0; i < 60; i++) cases.push({ kind: 'upgrade, bad path', data: upgradeRequest(port, paths()), ok: refused(400, 401, 404, 431) })
    const badTokens = (): [string, string[]] =>
      pick([
        (): [string, string[]] => ['/api', []],
        (): [string, string[]] => ['/api?token=', []],
        (): [string, string[]] => [`/api?token=${printable(tok.length)}`, []],
        (): [string, string[]] => [`/api?token=${tok.slice(0, -1)}`, []],
        (): [string, string[]] => [`/api?token=${tok}x`, []],
        (): [string, string[]] => [`/api?token=%${printable(2)}`, []],
        (): [string, string[]] => ['/api', [`Cookie: quarterturn_token=${printable(20)}`]],
        (): [string, string[]] => ['/api', [`Cookie: ${printable(200)}`]]
      ])()
    for (let i = 0; i < 40; i++) {
      const [target, headers] = badTokens()
      cases.push({ kind: 'upgrade, bad or no token', data: upgradeRequest(port, target, headers), ok: refused(400, 401) })
    }
    for (let i = 0; i < 40; i++) {
      const target = pick([`//[`, '/%E0%A4%A', '/%zz', '/a%00b', `/${'z'.repeat(20000)}`, `/${printable(30)}`, '*', 'http://[/'])
      const method = pick(['GET', 'HEAD', 'POST', 'DELETE', 'BREW'])
      cases.push({
        kind: 'HTTP, bad request',
        data: Buffer.from(`${method} ${target}${target.startsWith('/') ? `?token=${tok}` : ''} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, 'latin1'),
        // 500 would be a handler that failed; an unknown method is refused by Node's parser.
        ok: (r) => r.status === null || [400, 401, 404, 405, 431].includes(r.status)
      })
    }
    for (let i = 0; i < 40; i++) cases.push({ kind: 'garbage bytes', data: bytes(1 + rng.int(512)), ok: (r) => r.status === null || r.status === 400 })
    for (let i = 0; i < 40; i++) {
      const whole = rng.int(2) ? upgradeRequest(port, `/api?token=${tok}`) : Buffer.from(`GET /?token=${tok} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`)
      cases.push({ kind: 'half-closed request', data: whole.subarray(0, 1 + rng.int(whole.length - 4)), ok: (r) => r.status === null || r.status === 400 })
    }
    for (let i = 0; i < 20; i++) {
      const good = rng.int(2) === 1
      cases.push({ kind: 'reset after handshake', data: upgradeRequest(port, `/api?token=${good ? tok : 'wrong'}`), after: 'reset', ok: () => true })
    }
    // Frames after a good handshake, in the same write: the host takes them as the socket's head.
    const frames = (): [string, Buffer] =>
      pick([
        (): [string, Buffer] => ['oversize', wsFrame(OP.binary, bytes(16), { declaredLength: MAX_FRAME + 1 + rng.int(1 << 20) })],
        (): [string, Buffer] => ['oversize', wsFrame(OP.text, Buffer.alloc(0), { declaredLength: 2 ** 40 })],
        (): [string, Buffer] => [
          'invalid UTF-8',
          wsFrame(OP.text, Buffer.from(pick([[0xff], [0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x7b, 0xf4, 0x90, 0x80, 0x80]])))
        ],
        (): [string, Buffer] => ['binary', wsFrame(OP.binary, bytes(1 + rng.int(300)))],
        (): [string, Buffer] => ['text', wsFrame(OP.text, Buffer.from(printable(1 + rng.int(200))))],
        (): [string, Buffer] => ['unmasked', wsFrame(OP.text, Buffer.from('{}'), { mask: false })],
        (): [string, Buffer] => ['reserved opcode or bits', wsFrame(pick([3, 7, 0xb, 0xf]), bytes(4))],
        (): [string, Buffer] => ['reserved opcode or bits', wsFrame(OP.text, Buffer.from('{}'), { rsv: 1 + rng.int(7) })],
        (): [string, Buffer] => ['bad control frame', wsFrame(OP.ping, bytes(126 + rng.int(100)))],
        (): [string, Buffer] => ['bad control frame', wsFrame(OP.close, bytes(1))],
        (): [string, Buffer] => ['bad control frame', wsFrame(OP.ping, bytes(4), { fin: false })],
        (): [string, Buffer] => ['stray continuation', wsFrame(OP.continuation, bytes(8))],
        (): [string, Buffer] => ['truncated', wsFrame(OP.binary, bytes(200)).subarray(0, 2 + rng.int(100))],
        (): [string, Buffer] => ['garbage', bytes(1 + rng.int(256))]
      ])()
    for (let i = 0; i < 80; i++) {
      const parts = [upgradeRequest(port, `/api?token=${tok}`)]
      for (let n = 1 + rng.int(3); n > 0; n--) {
        const [kind, frame] = frames()
        count(`raw frame: ${kind}`)
        parts.push(frame)
      }
      cases.push({ kind: 'raw upgrade + frames', data: Buffer.concat(parts), ok: (r) => r.status === 101 })
    }

    const answers: RawAnswer[] = []
    for (let i = 0; i < cases.length; i += 25) {
      const batch = cases.slice(i, i + 25)
      for (const c of batch) count(c.kind)
      answers.push(...(await Promise.all(batch.map((c) => rawExchange(port, c.data, { after: c.after ?? 'end' })))))
    }
    const wrong = cases.flatMap((c, i) => (answers[i]!.timedOut || !c.ok(answers[i]!) ? [`${c.kind}: ${answers[i]!.text.slice(0, 40) || '(closed)'}`] : []))
    expect(wrong).toEqual([])

    // The same through a real client: each oversize or invalid UTF-8 frame costs its socket.
    const signedIn = async (): Promise<WebSocket> => {
      const ws = await openWs(`?token=${tok}`)
      ws.on('error', () => undefined)
      return ws
    }
    for (let i = 0; i < 4; i++) {
      const ws = await signedIn()
      const closed = closeCode(ws)
      ws.send(Buffer.alloc(MAX_FRAME + 1 + rng.int(1024), 0x20), { binary: rng.int(2) === 0 })
      count('ws: oversize frame')
      expect(await within(closed, 'oversize frame')).toBe(1009)
    }
    for (let i = 0; i < 10; i++) {
      const ws = await signedIn()
      const closed = closeCode(ws)
      ws.send(Buffer.concat([Buffer.from('{"id":1,'), Buffer.from(pick([[0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80]]))]), { binary: false })
      count('ws: invalid UTF-8 text frame')
      expect(await within(closed, 'invalid UTF-8 frame')).toBe(1007)
    }
    const ws = await signedIn()
    const replies: Record<string, unknown>[] = []
    ws.on('message', (d) => replies.push(JSON.parse(String(d))))
    let expected = 0
    for (let i = 0; i < 30; i++) {
      ws.send(bytes(1 + rng.int(500)), { binary: true })
      count('ws: binary frame')
      expected++
    }
    for (let i = 0; i < 30; i++) {
      const frame = pick([
        () => ({ id: -1, name: 'settings.get', arg: {} }),
        () => ({ id: 1.5, name: 'settings.get' }),
        () => ({ id: 7, name: printable(12), arg: {} }),
        () => ({ id: 8, name: 'workspace.open', arg: { path: rng.int(100) } }),
        () => ({ id: 9, name: 'settings.update', arg: { theme: printable(5) } }),
        () => [1, 2, 3],
        () => null,
        () => printable(40)
      ])()
      ws.send(JSON.stringify(frame))
      count('ws: malformed request')
      expected++
    }
    await within(
      new Promise<void>((resolve) => {
        const check = (): void => (replies.length >= expected ? resolve() : void setTimeout(check, 10))
        check()
      }),
      'replies to malformed frames'
    )
    expect(replies.every((r) => (r.reply as { ok: boolean } | undefined)?.ok === false)).toBe(true)
    ws.close()

    console.log('web host fuzz, sent:', sent)
    expect(crashes).toEqual([])
    expect(logged).not.toHaveBeenCalled()
    const page = await fetch(web.url)
    expect(page.status).toBe(200)
    expect(await settingsGet()).toMatchObject({ id: 99, reply: { ok: true, value: { theme: 'system' } } })
  })
})
