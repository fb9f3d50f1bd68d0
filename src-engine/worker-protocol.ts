// Messages between a host and a training worker (Electron utilityProcess or child_process.fork;
// same protocol). Both directions are validated with these schemas.
import { z } from 'zod'
import { BackendStatusSchema } from '../src-shared/contract'

export const DataSourceSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('sample'),
    perClass: z.number().int().min(1).max(5000).default(100),
    size: z.number().int().min(16).max(256).default(64),
    seed: z.number().int().min(0).default(1)
  })
])
export type DataSource = z.infer<typeof DataSourceSchema>

export const TrainJobSchema = z.object({
  /** TrainConfig input; validated by the trainer. */
  config: z.unknown(),
  data: DataSourceSchema,
  /** Stop after this many steps (default: the configured epochs). */
  steps: z.number().int().positive().optional(),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /** Send a metrics event at most every this many milliseconds (every step still goes to disk later). */
  metricsIntervalMs: z.number().int().min(0).default(250)
})
export type TrainJob = z.input<typeof TrainJobSchema>

export const ToWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('start'), job: TrainJobSchema }),
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('resume') }),
  z.object({ type: z.literal('cancel') })
])
export type ToWorker = z.input<typeof ToWorkerSchema>

export const StepMetricsSchema = z.object({
  epoch: z.number().int(),
  step: z.number().int(),
  lr: z.number(),
  ms: z.number(),
  imagesPerSec: z.number(),
  values: z.record(z.string(), z.number())
})

export const FromWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ready'), backend: z.string(), statuses: z.array(BackendStatusSchema), params: z.number(), stepsPerEpoch: z.number() }),
  z.object({ type: z.literal('metrics'), metrics: StepMetricsSchema }),
  z.object({ type: z.literal('status'), state: z.enum(['running', 'paused', 'done', 'cancelled']), step: z.number().int() }),
  z.object({ type: z.literal('error'), message: z.string(), stage: z.string() })
])
export type FromWorker = z.infer<typeof FromWorkerSchema>
