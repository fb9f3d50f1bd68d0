// The one contract between the renderer and the host: every request (name, argument schema,
// result schema) and every pushed event (name, payload schema). Main, preload, web host,
// renderer and tests import it; no other file defines a channel or request name.
import { z } from 'zod'
import { SettingsPatchSchema, SettingsSchema } from './settings'
import { GpuAdapterSchema } from './gpu'
import { ExecutorReportSchema } from './executor'
import {
  AddArgSchema,
  AddSampleArgSchema,
  ByIdArgSchema,
  CancelArgSchema,
  CreateSubsetArgSchema,
  DatasetChangedSchema,
  DatasetDetailSchema,
  DatasetSummarySchema,
  ImageArgSchema,
  ImageResultSchema,
  IndexProgressSchema,
  InspectArgSchema,
  InspectResultSchema,
  ProblemsArgSchema,
  ProblemsResultSchema,
  SubsetInfoSchema,
  ThumbnailsArgSchema,
  ThumbnailsResultSchema
} from './datasets'
import { MapInfoSchema, MapProgressEventSchema, MapResultSchema, MapSpecSchema } from './maps'
import {
  AugmentArgSchema,
  EngineBenchmarkResultSchema,
  AugmentResultSchema,
  MetricRecordSchema,
  PresetInfoSchema,
  PreviewArgSchema,
  PreviewResultSchema,
  ReportArgSchema,
  ReportResultSchema,
  RunDetailSchema,
  RunImagesArgSchema,
  RunImagesResultSchema,
  RunNotesSchema,
  RunSummarySchema,
  SweepAxisSchema
} from './runs'

export * from './channels'
export * from './settings'
export * from './datasets'
export * from './runs'
export * from './gpu'

const NoArg = z.object({}).strict()
/** Run ids are folder names the host made: no path separators, no dots at the start. */
const RunIdArg = z.object({ id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,120}$/, 'not a run id') }).strict()

export const WorkspaceInfoSchema = z.object({
  /** Absolute path of the workspace folder in use. */
  path: z.string(),
  /** True once the folder exists and holds the workspace layout. */
  ready: z.boolean(),
  /** Bytes free / total on the volume holding the workspace (nearest existing ancestor). */
  freeBytes: z.number().nonnegative(),
  totalBytes: z.number().nonnegative(),
  /** Whether the path came from settings or is the built-in default. */
  source: z.enum(['settings', 'default'])
})
export type WorkspaceInfo = z.infer<typeof WorkspaceInfoSchema>

export const BackendStatusSchema = z.object({
  name: z.enum(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']),
  /** The npm package that provides it. */
  pkg: z.string(),
  ok: z.boolean(),
  /** What was checked and what happened ("ran a 2x2 matmul in 3 ms", or the error). */
  detail: z.string(),
  /** How to make it load, when it did not. */
  fix: z.string().nullable(),
  /** The GPU adapter found (webgpu only), whether or not it is used. */
  adapter: GpuAdapterSchema.optional()
})
export type BackendStatus = z.infer<typeof BackendStatusSchema>

export const AppInfoSchema = z.object({
  name: z.literal('Quarterturn'),
  version: z.string(),
  /** Which entry point serves this renderer. */
  shell: z.enum(['electron', 'web']),
  platform: z.string(),
  node: z.string()
})
export type AppInfo = z.infer<typeof AppInfoSchema>

/** Every request the renderer may make: argument schema and result schema. */
export const requests = {
  'app.info': { arg: NoArg, result: AppInfoSchema },
  'settings.get': { arg: NoArg, result: SettingsSchema },
  'settings.update': { arg: SettingsPatchSchema, result: SettingsSchema },
  'settings.reset': { arg: NoArg, result: SettingsSchema },
  'workspace.get': { arg: NoArg, result: WorkspaceInfoSchema },
  'workspace.open': {
    arg: z.object({ path: z.string().min(1, 'a folder path is required') }).strict(),
    result: WorkspaceInfoSchema
  },
  /** Native folder picker; only the Electron shell supports it (the browser types a path). */
  'workspace.pickFolder': { arg: NoArg, result: z.object({ path: z.string().nullable() }) },
  'backends.detect': { arg: NoArg, result: z.array(BackendStatusSchema) },
  /** Where the workspace's runs train (local or Slurm) and whether each executor can run on the host. */
  'executors.describe': { arg: NoArg, result: ExecutorReportSchema },
  /**
   * Time a run config's training steps on this machine. mode 'cached': the stored measurement or
   * null; 'measure': stored or new; 'refresh': new. Progress: engine.progress.
   */
  'engine.benchmark': {
    arg: z.object({ config: z.record(z.string(), z.unknown()), mode: z.enum(['cached', 'measure', 'refresh']).default('measure') }).strict(),
    result: EngineBenchmarkResultSchema.nullable()
  },
  'runs.list': { arg: NoArg, result: z.array(RunSummarySchema) },
  'runs.get': { arg: RunIdArg, result: RunDetailSchema },
  /** Validated against the run config schema by the host; errors name the field and range. */
  'runs.create': {
    arg: z.object({ config: z.record(z.string(), z.unknown()), preset: z.string().min(1).nullable().default(null) }).strict(),
    result: RunSummarySchema
  },
  /** "Repeat with N seeds": one run per seed, the config otherwise the same, sharing a group id. */
  'runs.createGroup': {
    arg: z
      .object({
        config: z.record(z.string(), z.unknown()),
        preset: z.string().min(1).nullable().default(null),
        seeds: z
          .array(
            z
              .number()
              .int('a seed is a whole number')
              .min(0, 'a seed is at least 0')
              .max(2 ** 31 - 1)
          )
          .min(2, 'give at least two seeds')
          .max(20, 'at most 20 seeds')
      })
      .strict(),
    result: z.array(RunSummarySchema)
  },
  /**
   * A grid sweep: one or two numeric settings, each with a list of values, optionally crossed with
   * seeds; one queued run per grid point and seed. Every config is checked before any is created.
   */
  'runs.createSweep': {
    arg: z
      .object({
        config: z.record(z.string(), z.unknown()),
        preset: z.string().min(1).nullable().default(null),
        axes: z.array(SweepAxisSchema).min(1, 'choose a setting to vary').max(2, 'at most two settings vary at once'),
        seeds: z
          .array(
            z
              .number()
              .int('a seed is a whole number')
              .min(0, 'a seed is at least 0')
              .max(2 ** 31 - 1)
          )
          .min(1)
          .max(20, 'at most 20 seeds')
          .nullable()
          .default(null)
      })
      .strict(),
    result: z.array(RunSummarySchema)
  },
  'runs.pause': { arg: RunIdArg, result: RunSummarySchema },
  'runs.resume': { arg: RunIdArg, result: RunSummarySchema },
  'runs.cancel': { arg: RunIdArg, result: RunSummarySchema },
  /**
   * Set a run's tags and notes (runs/<id>/notes.json). Allowed whoever trains the run: the notes
   * are a file of their own that training never writes.
   */
  'runs.annotate': { arg: RunIdArg.extend(RunNotesSchema.shape).strict(), result: RunSummarySchema },
  /** Delete a run's folder. Refused while the run is queued or running, or another process owns it. */
  'runs.delete': { arg: RunIdArg, result: z.object({ removed: z.boolean() }) },
  /**
   * A run's trained backbone (with its pretraining method's heads when asked) as a .safetensors
   * file in PyTorch's layout (docs/weights.md), written under workspace/exports/weights/; `data`
   * also returns its bytes (base64) for a browser or a CLI on another machine to save, when the
   * file is small enough to travel in one message (64 MiB; a bigger one stays on the host).
   */
  'runs.exportWeights': {
    arg: RunIdArg.extend({
      /** null: the last stage the run trains. */
      stage: z.enum(['pretrain', 'finetune']).nullable().default(null),
      heads: z.boolean().default(false),
      data: z.boolean().default(false)
    }).strict(),
    result: z.object({
      /** Where the host wrote it. */
      file: z.string(),
      name: z.string(),
      stage: z.enum(['pretrain', 'finetune']),
      tensors: z.number(),
      bytes: z.number(),
      sha256: z.string(),
      metadata: z.record(z.string(), z.string()),
      data: z.string().optional()
    })
  },
  'runs.metrics': {
    arg: RunIdArg.extend({
      maxPoints: z.number().int().min(10).max(200000).default(5000),
      /** Only this stage's records (a comparison's curves of one metric). */
      stage: z.string().max(300).optional(),
      /** Only these metrics, with each record's stage, epoch, step and t; records holding none are left out. */
      keys: z.array(z.string().max(100)).max(50).optional()
    }),
    result: z.array(MetricRecordSchema)
  },
  'runs.presets': { arg: NoArg, result: z.array(PresetInfoSchema) },
  /** The four rotated views of a few images with the model's rotation probabilities. */
  'runs.preview': { arg: PreviewArgSchema, result: PreviewResultSchema },
  /** Training views of a few images as the run's pretraining method makes them. */
  'runs.augmentations': { arg: AugmentArgSchema, result: AugmentResultSchema },
  /** Thumbnails of the run's dataset split (paged, or by index). */
  'runs.images': { arg: RunImagesArgSchema, result: RunImagesResultSchema },
  /** Start an embedding map of a run's features (cached by its parameters); progress arrives as maps.progress. */
  'maps.compute': { arg: z.object({ id: RunIdArg.shape.id, spec: MapSpecSchema }).strict(), result: z.object({ key: z.string(), cached: z.boolean() }) },
  'maps.get': { arg: z.object({ id: RunIdArg.shape.id, key: z.string().regex(/^[A-Za-z0-9._-]+$/) }).strict(), result: MapResultSchema },
  /** The maps stored for a run, newest first. */
  'maps.list': { arg: RunIdArg, result: z.array(MapInfoSchema) },
  'maps.cancel': { arg: z.object({ id: RunIdArg.shape.id, key: z.string() }).strict(), result: z.object({}) },
  /** Write a results report (HTML, Markdown, CSV, JSON; PDF in the app) under workspace/reports/. */
  'reports.export': { arg: ReportArgSchema, result: ReportResultSchema },
  /** Registered datasets of the workspace, the built-in sample first. */
  'datasets.list': { arg: NoArg, result: z.array(DatasetSummarySchema) },
  /** Detect and check a folder; writes nothing. Progress as datasets.progress with `jobId`. */
  'datasets.inspect': { arg: InspectArgSchema, result: InspectResultSchema },
  /** Register a folder and index it in the background (progress: datasets.progress; end: datasets.changed). */
  'datasets.add': { arg: AddArgSchema, result: DatasetSummarySchema },
  /** Draw and index the built-in sample dataset (10 classes, 64x64). */
  'datasets.addSample': { arg: AddSampleArgSchema, result: DatasetSummarySchema },
  /** Cancel a dataset's indexing ({id}) or an inspect job ({jobId}). */
  'datasets.cancel': { arg: CancelArgSchema, result: z.object({ cancelled: z.boolean() }) },
  'datasets.get': { arg: ByIdArgSchema, result: DatasetDetailSchema },
  'datasets.problems': { arg: ProblemsArgSchema, result: ProblemsResultSchema },
  /** A page of thumbnails (PNG data URLs) from the cache, of a split and optionally one class. */
  'datasets.thumbnails': { arg: ThumbnailsArgSchema, result: ThumbnailsResultSchema },
  /** One image at the cache's full size. */
  'datasets.image': { arg: ImageArgSchema, result: ImageResultSchema },
  'datasets.reindex': { arg: ByIdArgSchema, result: DatasetSummarySchema },
  /** Unregister and delete the cache (never the source folder). */
  'datasets.remove': { arg: ByIdArgSchema, result: z.object({ removed: z.boolean() }) },
  /** A labelled subset of a split, saved with the dataset; the same selection returns the same subset. */
  'datasets.createSubset': { arg: CreateSubsetArgSchema, result: SubsetInfoSchema },
  'datasets.listSubsets': { arg: ByIdArgSchema, result: z.array(SubsetInfoSchema) }
} as const

/** Every event the host pushes to renderers. */
export const events = {
  'settings.changed': SettingsSchema,
  'workspace.changed': WorkspaceInfoSchema,
  'runs.changed': RunSummarySchema,
  /** A run's folder was deleted (here or by another process on the workspace). */
  'runs.removed': z.object({ id: z.string() }),
  /** Metric records, batched and throttled (every step is on disk). */
  'runs.metrics': z.object({ id: z.string(), records: z.array(MetricRecordSchema) }),
  'maps.progress': MapProgressEventSchema,
  'engine.progress': z.object({ key: z.string(), phase: z.string(), fraction: z.number() }),
  'runs.log': z.object({ id: z.string(), level: z.enum(['info', 'warn', 'error']), message: z.string() }),
  /** Indexing or inspect progress (throttled at the source, ~5 per second), and its end. */
  'datasets.progress': IndexProgressSchema,
  /** A dataset was added, changed state or was removed (dataset: null). */
  'datasets.changed': DatasetChangedSchema
} as const

export type RequestName = keyof typeof requests
export type EventName = keyof typeof events
export type RequestArg<K extends RequestName> = z.input<(typeof requests)[K]['arg']>
/** The argument after validation (defaults filled): what handlers receive. */
export type RequestParsedArg<K extends RequestName> = z.output<(typeof requests)[K]['arg']>
export type RequestResult<K extends RequestName> = z.output<(typeof requests)[K]['result']>
export type EventPayload<K extends EventName> = z.output<(typeof events)[K]>
/** A pushed event as one value: what services hand the Host to push (`name` picks `payload`'s type). */
export type HostEvent<K extends EventName = EventName> = { [P in K]: { name: P; payload: EventPayload<P> } }[K]

export const requestNames = Object.keys(requests) as RequestName[]
export const eventNames = Object.keys(events) as EventName[]

export function isRequestName(name: unknown): name is RequestName {
  return typeof name === 'string' && Object.hasOwn(requests, name)
}
export function isEventName(name: unknown): name is EventName {
  return typeof name === 'string' && Object.hasOwn(events, name)
}

/** Typed error codes every transport uses. */
export const ErrorCodeSchema = z.enum([
  'invalid-argument', // the argument failed its schema
  'unknown-request', // no such request name
  'unauthorized', // the caller is not allowed (bad token, foreign frame)
  'unsupported', // this shell cannot do it (e.g. native dialogs in the browser)
  'failed', // the service refused or failed, with a message for the user
  'internal' // a bug: the message is logged on the host
])
export type ErrorCode = z.infer<typeof ErrorCodeSchema>

export const ApiErrorSchema = z.object({
  code: ErrorCodeSchema,
  message: z.string(),
  /** Field-level problems, for invalid-argument. */
  issues: z.array(z.object({ path: z.string(), message: z.string() })).optional()
})
export type ApiErrorData = z.infer<typeof ApiErrorSchema>

export const EnvelopeSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), value: z.unknown() }),
  z.object({ ok: z.literal(false), error: ApiErrorSchema })
])
export type Envelope = z.infer<typeof EnvelopeSchema>

/** WebSocket frames, client -> host. */
export const WsClientFrameSchema = z.object({
  id: z.number().int().nonnegative(),
  name: z.string(),
  arg: z.unknown()
})
/** WebSocket frames, host -> client. */
export const WsHostFrameSchema = z.union([
  z.object({ id: z.number().int().nonnegative().nullable(), reply: EnvelopeSchema }),
  z.object({ event: z.string(), payload: z.unknown() })
])
export type WsHostFrame = z.infer<typeof WsHostFrameSchema>

/** Turn zod issues into the contract's field-level issues. */
export function issuesOf(error: z.ZodError): { path: string; message: string }[] {
  return error.issues.map((i) => ({ path: i.path.map(String).join('.') || '(argument)', message: i.message }))
}

/** Thrown by api clients when the host answers with an error envelope. */
export class ApiError extends Error {
  readonly code: ErrorCode
  readonly issues?: { path: string; message: string }[]
  constructor(data: ApiErrorData) {
    super(data.message)
    this.name = 'ApiError'
    this.code = data.code
    this.issues = data.issues
  }
}
