// Typed api over any Transport. The rest of the renderer uses only this: it cannot tell
// whether it runs in Electron (preload bridge) or a browser (WebSocket).
import {
  ApiError,
  EnvelopeSchema,
  events,
  isEventName,
  requests,
  type EventName,
  type EventPayload,
  type RequestArg,
  type RequestName,
  type RequestResult
} from '../../../src-shared/contract'
import type { Transport } from '../../../src-shared/contract/channels'

export interface Api {
  call<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<RequestResult<K>>
  on<E extends EventName>(name: E, listener: (payload: EventPayload<E>) => void): () => void
}

export function createApi(transport: Transport): Api {
  const listeners = new Map<EventName, Set<(p: unknown) => void>>()
  transport.subscribe((name, payload) => {
    if (!isEventName(name)) return
    const parsed = events[name].safeParse(payload)
    if (!parsed.success) {
      console.warn(`[api] dropped malformed ${name} event`, parsed.error)
      return
    }
    for (const l of listeners.get(name) ?? []) l(parsed.data)
  })
  return {
    async call(name, arg) {
      const env = EnvelopeSchema.parse(await transport.invoke(name, arg))
      if (!env.ok) throw new ApiError(env.error)
      return requests[name].result.parse(env.value) as RequestResult<typeof name>
    },
    on(name, listener) {
      const set = listeners.get(name) ?? new Set()
      listeners.set(name, set)
      const l = listener as (p: unknown) => void
      set.add(l)
      return () => set.delete(l)
    }
  }
}
