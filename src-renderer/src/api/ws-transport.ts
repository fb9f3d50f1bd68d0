// WebSocket transport for the headless web host: one socket, request ids, reconnect with
// backoff, calls queued while (re)connecting and rejected if the socket drops under them.
import { TOKEN_PARAM, WS_PATH, WsHostFrameSchema, type Envelope } from '../../../src-shared/contract'
import type { Transport } from '../../../src-shared/contract/channels'

/** `unauthorized`: the host is up but refuses this tab's token (rotated with --new-token); retrying cannot help. */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'unauthorized'

export interface WsTransport extends Transport {
  onState(listener: (s: ConnectionState) => void): () => void
}

/** Reads the token from the page URL once, keeps it for this tab, and hides it from the address bar. */
export function takeToken(): string {
  const url = new URL(window.location.href)
  const fromUrl = url.searchParams.get(TOKEN_PARAM)
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_PARAM, fromUrl)
    url.searchParams.delete(TOKEN_PARAM)
    window.history.replaceState(null, '', url.pathname + url.search + url.hash)
    return fromUrl
  }
  return sessionStorage.getItem(TOKEN_PARAM) ?? ''
}

export function createWsTransport(token: string): WsTransport {
  const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws'
  const url = `${scheme}://${window.location.host}${WS_PATH}?${TOKEN_PARAM}=${encodeURIComponent(token)}`
  let socket: WebSocket | null = null
  let nextId = 1
  let backoff = 250
  const pending = new Map<number, { resolve: (e: Envelope) => void; frame: string }>()
  const queue: string[] = []
  const eventListeners = new Set<(name: string, payload: unknown) => void>()
  const stateListeners = new Set<(s: ConnectionState) => void>()
  const setState = (s: ConnectionState): void => stateListeners.forEach((l) => l(s))

  /**
   * A refused WebSocket upgrade looks like any dropped connection; a plain request with the token
   * tells them apart: 401 means the host is up and the token is no longer its own.
   */
  async function tokenRefused(): Promise<boolean> {
    try {
      const res = await fetch(`/?${TOKEN_PARAM}=${encodeURIComponent(token)}`, { method: 'HEAD', cache: 'no-store', credentials: 'omit' })
      return res.status === 401
    } catch {
      return false // the host is down: keep retrying
    }
  }

  function connect(): void {
    setState('connecting')
    const ws = new WebSocket(url)
    socket = ws
    ws.onopen = () => {
      backoff = 250
      setState('open')
      for (const f of queue.splice(0)) ws.send(f)
    }
    ws.onmessage = (msg) => {
      const parsed = WsHostFrameSchema.safeParse(JSON.parse(String(msg.data)))
      if (!parsed.success) return
      const frame = parsed.data
      if ('reply' in frame) {
        if (frame.id === null) return
        pending.get(frame.id)?.resolve(frame.reply)
        pending.delete(frame.id)
      } else {
        eventListeners.forEach((l) => l(frame.event, frame.payload))
      }
    }
    ws.onclose = () => {
      socket = null
      setState('closed')
      for (const [id, p] of pending) {
        p.resolve({ ok: false, error: { code: 'failed', message: 'Lost the connection to the Quarterturn host; retry when it is back.' } })
        pending.delete(id)
      }
      void tokenRefused().then((refused) => {
        if (refused) return setState('unauthorized')
        setTimeout(connect, backoff)
        backoff = Math.min(backoff * 2, 5000)
      })
    }
  }
  connect()

  return {
    invoke(name, arg) {
      const id = nextId++
      const frame = JSON.stringify({ id, name, arg: arg ?? {} })
      return new Promise<Envelope>((resolve) => {
        pending.set(id, { resolve, frame })
        if (socket?.readyState === WebSocket.OPEN) socket.send(frame)
        else queue.push(frame)
      })
    },
    subscribe(listener) {
      eventListeners.add(listener)
      return () => eventListeners.delete(listener)
    },
    onState(listener) {
      stateListeners.add(listener)
      return () => stateListeners.delete(listener)
    }
  }
}
