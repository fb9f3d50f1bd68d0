// Executors of the run queue: where a run's training worker runs. `local` (the default) starts a
// worker process on this machine through the host's launcher, as always; `slurm` submits a batch
// job per attempt (./slurm.ts). The workspace chooses in its executor.json (the workspace lives on
// the cluster's shared filesystem, so its settings travel with it); QUARTERTURN_EXECUTOR overrides
// the choice for one host process, and a run's run.json `executor.slurm` overrides the Slurm
// settings for that run.
import { promises as fs, readFileSync } from 'node:fs'
import path from 'node:path'
import {
  RunExecutorSchema,
  SlurmSettingsSchema,
  WorkspaceExecutorSchema,
  ExecutorKindSchema,
  type ExecutorReport,
  type Placement,
  type SlurmSettings,
  type WorkspaceExecutor
} from '../../src-shared/contract/executor'
import { runPaths } from '../../src-node/run-folder'
import { slurmAvailability, slurmCommand, submitAttempt, jobState } from './slurm'
import type { RunPlace, WorkerHandle, WorkerLauncher } from './workers'
import type { WorkerEntry } from './fork-launcher'

export const EXECUTOR_FILE = 'executor.json'

/** A worker handle that may ask for the run to be resubmitted when it ends interrupted. */
export type TrainingHandle = WorkerHandle & { resubmits?: number }

/** The workspace's executor.json (defaults when absent); a bad file is an error naming it. */
export async function readWorkspaceExecutor(workspaceDir: string): Promise<WorkspaceExecutor> {
  const file = path.join(workspaceDir, EXECUTOR_FILE)
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '{}'
    throw err
  })
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); fix or delete it.`)
  }
  const parsed = WorkspaceExecutorSchema.safeParse(raw)
  if (!parsed.success) {
    const i = parsed.error.issues[0]
    throw new Error(`${file}: ${i?.path.join('.') || 'file'}: ${i?.message}. Fix it (or delete it to train locally).`)
  }
  const env = process.env.QUARTERTURN_EXECUTOR
  if (env) {
    const kind = ExecutorKindSchema.safeParse(env)
    if (!kind.success) throw new Error(`QUARTERTURN_EXECUTOR must be "local" or "slurm", got "${env}".`)
    return { ...parsed.data, executor: kind.data }
  }
  return parsed.data
}

/** The run's Slurm settings: defaults, then the workspace's, then the run's own (run.json `executor.slurm`). */
async function slurmSettingsFor(place: RunPlace, ws: WorkspaceExecutor): Promise<{ settings: SlurmSettings; placements: Placement[] }> {
  const run = JSON.parse(await fs.readFile(runPaths(place.runDir).run, 'utf8')) as { executor?: unknown; placements?: Placement[] }
  const own = RunExecutorSchema.safeParse(run.executor ?? {})
  if (!own.success) throw new Error(`run.json executor: ${own.error.issues[0]?.path.join('.')}: ${own.error.issues[0]?.message}`)
  const merged = SlurmSettingsSchema.safeParse({ ...ws.slurm, ...own.data.slurm })
  if (!merged.success) throw new Error(`Slurm settings: ${merged.error.issues[0]?.path.join('.')}: ${merged.error.issues[0]?.message}`)
  return { settings: merged.data, placements: run.placements ?? [] }
}

export interface Executors {
  /** Start (or submit) the training worker of a run. */
  launchTraining(place: RunPlace, runId: string): Promise<TrainingHandle>
  /** How many runs may train at once under the workspace's executor (null: the app's setting). */
  concurrency(workspaceDir: string): number | null
  /** A run found `running` with no live owner: stop the jobs it may still have on a cluster. */
  reclaim(runDir: string): Promise<void>
  /** Whether each executor can run here, for doctor and the Workspace view. */
  describe(workspaceDir: string): Promise<ExecutorReport>
}

/**
 * `local`: the host's worker launcher. `jobEntry`: the engine's job-worker entry Slurm jobs run
 * (absent: this host cannot submit, e.g. the desktop app, whose binary is not Node).
 */
export function makeExecutors(local: WorkerLauncher, jobEntry: WorkerEntry | null): Executors {
  return {
    async launchTraining(place, runId) {
      const ws = await readWorkspaceExecutor(place.workspaceDir)
      if (ws.executor === 'local') return local()
      if (!jobEntry)
        throw new Error("This host cannot submit Slurm jobs (the desktop app trains locally): start `quarterturn serve` on the cluster's login node.")
      const { settings, placements } = await slurmSettingsFor(place, ws)
      const job = await submitAttempt({ place, settings, entry: jobEntry, attempt: placements.length + 1, runId }).catch(async (err: Error) => {
        const avail = await slurmAvailability()
        throw avail.ok ? err : new Error(`The Slurm executor is unavailable: ${avail.detail}. ${avail.fix}`)
      })
      job.resubmits = settings.maxResubmits
      return job
    },
    concurrency(workspaceDir) {
      // Read on each scheduling pass (a small file): the queue follows an edit at once.
      let raw: unknown = {}
      try {
        raw = JSON.parse(readFileSync(path.join(workspaceDir, EXECUTOR_FILE), 'utf8'))
      } catch {
        // Absent or unreadable: the local executor (a bad file is reported when a run starts).
      }
      const ws = WorkspaceExecutorSchema.safeParse(raw)
      const kind = process.env.QUARTERTURN_EXECUTOR ?? (ws.success ? ws.data.executor : 'local')
      if (kind !== 'slurm') return null
      return SlurmSettingsSchema.shape.maxJobs.parse(ws.success ? ws.data.slurm.maxJobs : undefined)
    },
    async reclaim(runDir) {
      const run = await fs.readFile(runPaths(runDir).run, 'utf8').then(
        (t) => JSON.parse(t) as { placements?: Placement[] },
        () => null
      )
      const open = (run?.placements ?? []).filter((p) => p.executor === 'slurm' && p.state === null)
      for (const p of open) {
        const st = await jobState(p.jobId)
        if (!st || st.ended) continue
        await slurmCommand('scancel', [p.jobId])
        // Until it has left the queue (the worker checkpoints on SIGTERM), so no resume overlaps it.
        for (let i = 0; i < 120; i++) {
          const now = await jobState(p.jobId)
          if (!now || now.ended) break
          await new Promise((r) => setTimeout(r, 500))
        }
      }
    },
    async describe(workspaceDir) {
      const ws = await readWorkspaceExecutor(workspaceDir).catch(() => ({ executor: 'local' as const, slurm: {} }))
      const slurm = jobEntry
        ? await slurmAvailability()
        : { ok: false, detail: 'this host cannot submit Slurm jobs', fix: "Start `quarterturn serve` on the cluster's login node." }
      return { chosen: ws.executor, local: { ok: true, detail: 'worker processes on this machine' }, slurm }
    }
  }
}
