// A client of a remote Quarterturn host (`quarterturn serve`, often reached through `ssh -L`):
// the whole contract over the web host's WebSocket, in Node. The CLI's `--host` and the desktop
// app's remote windows both use it, so a command or a window works the same against it as
// against the in-process Host. Built on `ws` (the library the web host serves with): unlike
// Node's global WebSocket it reports the HTTP status of a refused upgrade, which is how a wrong
// token (401) is told apart from a host that is down.
import WebSocket from 'ws'
import {
  EnvelopeSchema,
  TOKEN_PARAM,
  WS_PATH,
  WsHostFrameSchema,
  events,
  isEventName,
  requests,
  type Envelope,
  type EventName,
  type EventPayload,
  type RequestArg,
  type RequestName,
  type RequestResult
} from '../../src-shared/contract'
import type { RunSummary } from '../../src-shared/contract/runs'
import { ServiceError } from '../errors'

/** `unauthorized`: the host is up and refuses the token; retrying cannot help. */
export type RemoteState = 'connecting' | 'open' | 'closed' | 'unauthorized'

export interface RemoteTarget {
  /** http(s)://host:port, without the token: safe to show and to log. */
  base: string
  /** host:port, for badges and messages. */
  label: string
  token: string
  /** The WebSocket URL, token included: never log it. */
  wsUrl: string
}

/**
 * A host URL and token as the user gives them: `http://127.0.0.1:7878/?token=…` (the URL `serve`
 * prints), or the URL without it and the token apart. ws:// and wss:// are taken too.
 * Throws a ServiceError (invalid-argument) naming what is wrong.
 */
export function parseRemoteTarget(input: string, token?: string | null): RemoteTarget {
  let url: URL
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(input.trim()) ? input.trim() : `http://${input.trim()}`)
  } catch {
    throw new ServiceError(
      `"${input}" is not a host URL: give one like http://127.0.0.1:7878/?token=… (the URL \`quarterturn serve\` prints).`,
      'invalid-argument'
    )
  }
  const scheme = { 'http:': 'http', 'https:': 'https', 'ws:': 'http', 'wss:': 'https' }[url.protocol]
  if (!scheme) throw new ServiceError(`"${input}" is not an http(s) URL: give one like http://127.0.0.1:7878/?token=…`, 'invalid-argument')
  const given = token?.trim() || url.searchParams.get(TOKEN_PARAM) || ''
  if (!given) {
    throw new ServiceError(
      `No access token for ${url.host}: give the whole URL \`quarterturn serve\` printed (it ends in ?token=…), or the token apart (--token, QUARTERTURN_TOKEN).`,
      'invalid-argument'
    )
  }
  const port = url.port || (scheme === 'https' ? '443' : '80')
  const base = `${scheme}://${url.host}`
  return {
    base,
    // URL keeps an IPv6 hostname in brackets already ([::1]).
    label: `${url.hostname}:${port}`,
    token: given,
    wsUrl: `${scheme === 'https' ? 'wss' : 'ws'}://${url.host}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(given)}`
  }
}

export interface RemoteHostOptions {
  /** Reconnect with backoff after a drop (the app's windows); without it a drop is final (the CLI). */
  reconnect?: boolean
  /** Backoff bounds, ms (the browser transport's: 250 doubling to 5000). */
  minBackoffMs?: number
  maxBackoffMs?: number
  /** Give up on the first connection after this long (default 10 s). */
  connectTimeoutMs?: number
}

type EventListener = <E extends EventName>(name: E, payload: EventPayload<E>) => void

/**
 * The contract over one WebSocket: `dispatch` (an Envelope, never a throw, as Host.dispatch),
 * typed `call`, pushed events, and the connection's state. Calls made while (re)connecting wait
 * for the socket; a drop answers every call in flight with a `failed` envelope saying so.
 */
export class RemoteHost {
  state: RemoteState = 'connecting'
  /** Why the last connection attempt failed, in words (null while none has). */
  lastError: string | null = null
  private socket: WebSocket | null = null
  private nextId = 1
  private backoff: number
  private closedByUser = false
  private timer: ReturnType<typeof setTimeout> | null = null
  private readonly pending = new Map<number, (e: Envelope) => void>()
  private readonly queue: string[] = []
  private readonly eventListeners = new Set<EventListener>()
  private readonly stateListeners = new Set<(s: RemoteState) => void>()

  constructor(
    readonly target: RemoteTarget,
    private readonly opts: RemoteHostOptions = {}
  ) {
    this.backoff = opts.minBackoffMs ?? 250
    this.connect()
  }

  /** Resolves once connected; rejects (ServiceError) when the token is refused, or, without reconnect, when the host cannot be reached. */
  ready(): Promise<void> {
    if (this.state === 'open') return Promise.resolve()
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => {
        off()
        reject(new ServiceError(this.unreachable(), 'failed'))
      }, this.opts.connectTimeoutMs ?? 10_000)
      const off = this.onState((s) => {
        if (s === 'open') {
          clearTimeout(timeout)
          off()
          resolve()
        } else if (s === 'unauthorized') {
          clearTimeout(timeout)
          off()
          reject(new ServiceError(this.refusedMessage(), 'unauthorized'))
        } else if (s === 'closed' && !this.opts.reconnect) {
          clearTimeout(timeout)
          off()
          reject(new ServiceError(this.unreachable(), 'failed'))
        }
      })
      if (this.state === 'unauthorized') this.setState('unauthorized')
      else if (this.state === 'closed' && !this.opts.reconnect) this.setState('closed')
    })
  }

  private unreachable(): string {
    return `Cannot reach the Quarterturn host at ${this.target.base}${this.lastError ? ` (${this.lastError})` : ''}. Is \`quarterturn serve\` running there, and the ssh tunnel (ssh -L) open?`
  }

  private refusedMessage(): string {
    return `The Quarterturn host at ${this.target.base} refused the access token. Use the token in the URL \`quarterturn serve\` printed there (it changes with --new-token).`
  }

  private setState(s: RemoteState): void {
    this.state = s
    for (const l of [...this.stateListeners]) l(s)
  }

  private connect(): void {
    this.timer = null
    this.setState('connecting')
    const ws = new WebSocket(this.target.wsUrl, { handshakeTimeout: this.opts.connectTimeoutMs ?? 10_000, maxPayload: 64 * 1024 * 1024 })
    this.socket = ws
    let refused = false
    ws.on('open', () => {
      this.backoff = this.opts.minBackoffMs ?? 250
      this.lastError = null
      this.setState('open')
      for (const f of this.queue.splice(0)) ws.send(f)
    })
    ws.on('unexpected-response', (_req, res) => {
      // 401: the token; anything else (403 from an Origin check, 421 from the Host check, 404): say what the host answered.
      refused = res.statusCode === 401
      this.lastError = `HTTP ${res.statusCode} ${res.statusMessage ?? ''}`.trim()
      res.resume()
      ws.terminate()
    })
    ws.on('error', (err: NodeJS.ErrnoException) => {
      this.lastError = err.code ?? err.message
    })
    ws.on('message', (data) => this.onFrame(String(data)))
    ws.on('close', () => {
      if (this.socket === ws) this.socket = null
      for (const [id, resolve] of this.pending) {
        resolve({
          ok: false,
          error: { code: 'failed', message: `Lost the connection to the Quarterturn host at ${this.target.base}; retry when it is back.` }
        })
        this.pending.delete(id)
      }
      if (refused) {
        this.queue.length = 0
        return this.setState('unauthorized')
      }
      this.setState('closed')
      if (this.closedByUser || !this.opts.reconnect) {
        this.queue.length = 0
        return
      }
      this.timer = setTimeout(() => this.connect(), this.backoff)
      this.backoff = Math.min(this.backoff * 2, this.opts.maxBackoffMs ?? 5000)
    })
  }

  private onFrame(text: string): void {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return
    }
    const parsed = WsHostFrameSchema.safeParse(json)
    if (!parsed.success) return
    const frame = parsed.data
    if ('reply' in frame) {
      if (frame.id === null) return
      this.pending.get(frame.id)?.(frame.reply)
      this.pending.delete(frame.id)
      return
    }
    if (!isEventName(frame.event)) return
    const payload = events[frame.event].safeParse(frame.payload)
    if (!payload.success) return
    for (const l of [...this.eventListeners]) l(frame.event, payload.data as never)
  }

  /** One request as an Envelope, like Host.dispatch: a failed envelope when the connection is gone. */
  dispatch(name: unknown, arg: unknown): Promise<Envelope> {
    if (typeof name !== 'string') return Promise.resolve({ ok: false, error: { code: 'unknown-request', message: `Unknown request ${JSON.stringify(name)}.` } })
    if (this.state === 'unauthorized') return Promise.resolve({ ok: false, error: { code: 'unauthorized', message: this.refusedMessage() } })
    if (this.closedByUser || (this.state === 'closed' && !this.opts.reconnect)) {
      return Promise.resolve({ ok: false, error: { code: 'failed', message: `Not connected to the Quarterturn host at ${this.target.base}.` } })
    }
    const id = this.nextId++
    const frame = JSON.stringify({ id, name, arg: arg ?? {} })
    return new Promise<Envelope>((resolve) => {
      this.pending.set(id, resolve)
      if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(frame)
      else this.queue.push(frame)
    })
  }

  /** Typed call: the result checked against the contract; an error envelope thrown as a ServiceError. */
  async call<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<RequestResult<K>> {
    const env = EnvelopeSchema.parse(await this.dispatch(name, arg))
    if (!env.ok) throw new ServiceError(env.error.message, env.error.code)
    return requests[name].result.parse(env.value) as RequestResult<K>
  }

  onEvent(listener: EventListener): () => void {
    this.eventListeners.add(listener)
    return () => void this.eventListeners.delete(listener)
  }

  onState(listener: (s: RemoteState) => void): () => void {
    this.stateListeners.add(listener)
    return () => void this.stateListeners.delete(listener)
  }

  /**
   * The run once it is no longer queued or running, as RunsService.waitSettled; rejects when the
   * connection drops for good (the run goes on on the host).
   */
  waitSettled(id: string): Promise<RunSummary> {
    return new Promise((resolve, reject) => {
      const settled = (r: RunSummary): boolean => !['queued', 'running'].includes(r.status.state)
      const done = (): void => {
        offEvent()
        offState()
      }
      const offEvent = this.onEvent((name, payload) => {
        if (name !== 'runs.changed') return
        const r = payload as RunSummary
        if (r.id === id && settled(r)) {
          done()
          resolve(r)
        }
      })
      const offState = this.onState((s) => {
        if (s === 'unauthorized' || (s === 'closed' && !this.opts.reconnect)) {
          done()
          reject(
            new ServiceError(
              `Lost the connection to the Quarterturn host at ${this.target.base} while run ${id} was going; it goes on there. See it with: quarterturn --host ${this.target.base} show ${id}`
            )
          )
        } else if (s === 'open') {
          // Back after a drop: what was pushed meanwhile was lost, so ask.
          void this.call('runs.get', { id }).then(
            (r) => settled(r) && (done(), resolve(r)),
            () => {}
          )
        }
      })
      void this.call('runs.get', { id }).then(
        (r) => {
          if (settled(r)) {
            done()
            resolve(r)
          }
        },
        (err: unknown) => {
          done()
          reject(err instanceof Error ? err : new Error(String(err)))
        }
      )
    })
  }

  /** Close for good: no reconnect; calls after this fail. */
  close(): void {
    this.closedByUser = true
    if (this.timer) clearTimeout(this.timer)
    this.socket?.close()
    this.socket = null
  }
}
