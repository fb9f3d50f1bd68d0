// Which host this window drives, in words: the header badge ("local", or "remote: host:port" with
// the connection's state), where a path lives ("on the host at …"), and whether this machine's
// own folders and dialogs mean anything here (only on the local host). Pure, so tests check it.
import type { ConnectionInfo, ConnectionState } from '../../../src-shared/contract/channels'

export const LOCAL_INFO: ConnectionInfo = { mode: 'local', label: null, base: null, state: 'open', error: null }

/** A browser tab: the host is the web host that served the page. */
export function browserInfo(location: { host: string; origin: string }, state: ConnectionState): ConnectionInfo {
  return { mode: 'web', label: location.host, base: location.origin, state, error: null }
}

const STATE_WORDS: Record<ConnectionState, string> = {
  open: 'connected',
  connecting: 'connecting…',
  closed: 'connection lost, reconnecting…',
  unauthorized: 'token refused'
}

export interface Badge {
  text: string
  /** The longer sentence, for the tooltip and screen readers. */
  title: string
  tone: 'local' | 'remote' | 'problem'
}

export function badgeOf(info: ConnectionInfo): Badge {
  if (info.mode === 'local') return { text: 'local', title: "This window drives this machine's Quarterturn host.", tone: 'local' }
  const who = info.mode === 'remote' ? `remote: ${info.label}` : `host: ${info.label}`
  const problem = info.state !== 'open'
  return {
    text: problem ? `${who} · ${STATE_WORDS[info.state]}` : who,
    title: `This window drives the Quarterturn host at ${info.base} (${STATE_WORDS[info.state]})${info.error && problem ? `: ${info.error}` : ''}. Paths, backends and runs are that machine's.`,
    tone: problem ? 'problem' : 'remote'
  }
}

/** Whether this machine's folders and native dialogs apply: only when the window drives the local host. */
export function usesLocalPaths(info: ConnectionInfo, electron: boolean): boolean {
  return electron && info.mode === 'local'
}

/** "" on the local host, else " on the host at host:port": appended to where a path or probe is. */
export function whereSuffix(info: ConnectionInfo): string {
  return info.mode === 'local' ? '' : ` on the host at ${info.label}`
}

/** The "Connect to a host…" form's first check (the app checks again, and the host has the last word). */
export function checkHostInput(url: string, token: string): string | null {
  const u = url.trim()
  if (!u) return 'Give the URL `quarterturn serve` printed, e.g. http://127.0.0.1:7878/?token=…'
  let parsed: URL
  try {
    parsed = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(u) ? u : `http://${u}`)
  } catch {
    return `"${u}" is not a URL: give one like http://127.0.0.1:7878/?token=…`
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(parsed.protocol)) return `"${u}" is not an http(s) URL.`
  if (!parsed.searchParams.get('token') && !token.trim())
    return 'Give the access token too: the URL serve printed ends in ?token=…, or paste the token in its field.'
  return null
}
