// One writer per run: `runs/<id>/lock.json` names the process that owns (trains and writes) the
// run — its pid, host name, a random owner token and a heartbeat. Whichever process starts a
// run's worker takes the lock first and keeps it until the worker has exited and the final state
// is saved; every other process (a second window, the CLI, a web host on the same workspace)
// only watches. A state change made outside training (cancel a paused run, mark a dead run
// interrupted) takes the lock for that moment.
//
// A lock is stale, and may be taken over, when its process is gone: on this machine, when its
// pid no longer exists (or, in this process, when its owner has shut down); from another machine
// (a shared workspace), when its heartbeat is older than STALE_MS.
import { promises as fs } from 'node:fs'
import os from 'node:os'
import { randomBytes } from 'node:crypto'
import { z } from 'zod'
import { writeFileAtomic } from '../../src-node/fsutil'
import { runPaths } from '../../src-node/run-folder'

export const HEARTBEAT_MS = 10_000
export const STALE_MS = 120_000

const LockInfoSchema = z.object({
  pid: z.number().int(),
  host: z.string(),
  owner: z.string(),
  /** What the owner is doing, for messages ("training", "cancel"). */
  purpose: z.string(),
  since: z.string(),
  heartbeat: z.number(),
  /** The worker process writing the run for the owner: the run is in use while either lives. */
  workerPid: z.number().int().optional()
})
export type LockInfo = z.infer<typeof LockInfoSchema>

/** Owners alive in this process (several hosts share one process in tests and tools). */
const liveOwners = new Set<string>()

export function newOwner(): string {
  const owner = randomBytes(8).toString('hex')
  liveOwners.add(owner)
  return owner
}

/** The owner has shut down: its locks are stale from now on. */
export function retireOwner(owner: string): void {
  liveOwners.delete(owner)
}

export function isLive(info: LockInfo, now = Date.now()): boolean {
  if (info.host === os.hostname()) {
    // A worker outlives a killed owner for a moment (it checkpoints, then exits): wait for it too.
    if (info.workerPid !== undefined && pidExists(info.workerPid)) return true
    if (info.pid === process.pid) return liveOwners.has(info.owner)
    if (!pidExists(info.pid)) return false
  }
  return now - info.heartbeat < STALE_MS
}

function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Who holds a run's lock, if anyone (a lock file that cannot be read counts as held while fresh). */
export async function readLock(runDir: string): Promise<LockInfo | null> {
  const file = runPaths(runDir).lock
  const text = await fs.readFile(file, 'utf8').catch(() => null)
  if (text === null) return null
  try {
    return LockInfoSchema.parse(JSON.parse(text))
  } catch {
    // Being written right now (created, not yet filled), or damaged: judge it by its age.
    const st = await fs.stat(file).catch(() => null)
    return { pid: -1, host: '?', owner: '?', purpose: 'unknown', since: '', heartbeat: st ? st.mtimeMs : 0 }
  }
}

/** The live holder of a run's lock other than `owner`, or null when the run is free. */
export async function heldByOther(runDir: string, owner: string): Promise<LockInfo | null> {
  const info = await readLock(runDir)
  return info && info.owner !== owner && isLive(info) ? info : null
}

export function describeHolder(info: LockInfo): string {
  const where = info.host === os.hostname() ? `process ${info.pid}` : `process ${info.pid} on ${info.host}`
  return `another Quarterturn ${where} (${info.purpose} since ${info.since})`
}

export class RunLock {
  private timer: NodeJS.Timeout | null = null
  private released = false

  private constructor(
    readonly runDir: string,
    private info: LockInfo,
    private readonly onLost: (by: LockInfo | null) => void
  ) {}

  /**
   * Take the run's lock for `owner`, or return the live holder. A stale lock is taken over.
   * `onLost` is called if a heartbeat finds the lock no longer ours (we were judged dead).
   */
  static async acquire(runDir: string, owner: string, purpose: string, onLost: (by: LockInfo | null) => void = () => {}): Promise<RunLock | LockInfo> {
    const file = runPaths(runDir).lock
    const info: LockInfo = { pid: process.pid, host: os.hostname(), owner, purpose, since: new Date().toISOString(), heartbeat: Date.now() }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        // 'wx' creates only if absent: of two processes racing for a free run, one wins.
        await fs.writeFile(file, JSON.stringify(info) + '\n', { flag: 'wx' })
        return new RunLock(runDir, info, onLost).start()
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const holder = await readLock(runDir)
      if (!holder) continue
      if (holder.owner === owner) return new RunLock(runDir, { ...holder, purpose }, onLost).start()
      if (isLive(holder)) return holder
      // Stale: move it aside, then check that what moved is the lock judged stale (another
      // process may have taken it over in between; then put theirs back).
      const aside = `${file}.${randomBytes(4).toString('hex')}.stale`
      if (
        await fs.rename(file, aside).then(
          () => true,
          () => false
        )
      ) {
        const moved = await fs.readFile(aside, 'utf8').catch(() => '')
        if (!moved.includes(`"owner":"${holder.owner}"`) && holder.owner !== '?') await fs.link(aside, file).catch(() => {})
        await fs.rm(aside, { force: true })
      }
    }
    const holder = await readLock(runDir)
    if (holder) return holder
    throw new Error(`could not lock ${runDir}: another process keeps changing its lock`)
  }

  /** Record the worker process that writes the run for us. */
  async setWorker(pid: number | undefined): Promise<void> {
    this.info = { ...this.info, workerPid: pid }
    await this.beat()
  }

  private start(): this {
    this.timer = setInterval(() => void this.beat(), HEARTBEAT_MS)
    this.timer.unref()
    return this
  }

  private async beat(): Promise<void> {
    if (this.released) return
    const now = await readLock(this.runDir)
    if (!now || now.owner !== this.info.owner) {
      this.stop()
      this.onLost(now)
      return
    }
    this.info = { ...this.info, heartbeat: Date.now() }
    await writeFileAtomic(runPaths(this.runDir).lock, JSON.stringify(this.info) + '\n').catch(() => {})
  }

  private stop(): void {
    this.released = true
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Give the run back (only if the lock is still ours). */
  async release(): Promise<void> {
    if (this.released) return
    this.stop()
    const now = await readLock(this.runDir)
    if (now?.owner === this.info.owner) await fs.rm(runPaths(this.runDir).lock, { force: true })
  }
}
