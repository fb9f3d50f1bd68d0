// Transport-level names of the one contract. Imported by the preload (which must stay tiny and
// dependency-free so it can run sandboxed) and by everything else through ./index.ts.

/** Electron IPC channel carrying every request: (name, arg) -> Envelope. */
export const IPC_INVOKE = 'quarterturn:invoke'
/** Electron IPC channel carrying every pushed event: (name, payload). */
export const IPC_EVENT = 'quarterturn:event'
/** Name under which the preload exposes the bridge on `window`. */
export const BRIDGE_KEY = 'quarterturnBridge'
/** WebSocket path of the headless web host. */
export const WS_PATH = '/api'
/** Query parameter / cookie carrying the web host's access token. */
export const TOKEN_PARAM = 'token'
export const TOKEN_COOKIE = 'quarterturn_token'

/**
 * What a renderer needs from a transport (the preload bridge or the WebSocket client).
 * `invoke` resolves to an Envelope; the typed api in the renderer unwraps and validates it.
 */
export interface Transport {
  invoke(name: string, arg: unknown): Promise<unknown>
  subscribe(listener: (name: string, payload: unknown) => void): () => void
}

/**
 * Electron IPC channel of a window's connection, apart from the contract because it is the
 * shell's business, not the host's: which host the window drives (this machine's, or a remote
 * `quarterturn serve`), and opening a window on another. (op, arg) -> result; see ConnectionBridge.
 */
export const IPC_CONNECTION = 'quarterturn:connection'
/** Electron IPC channel pushing a window's ConnectionInfo whenever it changes. */
export const IPC_CONNECTION_CHANGED = 'quarterturn:connection-changed'

/** `unauthorized`: the host is up but refuses the token (rotated with --new-token); retrying cannot help. */
export type ConnectionState = 'connecting' | 'open' | 'closed' | 'unauthorized'

/** Which host a window drives. `web`: a browser tab of a web host (never sent by the app). */
export interface ConnectionInfo {
  mode: 'local' | 'remote' | 'web'
  /** host:port of a remote host (or of the web host serving a tab); null for this machine. */
  label: string | null
  /** http(s)://host:port of a remote host, without its token; null for this machine. */
  base: string | null
  state: ConnectionState
  /** Why the last attempt to connect failed, in words; null while none has. */
  error: string | null
}

/** A host connected to before (its token stays in the main process). */
export interface RecentHost {
  base: string
  label: string
  lastUsed: string
}

export type ConnectRequest = { url: string; token?: string } | { base: string } | { local: true }

/** What the preload exposes for the window's connection (inside the app only). */
export interface ConnectionBridge {
  info(): Promise<ConnectionInfo>
  recent(): Promise<RecentHost[]>
  /** Open a window on that host (a URL with its token, a recent host, or this machine). */
  open(request: ConnectRequest): Promise<{ ok: true } | { ok: false; message: string }>
  forget(base: string): Promise<void>
  subscribe(listener: (info: ConnectionInfo) => void): () => void
}

/** The preload's bridge: the contract's transport, and the window's connection. */
export interface AppBridge extends Transport {
  connection: ConnectionBridge
}
