// Messages between the host and a run worker process (Electron utilityProcess or
// child_process.fork; the same messages either way). Both ends validate what arrives with these
// schemas: the worker its commands, the host every message a worker sends, like any request from
// a renderer. One worker does one job (a run, a map, a benchmark, a backend probe) and exits; an
// analysis worker answers many preview requests by id while it lives.
import { z } from 'zod'
import { BackendStatusSchema } from './index'
import { MapProgressSchema, MapSpecSchema } from './maps'
import { AugmentOptionsSchema, EngineBenchmarkSchema, EvaluationSchema, PreviewOptionsSchema, RunImagesOptionsSchema } from './runs'
import { STAGE_NAMES } from '../stages'
import { PlacementSchema } from './executor'

/** Where a job works: its run folder, and the workspace whose datasets it reads. */
const RunPlace = { runDir: z.string().min(1), workspaceDir: z.string().min(1) }

/** Preview requests an analysis worker answers (the run's config comes from its folder). */
export const AnalysisRequestSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('preview'), options: PreviewOptionsSchema }),
  z.object({ kind: z.literal('augment'), options: AugmentOptionsSchema }),
  /** Thumbnails of the run's dataset split. */
  z.object({ kind: z.literal('images'), options: RunImagesOptionsSchema })
])
export type AnalysisRequest = z.output<typeof AnalysisRequestSchema>
export type AnalysisRequestInput = z.input<typeof AnalysisRequestSchema>
export type AnalysisKind = AnalysisRequest['kind']

export const ToRunWorkerSchema = z.discriminatedUnion('type', [
  /** Train the run (from its newest checkpoint, if any). */
  z.object({ type: z.literal('run'), ...RunPlace }),
  /** Compute an embedding map of the run's features instead of training. */
  z.object({ type: z.literal('map'), ...RunPlace, spec: MapSpecSchema }),
  /** A preview of a run (answered by id; the worker serves many while it lives). */
  z.object({ type: z.literal('analysis'), reqId: z.number().int(), ...RunPlace, request: AnalysisRequestSchema }),
  /** Time the steps of a run config on this machine (the New-run form's estimate); the worker parses it. */
  z.object({ type: z.literal('bench'), config: z.unknown() }),
  /** Load each training backend and run a conv2d gradient on it (doctor, the Workspace view). */
  z.object({ type: z.literal('detect') }),
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('cancel') })
])
export type ToRunWorker = z.input<typeof ToRunWorkerSchema>

const StageNameSchema = z.enum(STAGE_NAMES)
/**
 * Metric values are numbers (a diverged loss is NaN or Infinity, and still a metric), stage
 * names and nulls.
 */
const MetricValueSchema = z.union([z.custom<number>((v) => typeof v === 'number'), z.string(), z.null()])
const DataFingerprintSchema = z.object({ label: z.string(), split: z.string(), images: z.number(), sha256: z.string() })

/** What a training run reports while it runs. */
export const PipelineEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('stage'), stage: StageNameSchema, index: z.number().int(), total: z.number().int() }),
  z.object({
    type: z.literal('progress'),
    stage: StageNameSchema,
    epoch: z.number(),
    epochs: z.number(),
    step: z.number(),
    steps: z.number(),
    etaSec: z.number().nullable()
  }),
  z.object({ type: z.literal('metrics'), record: z.record(z.string(), MetricValueSchema) }),
  z.object({ type: z.literal('checkpoint'), seq: z.number().int(), label: z.record(z.string(), z.unknown()) }),
  z.object({ type: z.literal('evaluation'), evaluation: EvaluationSchema }),
  z.object({ type: z.literal('log'), level: z.enum(['info', 'warn']), message: z.string() }),
  /** Exactly which data the run saw: content hashes of the decoded splits. */
  z.object({ type: z.literal('data'), items: z.array(DataFingerprintSchema) })
])
export type PipelineEvent = z.infer<typeof PipelineEventSchema>

export const PipelineOutcomeSchema = z.enum(['done', 'paused', 'cancelled'])
export type PipelineOutcome = z.infer<typeof PipelineOutcomeSchema>

export const BenchProgressSchema = z.object({ phase: z.string(), fraction: z.number() })
export type BenchProgress = z.infer<typeof BenchProgressSchema>

export const FromRunWorkerSchema = z.discriminatedUnion('type', [
  /** A run's backend is loaded: training starts. */
  z.object({ type: z.literal('ready'), backend: z.string(), statuses: z.array(BackendStatusSchema) }),
  z.object({ type: z.literal('event'), event: PipelineEventSchema }),
  z.object({ type: z.literal('finished'), outcome: PipelineOutcomeSchema }),
  z.object({ type: z.literal('mapProgress'), progress: MapProgressSchema }),
  z.object({ type: z.literal('mapDone'), key: z.string() }),
  z.object({ type: z.literal('benchProgress'), progress: BenchProgressSchema }),
  z.object({ type: z.literal('benchDone'), result: EngineBenchmarkSchema }),
  z.object({ type: z.literal('backends'), statuses: z.array(BackendStatusSchema) }),
  /** An analysis answer; checked against the request kind's result schema by the caller. */
  z.object({ type: z.literal('reply'), reqId: z.number().int(), value: z.unknown() }),
  z.object({ type: z.literal('replyError'), reqId: z.number().int(), message: z.string(), code: z.string().optional() }),
  /** Where a batch scheduler put the attempt (sent by the host's Slurm executor, not a worker): recorded in run.json. */
  z.object({ type: z.literal('placement'), placement: PlacementSchema }),
  /** The job failed (or a command was malformed: stage 'protocol'). */
  z.object({ type: z.literal('error'), message: z.string(), stage: z.string(), code: z.string().optional() })
])
export type FromRunWorker = z.infer<typeof FromRunWorkerSchema>
