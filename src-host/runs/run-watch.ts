// What this process last saw on disk of runs it does not train (another process owns them, or
// nobody does): status.json's and notes.json's modification times, and how far metrics.jsonl has
// been read. RunsService asks it what changed when the workspace watcher or the periodic re-scan
// fires, and streams the metric records appended since as runs.metrics, as if it trained the run.
import { promises as fs } from 'node:fs'
import type { MetricRecord } from '../../src-shared/contract/runs'
import { runPaths } from '../../src-node/run-folder'
import { notesFileOf } from './run-notes'

interface Seen {
  statusMtime: number
  notesMtime: number
  /** Bytes of metrics.jsonl already read (whole lines only). */
  metricsOffset: number
}

/** At most this much of a grown metrics file is read at once; a bigger jump skips to the end. */
const MAX_TAIL_BYTES = 8 * 1024 * 1024

const mtimeOf = (file: string): Promise<number> =>
  fs.stat(file).then(
    (s) => s.mtimeMs,
    () => 0
  )

export class RunDiskWatch {
  private readonly seen = new Map<string, Seen>()

  /**
   * Whether status.json or notes.json changed since the last look. The first look at a run
   * records where its files stand: metrics written before it are history (runs.metrics request),
   * not news.
   */
  async look(id: string, runDir: string): Promise<{ status: boolean; notes: boolean }> {
    const files = runPaths(runDir)
    const [statusMtime, notesMtime] = await Promise.all([mtimeOf(files.status), mtimeOf(notesFileOf(runDir))])
    const before = this.seen.get(id)
    if (!before) {
      const size = await fs.stat(files.metrics).then(
        (s) => s.size,
        () => 0
      )
      this.seen.set(id, { statusMtime, notesMtime, metricsOffset: size })
      return { status: false, notes: false }
    }
    const changed = { status: before.statusMtime !== statusMtime, notes: before.notesMtime !== notesMtime }
    before.statusMtime = statusMtime
    before.notesMtime = notesMtime
    return changed
  }

  /** Metric records appended to the run's metrics.jsonl since the last read (whole lines only). */
  async tail(id: string, runDir: string): Promise<MetricRecord[]> {
    const seen = this.seen.get(id)
    if (!seen) {
      await this.look(id, runDir)
      return []
    }
    const file = runPaths(runDir).metrics
    const size = await fs.stat(file).then(
      (s) => s.size,
      () => 0
    )
    if (size < seen.metricsOffset || size - seen.metricsOffset > MAX_TAIL_BYTES) {
      // Rewritten (a resume cut records after its checkpoint) or a jump too big to stream: start
      // from here; the renderer refetches history when it needs it.
      seen.metricsOffset = size
      return []
    }
    if (size === seen.metricsOffset) return []
    const fh = await fs.open(file, 'r').catch(() => null)
    if (!fh) return []
    let text: string
    try {
      const buf = Buffer.alloc(size - seen.metricsOffset)
      const { bytesRead } = await fh.read(buf, 0, buf.length, seen.metricsOffset)
      text = buf.subarray(0, bytesRead).toString('utf8')
    } finally {
      await fh.close()
    }
    // A line still being written has no newline yet: leave it for the next read.
    const end = text.lastIndexOf('\n')
    if (end < 0) return []
    seen.metricsOffset += Buffer.byteLength(text.slice(0, end + 1))
    const out: MetricRecord[] = []
    for (const line of text.slice(0, end).split('\n')) {
      if (!line.trim()) continue
      try {
        const rec = JSON.parse(line) as unknown
        if (rec && typeof rec === 'object' && !Array.isArray(rec)) out.push(rec as MetricRecord)
      } catch {
        // A damaged line is skipped here as it is when the history is read.
      }
    }
    return out
  }

  /** Stop following a run (this process trains it now, or its folder is gone). */
  forget(id: string): void {
    this.seen.delete(id)
  }

  has(id: string): boolean {
    return this.seen.has(id)
  }
}
