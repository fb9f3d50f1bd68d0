// Progress of one indexing job: the running counters and their throttled reports. A job reports
// at most every PROGRESS_EVERY_MS (a folder of 100 000 images would otherwise post a message per
// image across the worker boundary); phase changes are forced through at once.

export interface ProgressUpdate {
  phase: 'scanning' | 'decoding' | 'finishing'
  filesSeen: number
  total: number
  decoded: number
  reused: number
  skipped: number
  elapsedMs: number
  etaSeconds: number | null
  message: string | null
}

export interface JobHooks {
  progress(p: ProgressUpdate): void
  isCancelled(): boolean
}

const PROGRESS_EVERY_MS = 200

export class JobProgress {
  phase: ProgressUpdate['phase'] = 'scanning'
  filesSeen = 0
  total = 0
  decoded = 0
  reused = 0
  skipped = 0
  message: string | null = null
  private readonly t0 = performance.now()
  private lastSent = 0
  private decodeStart = 0

  constructor(private readonly hooks: JobHooks) {}

  /** Since the job started. */
  get elapsedMs(): number {
    return performance.now() - this.t0
  }

  /** Report the counters, unless the last report is younger than PROGRESS_EVERY_MS. */
  send(force = false): void {
    const now = performance.now()
    if (!force && now - this.lastSent < PROGRESS_EVERY_MS) return
    this.lastSent = now
    const done = this.decoded + this.reused + this.skipped
    let eta: number | null = null
    // Estimated from the decode rate alone: scanning says nothing about how long a decode takes.
    if (this.phase === 'decoding' && done > 0 && this.total > done) eta = (((now - this.decodeStart) / done) * (this.total - done)) / 1000
    const { phase, filesSeen, total, decoded, reused, skipped, message } = this
    this.hooks.progress({ phase, filesSeen, total, decoded, reused, skipped, message, elapsedMs: now - this.t0, etaSeconds: eta })
  }

  startDecoding(): void {
    this.phase = 'decoding'
    this.decodeStart = performance.now()
    this.send(true)
  }

  /** One image left out (a problem was recorded for it). */
  skip(): void {
    this.skipped++
    this.send()
  }
}
