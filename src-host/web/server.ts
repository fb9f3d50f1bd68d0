// The headless web host: serves the built renderer and the contract over one WebSocket, on
// loopback by default, guarded by a random token. Same Host as the Electron shell.
import http from 'node:http'
import { constants as fsConstants, promises as fs } from 'node:fs'
import path from 'node:path'
import { randomBytes, timingSafeEqual } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import { WebSocketServer, type WebSocket } from 'ws'
import { TOKEN_COOKIE, TOKEN_PARAM, WS_PATH, WsClientFrameSchema, type Envelope, type WsHostFrame } from '../../src-shared/contract'
import type { Host } from '../host'

export interface WebHostOptions {
  host: Host
  /** Folder of the built renderer (index.html + assets). */
  staticDir: string
  /** 0 picks a free port. */
  port?: number
  /** Interface to bind; loopback unless the user widens it on purpose. */
  bindHost?: string
  /** The token to require: `serve` passes the one kept for the workspace (./token.ts); default: 32 random bytes. */
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
  wss.on('error', (err) => console.error('[web] WebSocket server error:', err))

  const server = http.createServer((req, res) => {
    void serveHttp(req, res).catch((err) => {
      console.error('[web] request failed:', err)
      if (!res.headersSent) res.writeHead(500)
      res.end()
    })
  })
  // Node routes errors of request sockets here (malformed HTTP, resets); a listener replaces its
  // default, so answer what can still be answered and drop the rest.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy()
      return
    }
    refuseSocket(socket, err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request')
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

  /** The file under the static root that `rel` names, or null where it does not exist or lies outside. */
  async function readStatic(rel: string): Promise<Buffer | null> {
    const file = path.resolve(staticRoot, rel)
    if (!isInside(staticRoot, file)) return null
    // Symlinks are resolved rather than refused: what must stay inside the root is the file whose
    // bytes are sent, and the root itself may legitimately sit behind a link (a linked build folder,
    // macOS /tmp). Refusing every link would break those without closing more than this does. The
    // resolved path is what gets opened, with O_NOFOLLOW so its last component cannot be swapped for
    // a link after the check.
    const [realRoot, realFile] = await Promise.all([fs.realpath(staticRoot), fs.realpath(file)].map((p) => p.catch(() => null)))
    if (!realRoot || !realFile || !isInside(realRoot, realFile)) return null
    const fh = await fs.open(realFile, fsConstants.O_RDONLY | (fsConstants.O_NOFOLLOW ?? 0)).catch(() => null)
    if (!fh) return null
    try {
      return await fh.readFile()
    } catch {
      return null // a folder, or gone since
    } finally {
      await fh.close()
    }
  }

  async function serveHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const headers = {
      'Content-Security-Policy': WEB_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-store'
    }
    const badRequest = (): void => {
      res.writeHead(400, { ...headers, 'Content-Type': 'text/plain' }).end('Bad request.\n')
    }
    if (!hostHeaderOk(req.headers.host)) {
      res.writeHead(421, { ...headers, 'Content-Type': 'text/plain' }).end('Unexpected Host header.\n')
      return
    }
    const url = requestUrl(req.url)
    if (!url) return badRequest()
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
    const rel = url.pathname === '/' ? 'index.html' : decodePath(url.pathname.slice(1))
    if (rel === null) return badRequest()
    const body = await readStatic(rel)
    if (!body) {
      res.writeHead(404, { ...headers, 'Content-Type': 'text/plain' }).end('Not found.\n')
      return
    }
    res.writeHead(200, { ...headers, 'Content-Type': TYPES[path.extname(rel)] ?? 'application/octet-stream', 'Set-Cookie': cookie })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    // Node takes its own error listener off a socket it hands to 'upgrade': without this one, a
    // client that resets mid-handshake would throw out of the process.
    socket.on('error', () => socket.destroy())
    const refuse = (status: string): void => refuseSocket(socket, status)
    const url = requestUrl(req.url)
    if (!url) return refuse('400 Bad Request')
    if (url.pathname !== WS_PATH) return refuse('404 Not Found')
    if (!hostHeaderOk(req.headers.host)) return refuse('421 Misdirected Request')
    // A page from another origin must not drive the host with the user's cookie. A sandboxed
    // frame sends `Origin: null`, which names no origin at all and is refused like a foreign one.
    const origin = req.headers.origin
    if (origin !== undefined && parseUrl(origin)?.host !== req.headers.host) return refuse('403 Forbidden')
    if (!tokenOk(url, req.headers.cookie)) return refuse('401 Unauthorized')
    wss.handleUpgrade(req, socket, head, (ws) => attach(ws))
  })

  function attach(ws: WebSocket): void {
    const send = (frame: WsHostFrame): void => {
      if (ws.readyState !== ws.OPEN) return
      try {
        ws.send(JSON.stringify(frame))
      } catch (err) {
        console.error('[web] could not send a frame:', err)
      }
    }
    // Protocol errors (an oversize frame, invalid UTF-8) are the client's: ws closes the socket
    // with the matching close code, and the host has nothing to log. Without a listener the
    // 'error' event would be thrown.
    ws.on('error', () => undefined)
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
      void answer(name, arg).then((reply) => send({ id, reply }))
    })
  }

  /** host.dispatch turned into an envelope whatever it does: it must never leave a rejection unhandled. */
  async function answer(name: string, arg: unknown): Promise<Envelope> {
    try {
      return await opts.host.dispatch(name, arg)
    } catch (err) {
      console.error(`[web] ${name} failed:`, err)
      return { ok: false, error: { code: 'internal', message: `Internal error in ${name}.` } }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, bindHost, () => {
      server.off('error', reject)
      resolve()
    })
  })
  // An error after listening (e.g. too many open files on accept) is logged, not thrown.
  server.on('error', (err) => console.error('[web] server error:', err))
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

/** The one guarded URL parse of the host: null where `new URL` would throw. */
function parseUrl(input: string, base?: string): URL | null {
  try {
    return new URL(input, base)
  } catch {
    return null
  }
}

/**
 * A request target as a URL on this host, or null. Only origin-form targets ('/…') are served; the
 * target is appended to a fixed origin rather than resolved against it, so '//x/api' stays a path
 * instead of naming a host.
 */
function requestUrl(target: string | undefined): URL | null {
  return target?.startsWith('/') ? parseUrl(`http://localhost${target}`) : null
}

/** A percent-decoded path, or null for a malformed escape or a NUL (no file name holds one). */
function decodePath(p: string): string | null {
  try {
    const d = decodeURIComponent(p)
    return d.includes('\0') ? null : d
  } catch {
    return null
  }
}

function isInside(root: string, p: string): boolean {
  const r = path.relative(root, p)
  return r === '' || (r !== '..' && !r.startsWith('..' + path.sep) && !path.isAbsolute(r))
}

/** Answer a raw socket with a bare status and close it once the answer is written. */
function refuseSocket(socket: Duplex, status: string): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  socket.once('finish', () => socket.destroy())
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
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
