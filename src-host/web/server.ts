// The headless web host: serves the built renderer and the contract over one WebSocket, on
// loopback by default, guarded by a random token. Same Host as the Electron shell.
import http from 'node:http'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { WebSocketServer, type WebSocket } from 'ws'
import { TOKEN_COOKIE, TOKEN_PARAM, WS_PATH, WsClientFrameSchema, type WsHostFrame } from '../../src-shared/contract'
import type { Host } from '../host'

export interface WebHostOptions {
  host: Host
  /** Folder of the built renderer (index.html + assets). */
  staticDir: string
  /** 0 picks a free port. */
  port?: number
  /** Interface to bind; loopback unless the user widens it on purpose. */
  bindHost?: string
  /** Fixed token (tests); default: 32 random bytes. */
  token?: string
}

export interface WebHost {
  url: string
  port: number
  token: string
  close(): Promise<void>
}

/** Content-Security-Policy of every page the web host serves. */
export const WEB_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'"
].join('; ')

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm'
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost'])
const MAX_FRAME_BYTES = 4 * 1024 * 1024

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? randomBytes(32).toString('base64url')
  const bindHost = opts.bindHost ?? '127.0.0.1'
  const staticRoot = path.resolve(opts.staticDir)
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES })

  const server = http.createServer((req, res) => {
    void serveHttp(req, res).catch((err) => {
      console.error('[web] request failed:', err)
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })

  function tokenOk(url: URL, cookieHeader: string | undefined): boolean {
    const given = url.searchParams.get(TOKEN_PARAM) ?? readCookie(cookieHeader, TOKEN_COOKIE)
    return given !== null && safeEqual(given, token)
  }

  /** DNS-rebinding guard: on loopback, only loopback Host headers are accepted. */
  function hostHeaderOk(h: string | undefined): boolean {
    if (!LOOPBACK.has(bindHost)) return true
    if (!h) return false
    const name = h.startsWith('[') ? h.slice(1, h.indexOf(']')) : h.split(':')[0]!
    return LOOPBACK.has(name)
  }

  async function serveHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const headers = {
      'Content-Security-Policy': WEB_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-store'
    }
    if (!hostHeaderOk(req.headers.host)) {
      res.writeHead(421, { ...headers, 'Content-Type': 'text/plain' }).end('Unexpected Host header.\n')
      return
    }
    if (!tokenOk(url, req.headers.cookie)) {
      res
        .writeHead(401, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' })
        .end('Quarterturn: missing or wrong access token. Open the full URL printed by `quarterturn serve`.\n')
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, headers).end()
      return
    }
    const cookie = `${TOKEN_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/`
    const rel = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1))
    const file = path.resolve(staticRoot, rel)
    if (file !== staticRoot && !file.startsWith(staticRoot + path.sep)) {
      res.writeHead(404, headers).end()
      return
    }
    const body = await fs.readFile(file).catch(() => null)
    if (!body) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('Not found.\n')
      return
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Set-Cookie': cookie })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const refuse = (status: string): void => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    if (url.pathname !== WS_PATH) return refuse('404 Not Found')
    if (!hostHeaderOk(req.headers.host)) return refuse('421 Misdirected Request')
    // A page from another origin must not drive the host with the user's cookie.
    const origin = req.headers.origin
    if (origin && new URL(origin).host !== req.headers.host) return refuse('403 Forbidden')
    if (!tokenOk(url, req.headers.cookie)) return refuse('401 Unauthorized')
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws))
  })

  function attach(ws: WebSocket): void {
    const send = (frame: WsHostFrame): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(frame))
    }
    const off = opts.host.onEvent((event, payload) => send({ event, payload }))
    ws.on('close', off)
    ws.on('message', (data) => {
      let frame
      try {
        frame = WsClientFrameSchema.safeParse(JSON.parse(String(data)))
      } catch {
        frame = null
      }
      if (!frame?.success) {
        send({ id: null, reply: { ok: false, error: { code: 'invalid-argument', message: 'Malformed frame: expected {id, name, arg} JSON.' } } })
        return
      }
      const { id, name, arg } = frame.data
      void opts.host.dispatch(name, arg).then((reply) => send({ id, reply }))
    })
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, bindHost, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  const shownHost = bindHost.includes(':') ? `[${bindHost}]` : bindHost
  return {
    url: `http://${shownHost}:${port}/?${TOKEN_PARAM}=${token}`,
    port,
    token,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      wss.close()
      server.closeAllConnections()
      await new Promise<void>((r) => server.close(() => r()))
    }
  }
}

function readCookie(header: string | undefined, name: string): string | null {
  if (!header) return null
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=')
    if (k === name) return v.join('=')
  }
  return null
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
