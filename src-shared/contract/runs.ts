// Run schemas of the contract: summaries pushed to the renderer, metric batches, log lines.
import { z } from 'zod'

/** `damaged`: the run folder cannot be read (its error says why and what to do); listed, never trained. */
export const RunStateSchema = z.enum(['queued', 'running', 'paused', 'done', 'failed', 'cancelled', 'interrupted', 'damaged'])
export type RunState = z.infer<typeof RunStateSchema>

export const RunStatusSchema = z.object({
  state: RunStateSchema,
  stage: z.string().nullable(),
  epoch: z.number().int().nullable(),
  epochs: z.number().int().nullable(),
  step: z.number().int().nullable(),
  steps: z.number().int().nullable(),
  etaSec: z.number().nullable(),
  backend: z.string().nullable(),
  error: z.string().nullable(),
  /** The stage the error happened in. */
  errorStage: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** Milliseconds spent running, over every attempt. */
  wallMs: z.number().nonnegative()
})
export type RunStatus = z.infer<typeof RunStatusSchema>

export const EvaluationSchema = z.object({
  id: z.string(),
  protocol: z.enum(['linear', 'nonlinear', 'knn', 'finetune']),
  dataset: z.string(),
  transfer: z.boolean(),
  layer: z.string(),
  accuracy: z.number(),
  perClass: z.array(z.number()),
  confusion: z.array(z.array(z.number())),
  classNames: z.array(z.string()),
  trainImages: z.number(),
  testImages: z.number()
})
/** One evaluation of a run (results.json, runs.get, the worker's evaluation events). */
export type Evaluation = z.infer<typeof EvaluationSchema>

/** Values of one setting a grid sweep varies (src-shared/sweep.ts). */
export const MAX_AXIS_VALUES = 16
export const SweepAxisSchema = z
  .object({
    path: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$/, 'a setting path like pretrain.method.lambdaMse'),
    values: z
      .array(z.number().finite('a value is a finite number'))
      .min(1, 'give at least one value')
      .max(MAX_AXIS_VALUES, `at most ${MAX_AXIS_VALUES} values per setting`)
  })
  .strict()
export type SweepAxis = z.infer<typeof SweepAxisSchema>

/** What run.json (and a run's summary) says about the grid sweep a run belongs to. */
export const RunSweepSchema = z.object({
  /** Shared by every run of the sweep. */
  id: z.string(),
  /** What varies, in words: "pretrain.method.lambdaMse ∈ {0.5, 1, 2} × seeds 0, 1". */
  label: z.string(),
  /** The grid point, 1-based, of `points`. */
  index: z.number().int().min(1),
  points: z.number().int().min(1),
  /** The varied settings' values at this point, in the sweep's order. */
  point: z.array(z.object({ path: z.string(), value: z.number() }))
})
export type RunSweep = z.infer<typeof RunSweepSchema>

export const RunSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  method: z.string(),
  preset: z.string().nullable(),
  configHash: z.string(),
  status: RunStatusSchema,
  evaluations: z.array(EvaluationSchema),
  /** The pretraining dataset, as the runs table names it ("sample seed 1", a dataset id). */
  dataset: z.string().optional(),
  /** The user's tags and notes (runs/<id>/notes.json); absent where none were written. */
  tags: z.array(z.string()).optional(),
  notes: z.string().optional(),
  /** Runs made together by "repeat with N seeds" share this id (run.json's `group`). */
  group: z.string().nullable().optional(),
  /** The config's seed. */
  seed: z.number().nullable().optional(),
  /** The grid sweep the run is a point of (its seeds, if several, also share a `group`). */
  sweep: RunSweepSchema.nullable().optional()
})
export type RunSummary = z.infer<typeof RunSummarySchema>

/** runs/<id>/notes.json: what the user wrote about a run, kept apart from what training writes. */
export const RunNotesSchema = z.object({
  tags: z.array(z.string().trim().min(1, 'a tag cannot be empty').max(40, 'a tag has at most 40 characters')).max(30, 'at most 30 tags'),
  notes: z.string().max(20000, 'notes have at most 20 000 characters')
})
export type RunNotes = z.infer<typeof RunNotesSchema>

export const RunDetailSchema = RunSummarySchema.extend({
  config: z.record(z.string(), z.unknown()),
  versions: z.record(z.string(), z.string()),
  datasets: z.array(z.object({ ref: z.unknown(), label: z.string() })),
  checkpoints: z.array(z.object({ seq: z.number(), createdAt: z.string(), label: z.record(z.string(), z.unknown()) })),
  log: z.array(z.object({ t: z.number(), level: z.enum(['info', 'warn', 'error']), message: z.string() })),
  /** Per "stage.metric": last, best (min for losses, max for accuracies), min, max. */
  summaries: z.record(z.string(), z.object({ last: z.number(), best: z.number(), min: z.number(), max: z.number(), count: z.number() })),
  dataFingerprints: z.array(z.object({ label: z.string(), split: z.string(), images: z.number(), sha256: z.string() }))
})
export type RunDetail = z.infer<typeof RunDetailSchema>

/**
 * One metrics.jsonl record: numbers, strings and nulls by name. Checked by one loop instead of
 * z.record over a union: a run page or a comparison loads up to 200 000 records at once on the
 * renderer's main thread, where the union's per-value cost (40 ms per 10 000 records) blocked it.
 */
export const MetricRecordSchema = z.custom<Record<string, number | string | null>>((v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false
  for (const k of Object.keys(v)) {
    const x = (v as Record<string, unknown>)[k]
    if (x !== null && typeof x !== 'number' && typeof x !== 'string') return false
  }
  return true
}, 'a metric record holds only numbers, strings and nulls')
export type MetricRecord = z.infer<typeof MetricRecordSchema>

export const PresetInfoSchema = z.object({ name: z.string(), description: z.string(), config: z.record(z.string(), z.unknown()) })

const RunId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,120}$/, 'not a run id')
/** Images of a run's split, by index (picked) or `count` drawn with `seed`. */
const ImagePick = {
  split: z.enum(['train', 'test']).default('test'),
  count: z.number().int().min(1, 'at least 1 image').max(16, 'at most 16 images').default(6),
  seed: z.number().int().min(0).default(0),
  /** Hand-picked image indices of the split (replace count/seed). */
  indices: z.array(z.number().int().min(0)).min(1, 'pick at least one image').max(16, 'at most 16 images').optional()
}

export const PreviewArgSchema = z
  .object({
    id: RunId,
    ...ImagePick,
    /** Which weights predict: the newest pretraining checkpoint ('latest'), the finished pretraining model ('final') or a checkpoint number. */
    checkpoint: z.union([z.literal('latest'), z.literal('final'), z.number().int().positive()]).default('latest')
  })
  .strict()

/** Training views of images exactly as the run's pretraining method builds them (SimCLR's augmentations, flips, crops). */
export const AugmentArgSchema = z
  .object({
    id: RunId,
    ...ImagePick,
    views: z.number().int().min(1, 'at least 1 view').max(8, 'at most 8 views').default(4)
  })
  .strict()

/** What a preview request asks of the analysis worker (the request without the run id). */
export const PreviewOptionsSchema = PreviewArgSchema.omit({ id: true })
export type PreviewOptions = z.output<typeof PreviewOptionsSchema>
export const AugmentOptionsSchema = AugmentArgSchema.omit({ id: true })
export type AugmentOptions = z.output<typeof AugmentOptionsSchema>

export const AugmentResultSchema = z.object({
  method: z.string(),
  /** What the views vary, in words (e.g. "random resized crop (area 0.2–1), flip, colour jitter 0.5 (p 0.8), grayscale (p 0.2)"). */
  description: z.string(),
  size: z.number().int(),
  images: z.array(
    z.object({
      index: z.number().int(),
      label: z.number().int(),
      className: z.string(),
      original: z.string().startsWith('data:image/png;base64,'),
      views: z.array(z.string().startsWith('data:image/png;base64,'))
    })
  )
})
export type AugmentResult = z.infer<typeof AugmentResultSchema>

/** Thumbnails of a run's dataset split: a page (offset/limit) or given indices (map hover). */
export const RunImagesArgSchema = z
  .object({
    id: RunId,
    split: z.enum(['train', 'test']).default('test'),
    indices: z.array(z.number().int().min(0)).min(1).max(256).optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(256).default(48)
  })
  .strict()

export const RunImagesOptionsSchema = RunImagesArgSchema.omit({ id: true })
export type RunImagesOptions = z.output<typeof RunImagesOptionsSchema>

export const RunImagesResultSchema = z.object({
  split: z.enum(['train', 'test']),
  total: z.number().int(),
  size: z.number().int(),
  classNames: z.array(z.string()),
  items: z.array(z.object({ index: z.number().int(), label: z.number().int(), png: z.string().startsWith('data:image/png;base64,') }))
})
export type RunImages = z.infer<typeof RunImagesResultSchema>

export const PreviewResultSchema = z.object({
  /** The checkpoint the predictions come from; null = the finished pretraining model. */
  checkpoint: z.number().nullable(),
  images: z.array(
    z.object({
      index: z.number().int(),
      label: z.number().int(),
      className: z.string(),
      views: z.array(
        z.object({
          rotation: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(3)]),
          png: z.string().startsWith('data:image/png;base64,'),
          probs: z.array(z.number()).length(4)
        })
      )
    })
  )
})
export type PreviewResult = z.infer<typeof PreviewResultSchema>

export const ReportArgSchema = z
  .object({
    runIds: z.array(RunId).min(1, 'choose at least one run').max(50),
    baselineId: z.string().nullable().default(null),
    sections: z
      .array(z.enum(['tables', 'curves', 'previews', 'perclass', 'maps', 'configs']))
      .min(1, 'choose at least one section')
      .default(['tables', 'curves', 'previews', 'maps', 'perclass', 'configs']),
    title: z.string().trim().min(1).max(200).default('Quarterturn results'),
    question: z.string().max(2000).default(''),
    /** Folder name under workspace/reports/ (letters, digits, - and _). */
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,80}$/, 'a folder name of letters, digits, - and _')
      .optional(),
    pdf: z.boolean().default(false),
    /** Also return the written files as one zip (base64), for a browser to download. */
    zip: z.boolean().default(false)
  })
  .strict()

export const ReportResultSchema = z.object({
  dir: z.string(),
  files: z.array(z.string()),
  html: z.string(),
  /** The report folder as a zip, base64 (only when asked for: it can be megabytes of images). */
  zip: z.string().optional()
})

/** Milliseconds of one training step: fixedMs + perImageMs x batch (images, before rotation). */
export const StepCostSchema = z.object({ fixedMs: z.number(), perImageMs: z.number() })
export type StepCost = z.infer<typeof StepCostSchema>

/** Timed training steps of a config on this machine, as a worker measures them (see src-shared/estimate.ts). */
export const EngineBenchmarkSchema = z.object({
  backend: z.string(),
  /** wasm threads, when the backend is wasm. */
  threads: z.number().int().nullable(),
  /** The run's pretraining method; null when pretraining is off. */
  pretrain: StepCostSchema.nullable(),
  /** PU estimation's RotNets; null when PU estimation is off. */
  rotnet: StepCostSchema.nullable(),
  /** Fine-tuning (and supervised training) steps. */
  supervised: StepCostSchema,
  /** Feature extraction in inference mode, per image. */
  forwardPerImageMs: z.number(),
  measuredAt: z.string(),
  /** Wall time the benchmark itself took. */
  seconds: z.number()
})
export type EngineBenchmark = z.infer<typeof EngineBenchmarkSchema>

/** A measurement as the host answers it: stored under `key` (what step time depends on), or just taken. */
export const EngineBenchmarkResultSchema = EngineBenchmarkSchema.extend({ key: z.string(), cached: z.boolean() })
export type EngineBenchmarkResult = z.infer<typeof EngineBenchmarkResultSchema>
