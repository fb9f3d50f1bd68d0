// A run as this process holds it (LiveRun), and the supervision of its training worker: what each
// message from the worker does to the run's status, run.json and log, and what state the run is
// left in when the worker exits. RunsService starts workers and owns the locks; this file decides
// what their messages and exits mean.
//
// A worker that dies without saying why (kill -9, out of memory) leaves the run `interrupted`;
// one that reports an error (or sends a malformed message) leaves it `failed` with the message and
// the stage. Resuming either continues from the newest intact checkpoint.
import type { FromRunWorker } from '../../src-shared/contract/worker'
import { describeGpuAdapter } from '../../src-shared/contract/gpu'
import type { MetricRecord, RunStatus, RunSummary } from '../../src-shared/contract/runs'
import type { RunFile } from '../../src-node/run-folder'
import type { RunLock } from './run-lock'
import type { RunPlace, WorkerHandle } from './workers'

export interface LiveRun {
  dir: string
  /** The workspace the run belongs to: its workers read that workspace's datasets. */
  workspaceDir: string
  run: RunFile
  status: RunStatus
  worker: WorkerHandle | null
  /** What the user asked of the running worker. */
  requested: 'pause' | 'cancel' | null
  attemptStart: number | null
  lastPersist: number
  pendingMetrics: MetricRecord[]
  errorSeen: { message: string; stage: string; code?: string } | null
  /** What the worker said it finished with, before it exits. */
  outcome: 'done' | 'paused' | 'cancelled' | null
  lastChanged: number
  evaluations: RunSummary['evaluations']
  /** Held while this process trains the run, or for a moment while it changes its state. */
  lock: RunLock | null
  /** Scheduled here, lock not yet taken. */
  starting: boolean
  /** The worker has exited and its final state is being saved (the lock is released at the end). */
  settling: Promise<void> | null
  /** Automatic resubmissions since the run last started by hand (batch executors). */
  resubmitted: number
  /** The run.json write in progress (writes are chained: see RunsService.saveRunFile). */
  runFileWrite: Promise<void> | null
}

export function liveRun(dir: string, workspaceDir: string, run: RunFile, status: RunStatus): LiveRun {
  return {
    dir,
    workspaceDir,
    run,
    status,
    worker: null,
    requested: null,
    attemptStart: null,
    lastPersist: 0,
    pendingMetrics: [],
    errorSeen: null,
    outcome: null,
    evaluations: [],
    lastChanged: 0,
    lock: null,
    starting: false,
    settling: null,
    resubmitted: 0,
    runFileWrite: null
  }
}

export const placeOf = (r: LiveRun): RunPlace => ({ runDir: r.dir, workspaceDir: r.workspaceDir })

/** What supervision asks of the service that holds the run. */
export interface RunKeeper {
  /** Write status.json (the lock's holder only). */
  persist(r: LiveRun): Promise<void>
  setState(r: LiveRun, state: RunStatus['state']): Promise<void>
  saveRunFile(r: LiveRun): Promise<void>
  log(r: LiveRun, level: 'info' | 'warn' | 'error', message: string): void
  /** Push the run's summary. */
  changed(r: LiveRun): void
  /** Metric records are waiting in r.pendingMetrics. */
  metricsPending(): void
}

const PROGRESS_PERSIST_MS = 2000
const PROGRESS_EMIT_MS = 200

type DataFingerprint = NonNullable<RunFile['dataFingerprints']>[number]

/**
 * run.json keeps the fingerprints a run first saw, one per dataset and split: a split it reads for
 * the first time is added (a run recorded before transfer datasets were fingerprinted gets them
 * on resume), and one whose content differs is named, never overwritten.
 */
export function mergeDataFingerprints(
  recorded: readonly DataFingerprint[] | undefined,
  seen: readonly DataFingerprint[]
): { merged: DataFingerprint[]; added: boolean; changed: string[] } {
  const merged = [...(recorded ?? [])]
  const changed: string[] = []
  let added = !recorded
  for (const f of seen) {
    const before = merged.find((x) => x.label === f.label && x.split === f.split)
    if (!before) {
      merged.push(f)
      added = true
    } else if (before.sha256 !== f.sha256 || before.images !== f.images) changed.push(`${f.label} ${f.split}`)
  }
  return { merged, added, changed }
}

/** Apply one (checked) message of a run's training worker. */
export function onTrainingMessage(r: LiveRun, m: FromRunWorker, k: RunKeeper): void {
  switch (m.type) {
    case 'ready': {
      const adapter = m.statuses.find((s) => s.name === m.backend)?.adapter ?? null
      const earlier = r.run.backends ?? []
      // Attempts from before adapters were recorded count as null, keeping the two lists aligned.
      r.run.adapters = [...earlier.map((_, i) => r.run.adapters?.[i] ?? null), adapter]
      r.status.backend = m.backend
      r.run.backends = [...earlier, m.backend]
      void k.saveRunFile(r)
      k.log(
        r,
        'info',
        `Training on ${m.backend}${adapter ? ` (${describeGpuAdapter(adapter)})` : ''}. ${m.statuses
          .filter((s) => !s.ok)
          .map((s) => `${s.name}: ${s.detail}`)
          .join('; ')}`
      )
      void k.persist(r).catch(() => {})
      k.changed(r)
      break
    }
    case 'error':
      r.errorSeen = { message: m.message, stage: m.stage, code: m.code }
      break
    case 'finished':
      r.outcome = m.outcome
      break
    case 'placement': {
      // A batch job of this run: one entry per attempt in run.json, updated as it starts and ends.
      const p = m.placement
      const before = r.run.placements ?? []
      const known = before.some((x) => x.jobId === p.jobId)
      r.run.placements = known ? before.map((x) => (x.jobId === p.jobId ? p : x)) : [...before, p]
      void k.saveRunFile(r)
      if (known && p.nodes && !p.state && before.find((x) => x.jobId === p.jobId)?.nodes !== p.nodes)
        k.log(r, 'info', `Slurm job ${p.jobId} runs on ${p.nodes}.`)
      break
    }
    case 'event': {
      const e = m.event
      if (e.type === 'metrics') {
        r.pendingMetrics.push(e.record)
        k.metricsPending()
      } else if (e.type === 'progress') {
        Object.assign(r.status, { stage: e.stage, epoch: e.epoch, epochs: e.epochs, step: e.step, steps: e.steps, etaSec: e.etaSec })
        if (Date.now() - r.lastPersist > PROGRESS_PERSIST_MS) void k.persist(r).catch(() => {})
        // Every step reports progress; subscribers need a few updates a second, not all.
        if (Date.now() - r.lastChanged >= PROGRESS_EMIT_MS) k.changed(r)
      } else if (e.type === 'stage') {
        // The counters belong to the stage that reported them: a new stage starts without any,
        // so `show` never prints the evaluation stage with pretraining's epoch and step.
        Object.assign(r.status, { stage: e.stage, epoch: null, epochs: null, step: null, steps: null, etaSec: null })
        k.log(r, 'info', `Stage ${e.index + 1} of ${e.total}: ${e.stage}`)
        k.changed(r)
      } else if (e.type === 'data') {
        const { merged, added, changed } = mergeDataFingerprints(r.run.dataFingerprints, e.items)
        if (added) {
          r.run.dataFingerprints = merged
          void k.saveRunFile(r)
        }
        if (changed.length)
          k.log(r, 'warn', `The data differs from what this run started with (${changed.join('; ')} changed since): results mix two versions of it.`)
      } else if (e.type === 'log') {
        k.log(r, e.level, e.message)
      } else if (e.type === 'evaluation') {
        r.evaluations = r.evaluations.filter((x) => x.id !== e.evaluation.id).concat(e.evaluation)
        k.log(r, 'info', `${e.evaluation.protocol} on ${e.evaluation.dataset}: ${(e.evaluation.accuracy * 100).toFixed(2)}%`)
        k.changed(r)
      }
      break
    }
  }
}

/** Record the end of an attempt: what the worker finished with, else the error it reported, else interrupted. */
export async function settleAttempt(r: LiveRun, code: number | null, signal: string | null, k: RunKeeper): Promise<void> {
  r.worker = null
  if (r.attemptStart) r.status.wallMs += Date.now() - r.attemptStart
  r.attemptStart = null
  r.status.etaSec = null
  // A batch job's last placement (its end state) is on disk before the run's state says it ended.
  if (r.run.placements?.length) await k.saveRunFile(r)
  const outcome = r.outcome
  r.outcome = null
  if (outcome === 'done') {
    r.status.endedAt = new Date().toISOString()
    await k.setState(r, 'done')
  } else if (outcome === 'paused') {
    await k.setState(r, 'paused')
  } else if (outcome === 'cancelled') {
    r.status.endedAt = new Date().toISOString()
    await k.setState(r, 'cancelled')
  } else if (r.errorSeen) {
    const e = r.errorSeen
    r.status.error = e.code === 'ENOSPC' ? `The disk is full (${e.message}). Free some space, then resume: the last checkpoint is intact.` : e.message
    r.status.errorStage = e.stage
    k.log(r, 'error', `Failed in ${e.stage}: ${r.status.error}`)
    await k.setState(r, 'failed')
  } else {
    // A batch executor names the job's end instead of a signal (e.g. "Slurm job 12 ended NODE_FAIL").
    const why = signal ? (signal.startsWith('SIG') ? `signal ${signal}` : signal) : `exit code ${code}`
    r.status.error = `The training worker stopped unexpectedly (${why}), e.g. killed or out of memory. Resume continues from the last checkpoint.`
    k.log(r, 'error', r.status.error)
    await k.setState(r, 'interrupted')
  }
}
