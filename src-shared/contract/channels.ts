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
