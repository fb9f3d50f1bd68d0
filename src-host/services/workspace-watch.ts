// Watches the workspace for changes made by any process (another window, the CLI, a second web
// host): the runs/ and datasets/ folders, through fs.watch, each burst of events reported at most
// every `debounceMs` with the names of the entries (run ids) it touched; plus a periodic full pass
// as a fallback for what watching misses (network drives, platforms without recursive watching,
// folders created after the start). What a change means is the services' business: this file only
// says where to look.
import { watch, type FSWatcher } from 'node:fs'
import path from 'node:path'

export interface WorkspaceWatchOptions {
  /** The workspace folder now (it may not exist yet). */
  dir: () => Promise<string>
  /** Run folders changed (by id); null: look at all of them (the periodic pass, or an event without a name). */
  runs: (ids: string[] | null) => Promise<void>
  /** Something in datasets/ changed, or the periodic pass. */
  datasets: () => Promise<void>
  onError?: (err: unknown, context: string) => void
  debounceMs?: number
  rescanMs?: number
}

type Folder = 'runs' | 'datasets'
const FOLDERS: Folder[] = ['runs', 'datasets']

export class WorkspaceWatcher {
  private watchers = new Map<Folder, FSWatcher>()
  private pending = new Map<Folder, Set<string> | null>()
  private flushTimer: NodeJS.Timeout | null = null
  private rescanTimer: NodeJS.Timeout | null = null
  private running: Promise<void> | null = null
  private ws: string | null = null
  private closed = false

  constructor(private readonly o: WorkspaceWatchOptions) {}

  async start(): Promise<void> {
    this.closed = false
    this.ws = await this.o.dir()
    this.attach()
    this.rescanTimer ??= setInterval(() => void this.periodic(), this.o.rescanMs ?? 5000)
    this.rescanTimer.unref()
  }

  /** The workspace moved (workspace.open): watch the new one. */
  async restart(): Promise<void> {
    this.detach()
    if (!this.closed) await this.start()
  }

  close(): void {
    this.closed = true
    this.detach()
    if (this.rescanTimer) clearInterval(this.rescanTimer)
    this.rescanTimer = null
    if (this.flushTimer) clearTimeout(this.flushTimer)
    this.flushTimer = null
  }

  private detach(): void {
    for (const w of this.watchers.values()) w.close()
    this.watchers.clear()
  }

  /** Watch each folder that exists and is not watched yet (a missing one is retried by the periodic pass). */
  private attach(): void {
    if (!this.ws || this.closed) return
    for (const folder of FOLDERS) {
      if (this.watchers.has(folder)) continue
      const dir = path.join(this.ws, folder)
      const w = openWatch(dir, (name) => this.note(folder, name))
      if (!w) continue
      w.on('error', () => {
        // The folder went away (or the watch broke): drop it; the periodic pass watches it again.
        w.close()
        if (this.watchers.get(folder) === w) this.watchers.delete(folder)
        this.note(folder, null)
      })
      w.unref()
      this.watchers.set(folder, w)
    }
  }

  private note(folder: Folder, name: string | null): void {
    const ids = this.pending.has(folder) ? this.pending.get(folder)! : new Set<string>()
    if (ids === null || name === null) this.pending.set(folder, null)
    else {
      // "<id>/status.json" on platforms that report the path below the folder, "<id>" elsewhere.
      const top = name.split(/[\\/]/)[0]!
      if (top && !top.startsWith('.')) ids.add(top)
      this.pending.set(folder, ids)
    }
    // A burst (a run writing a metric every step) is reported at most every debounceMs, not starved.
    this.flushTimer ??= setTimeout(() => void this.flush(), this.o.debounceMs ?? 200)
    this.flushTimer.unref?.()
  }

  private async flush(): Promise<void> {
    this.flushTimer = null
    if (this.running) {
      // One pass at a time: what arrives meanwhile waits for the next.
      await this.running
      if (!this.flushTimer && this.pending.size) this.flushTimer = setTimeout(() => void this.flush(), this.o.debounceMs ?? 200)
      return
    }
    const pending = new Map(this.pending)
    this.pending.clear()
    this.running = this.report(pending).finally(() => (this.running = null))
    await this.running
  }

  private async report(pending: Map<Folder, Set<string> | null>): Promise<void> {
    if (this.closed) return
    const runs = pending.get('runs')
    if (runs !== undefined && (runs === null || runs.size)) await this.o.runs(runs ? [...runs] : null).catch((err) => this.o.onError?.(err, 'watching runs'))
    if (pending.has('datasets')) await this.o.datasets().catch((err) => this.o.onError?.(err, 'watching datasets'))
  }

  private async periodic(): Promise<void> {
    if (this.closed || this.running) return
    this.attach()
    this.running = this.report(
      new Map<Folder, null>([
        ['runs', null],
        ['datasets', null]
      ])
    ).finally(() => (this.running = null))
    await this.running
  }
}

/** fs.watch on a folder, recursive where the platform can; null when the folder is missing. */
function openWatch(dir: string, onName: (name: string | null) => void): FSWatcher | null {
  const listener = (_event: string, name: string | Buffer | null): void => onName(name === null ? null : String(name))
  try {
    return watch(dir, { recursive: true, persistent: false }, listener)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
  }
  // Recursive watching unsupported here: changes of a run's files come from the periodic pass.
  try {
    return watch(dir, { persistent: false }, listener)
  } catch {
    return null
  }
}
