// Where a run's training worker runs (its executor) and how: `local` starts worker processes on
// this machine (the default); `slurm` submits each run (each attempt of it) as a Slurm batch job
// that runs the same worker on a node of the cluster, with the run folder on a filesystem the
// nodes share. A workspace chooses in its executor.json; a run may override the Slurm settings in
// its run.json (`executor`). Attempts on Slurm are recorded in run.json (`placements`).
import { z } from 'zod'

export const SlurmSettingsSchema = z.object({
  /** sbatch --partition; null: the cluster's default partition. */
  partition: z.string().min(1).nullable().default(null),
  /** sbatch --time (Slurm's forms: "MM", "HH:MM:SS", "D-HH:MM:SS"). */
  time: z.string().min(1).default('1-00:00:00'),
  /** sbatch --cpus-per-task. */
  cpus: z.number().int().min(1).max(1024).default(4),
  /** sbatch --mem (e.g. "16G"); null: the partition's default. */
  mem: z.string().min(1).nullable().default('16G'),
  /** sbatch --gres (e.g. "gpu:1"); null: none. */
  gres: z.string().min(1).nullable().default(null),
  /** sbatch --account; null: the user's default account. */
  account: z.string().min(1).nullable().default(null),
  /** More sbatch options, one per line as on an `#SBATCH` line (e.g. "--qos=high"). */
  extra: z.array(z.string()).default([]),
  /** Automatic resubmissions of a run whose job ended without it (node failure, time limit, preemption, a kill). */
  maxResubmits: z.number().int().min(0).max(100).default(3),
  /** Runs submitted at the same time (queued or running on the cluster). */
  maxJobs: z.number().int().min(1).max(1000).default(32),
  /** The node binary on the nodes; null: the one running the host (the same path must exist there). */
  node: z.string().min(1).nullable().default(null)
})
export type SlurmSettings = z.infer<typeof SlurmSettingsSchema>

export const ExecutorKindSchema = z.enum(['local', 'slurm'])
export type ExecutorKind = z.infer<typeof ExecutorKindSchema>

/** A workspace's executor.json. */
export const WorkspaceExecutorSchema = z.object({
  executor: ExecutorKindSchema.default('local'),
  slurm: SlurmSettingsSchema.partial().default({})
})
export type WorkspaceExecutor = z.infer<typeof WorkspaceExecutorSchema>

/** A run's own override (run.json `executor`): its Slurm settings on top of the workspace's. */
export const RunExecutorSchema = z.object({ slurm: SlurmSettingsSchema.partial().optional() })

/** Whether an executor can run here; `fix` says what to do when not. */
export const ExecutorAvailabilitySchema = z.object({ ok: z.boolean(), detail: z.string(), fix: z.string().optional() })
export type ExecutorAvailability = z.infer<typeof ExecutorAvailabilitySchema>

/** The workspace's executor and whether each can run on the host (doctor, the Workspace view). */
export const ExecutorReportSchema = z.object({ chosen: ExecutorKindSchema, local: ExecutorAvailabilitySchema, slurm: ExecutorAvailabilitySchema })
export type ExecutorReport = z.infer<typeof ExecutorReportSchema>

/** One attempt of a run on a batch scheduler. */
export const PlacementSchema = z.object({
  executor: z.literal('slurm'),
  attempt: z.number().int().min(1),
  jobId: z.string(),
  /** Node(s) the job ran on, once it started. */
  nodes: z.string().nullable(),
  submittedAt: z.string(),
  /** The job's final state (COMPLETED, CANCELLED, NODE_FAIL, TIMEOUT, ...), once it ended. */
  state: z.string().nullable(),
  /** The attempt's sbatch --output, relative to the run folder. */
  log: z.string()
})
export type Placement = z.infer<typeof PlacementSchema>
