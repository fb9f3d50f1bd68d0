// The run queue: the order in which this process starts queued runs, kept in the workspace
// (runs/queue.json) by the process that serves it, so a restarted app continues in the same
// order. A process that only watches the workspace (list, show) reads it and never writes it.
import { promises as fs } from 'node:fs'
import { writeFileAtomic } from '../../src-node/fsutil'
import { queueFileOf } from '../../src-node/run-folder'

export class RunQueue {
  private ids: string[] = []
  /** Whether this process serves the queue (and so keeps queue.json). */
  serving = false

  constructor(private readonly workspaceDir: () => Promise<string>) {}

  /** The saved order of the runs that are still queued, then any queued run it does not name. */
  async load(queued: string[]): Promise<void> {
    const saved = await fs.readFile(queueFileOf(await this.workspaceDir()), 'utf8').then(
      (t) => JSON.parse(t) as unknown,
      () => []
    )
    this.ids = (Array.isArray(saved) ? saved : []).filter((id): id is string => typeof id === 'string' && queued.includes(id))
    for (const id of queued) if (!this.ids.includes(id)) this.ids.push(id)
  }

  get size(): number {
    return this.ids.length
  }

  /** At the end (a new run). */
  push(id: string): void {
    this.ids.push(id)
  }

  /** At the front (a resumed run goes next). */
  putFirst(id: string): void {
    this.ids = [id, ...this.ids.filter((q) => q !== id)]
  }

  remove(id: string): void {
    this.ids = this.ids.filter((q) => q !== id)
  }

  /** The next run to start, taken off the queue. */
  shift(): string | undefined {
    return this.ids.shift()
  }

  async save(): Promise<void> {
    // queue.json is the order this process serves; a process that only reads leaves it alone.
    if (!this.serving) return
    await writeFileAtomic(queueFileOf(await this.workspaceDir()), JSON.stringify(this.ids) + '\n')
  }
}
