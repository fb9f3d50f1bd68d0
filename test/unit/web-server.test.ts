// The headless web host over real HTTP and WebSocket on loopback.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { writeFileSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import WebSocket from 'ws'
import { createHeadlessHost } from '../../src-host/headless'
import { startWebHost, type WebHost } from '../../src-host/web/server'
import { cleanupTmp, tmpDir } from '../helpers/tmp'

let web: WebHost
let base: string

beforeEach(async () => {
  const staticDir = tmpDir()
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>')
  mkdirSync(path.join(staticDir, 'assets'))
  writeFileSync(path.join(staticDir, 'assets', 'a.js'), 'console.log(1)')
  writeFileSync(path.join(tmpDir(), 'secret.txt'), 'secret')
  const host = createHeadlessHost({ configDir: tmpDir(), defaultWorkspace: path.join(tmpDir(), 'ws') })
  web = await startWebHost({ host, staticDir, port: 0 })
  base = `http://127.0.0.1:${web.port}`
})
afterEach(async () => {
  await web.close()
  cleanupTmp()
})

function openWs(query: string, headers: Record<string, string> = {}): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${web.port}/api${query}`, { headers })
    ws.once('open', () => resolve(ws))
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)))
    ws.once('error', reject)
  })
}
function nextFrame(ws: WebSocket): Promise<Record<string, unknown>> {
  return new Promise((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)))))
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
