// Which host the app's windows drive: the host this process runs (the default), or a remote
// `quarterturn serve` chosen with `quarterturn-app --connect URL` (QUARTERTURN_CONNECT), or from the
// window's "Connect to a host…" form; the hosts connected to before, kept with their tokens in the
// app's own store (remote-hosts.json in userData). Tokens stay in this process: the renderer sees
// base URLs and labels only, and nothing here logs a token or a URL that carries one.
import { z } from 'zod'
import { parseRemoteTarget, type RemoteTarget } from '../src-host/remote/client'
import type { ConnectRequest, RecentHost } from '../src-shared/contract/channels'

/** The least of a store the recent hosts need (electron-store, or conf in tests). */
export interface HostStore {
  get(key: 'hosts'): unknown
  set(key: 'hosts', value: unknown): void
}

const StoredHostSchema = z.object({ base: z.string(), label: z.string(), token: z.string(), lastUsed: z.string() })
type StoredHost = z.infer<typeof StoredHostSchema>
const MAX_RECENT = 10

export class RecentHosts {
  constructor(private readonly store: HostStore) {}

  private all(): StoredHost[] {
    const parsed = z.array(StoredHostSchema).safeParse(this.store.get('hosts') ?? [])
    return parsed.success ? parsed.data : []
  }

  /** Newest first, without tokens. */
  list(): RecentHost[] {
    return this.all().map(({ base, label, lastUsed }) => ({ base, label, lastUsed }))
  }

  remember(t: RemoteTarget, now = new Date()): void {
    const rest = this.all().filter((h) => h.base !== t.base)
    this.store.set('hosts', [{ base: t.base, label: t.label, token: t.token, lastUsed: now.toISOString() }, ...rest].slice(0, MAX_RECENT))
  }

  forget(base: string): void {
    this.store.set(
      'hosts',
      this.all().filter((h) => h.base !== base)
    )
  }

  /** The stored target of a recent host, or null. */
  target(base: string): RemoteTarget | null {
    const h = this.all().find((x) => x.base === base)
    return h ? parseRemoteTarget(h.base, h.token) : null
  }
}

/**
 * The host the app was asked to connect to at launch: `--connect URL` or `--connect=URL` among the
 * arguments, else $QUARTERTURN_CONNECT; the token in the URL's ?token= or $QUARTERTURN_TOKEN.
 * Null when neither is given.
 */
export function connectArgument(argv: readonly string[], env: NodeJS.ProcessEnv): { url: string; token?: string } | null {
  let url: string | undefined
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!
    if (a === '--connect' && argv[i + 1] !== undefined) url = argv[i + 1]
    else if (a.startsWith('--connect=')) url = a.slice('--connect='.length)
  }
  url ||= env.QUARTERTURN_CONNECT || undefined
  if (!url) return null
  return { url, ...(env.QUARTERTURN_TOKEN ? { token: env.QUARTERTURN_TOKEN } : {}) }
}

const ConnectRequestSchema = z.union([
  z.object({ url: z.string().min(1, 'a host URL is required').max(2000), token: z.string().max(500).optional() }).strict(),
  z.object({ base: z.string().min(1).max(2000) }).strict(),
  z.object({ local: z.literal(true) }).strict()
])

/** A renderer's connect request, checked: anything else is refused with a message. */
export function parseConnectRequest(arg: unknown): { ok: true; request: ConnectRequest } | { ok: false; message: string } {
  const parsed = ConnectRequestSchema.safeParse(arg)
  return parsed.success ? { ok: true, request: parsed.data } : { ok: false, message: 'Give a host URL (and its token), a recent host, or this machine.' }
}
