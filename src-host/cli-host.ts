// What the run commands of the CLI need from a host, and its two makers: the in-process Host on
// this machine's workspace, or a remote host (`--host URL --token T`) reached over the contract's
// WebSocket. The commands are written once against this seam; none of them asks which it has,
// except to word where things are (a path on the host, not here).
import type { EventName, EventPayload, RequestArg, RequestName, RequestResult } from '../src-shared/contract'
import type { RunSummary } from '../src-shared/contract/runs'
import type { Host } from './host'
import { RemoteHost, parseRemoteTarget } from './remote/client'

export interface CliHost {
  call<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<RequestResult<K>>
  onEvent(listener: <E extends EventName>(name: E, payload: EventPayload<E>) => void): () => void
  /** The run once it is no longer queued or running. */
  waitSettled(id: string): Promise<RunSummary>
  /** The remote host's base URL (http://host:port, no token), or null for this machine. */
  readonly remote: string | null
  close(): Promise<void>
}

export function localCliHost(host: Host): CliHost {
  return {
    call: (name, arg) => host.call(name, arg),
    onEvent: (l) => host.onEvent(l),
    waitSettled: (id) => host.runs.waitSettled(id),
    remote: null,
    close: () => host.shutdown()
  }
}

/**
 * A connected client of the host at `url` (its token in the URL's ?token= or in `token`). Throws a
 * ServiceError: invalid-argument for a malformed URL or no token, unauthorized for a refused
 * token, failed for a host that cannot be reached. A drop later is final: the command says so.
 */
export async function remoteCliHost(url: string, token: string | undefined): Promise<CliHost> {
  const remote = new RemoteHost(parseRemoteTarget(url, token), { reconnect: false })
  try {
    await remote.ready()
  } catch (err) {
    remote.close()
    throw err
  }
  return {
    call: (name, arg) => remote.call(name, arg),
    onEvent: (l) => remote.onEvent(l),
    waitSettled: (id) => remote.waitSettled(id),
    remote: remote.target.base,
    close: () => {
      remote.close()
      return Promise.resolve()
    }
  }
}
