// Dataset schemas of the contract: what the renderer may ask about datasets (arguments, validated
// by the host) and what it gets back (results and pushed events). The host keeps the same shapes
// in datasets/<id>/dataset.json. No Node types here: the renderer compiles this file too.
import { z } from 'zod'
import { SAMPLE_DEFAULTS } from '../sample-dataset'

/** Registered dataset id: lower-case slug, so it can never name a path outside datasets/. */
export const DATASET_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/
export const DATASET_ID_MESSAGE = 'a dataset id is lower-case letters, digits, "-" or "_" (at most 64)'
export const DatasetIdSchema = z.string().regex(DATASET_ID_PATTERN, DATASET_ID_MESSAGE)
export type DatasetId = z.infer<typeof DatasetIdSchema>

/** Caller-chosen id of an inspect job, so its progress events and a cancel can name it. */
export const JobIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'a job id is letters, digits, "-" or "_" (at most 64)')

export const SPLIT_NAMES = ['train', 'val', 'test', 'unlabelled'] as const
export const SplitNameSchema = z.enum(SPLIT_NAMES)
export type SplitName = z.infer<typeof SplitNameSchema>

export const LayoutKindSchema = z.enum([
  'tiny-imagenet', // wnids.txt, words.txt, train/<wnid>/images/, val/val_annotations.txt, test/images/
  'miniplaces', // images/{train,val,test}/, data/{train,val}.txt, data/categories.txt
  'cifar10-binary', // cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin, batches.meta.txt
  'imagefolder', // <root>/<class>/*
  'imagefolder-splits', // <root>/{train,val,test}/<class>/*
  'flat-unlabelled' // <root>/* images, no labels (pretraining only)
])
export type LayoutKind = z.infer<typeof LayoutKindSchema>

export const ProblemKindSchema = z.enum([
  'corrupt', // the decoder rejected it
  'truncated', // the file ends before the image does
  'empty-file', // zero bytes
  'not-an-image', // not a JPEG, PNG, WebP, GIF or BMP
  'unreadable', // permission denied, broken link, not a regular file
  'symlink-loop', // a symbolic link that leads back into a folder above it
  'empty-class', // a class with no usable image
  'duplicate', // the same bytes as another file
  'too-small', // shorter side below the dataset's minimum
  'too-large', // over the pixel limit of decoding (a header may claim any size)
  'missing-file', // an annotation names a file that is not there
  'no-label' // an image the layout gives no class to
])
export type ProblemKind = z.infer<typeof ProblemKindSchema>

export const ProblemSchema = z.object({
  kind: ProblemKindSchema,
  /** Relative to the dataset folder (a class name for empty-class). */
  path: z.string(),
  reason: z.string(),
  /** True when the file was left out of the cache; false when only reported. */
  skipped: z.boolean()
})
export type Problem = z.infer<typeof ProblemSchema>

export const ProblemCountsSchema = z.partialRecord(ProblemKindSchema, z.number().int().nonnegative())
export type ProblemCounts = z.infer<typeof ProblemCountsSchema>

const Count = z.number().int().nonnegative()
export const SplitCountsSchema = z.partialRecord(SplitNameSchema, Count)

export const ClassInfoSchema = z.object({
  index: Count,
  /** Folder name or WordNet id. */
  id: z.string(),
  /** Human name (words.txt, categories.txt, batches.meta.txt), else the id. */
  name: z.string(),
  counts: SplitCountsSchema
})
export type ClassInfo = z.infer<typeof ClassInfoSchema>

export const SplitInfoSchema = z.object({
  name: SplitNameSchema,
  count: Count,
  labelled: z.boolean(),
  /** 'dataset': the dataset's own split; 'generated': a seeded stratified split made here. */
  origin: z.enum(['dataset', 'generated']),
  /** Where it came from, in words ("train/<wnid>/images, 80% per class, seed 0"). */
  detail: z.string()
})
export type SplitInfo = z.infer<typeof SplitInfoSchema>

export const SizeStatsSchema = z.object({
  images: Count,
  minWidth: Count,
  maxWidth: Count,
  minHeight: Count,
  maxHeight: Count,
  medianWidth: Count,
  medianHeight: Count,
  /** Most common sizes, most frequent first (at most 5). */
  common: z.array(z.object({ width: Count, height: Count, count: Count })).max(5)
})
export type SizeStats = z.infer<typeof SizeStatsSchema>

const Hex = z.string().regex(/^[0-9a-f]+$/)
export const FingerprintSchema = z.object({
  /** Short id of everything below: two runs with the same id saw the same data. */
  id: Hex.length(16),
  files: Count,
  bytes: Count,
  /** SHA-256 of the sorted source file list with sizes and mtimes. */
  listSha256: Hex.length(64),
  /** SHA-256 over the cache files' own SHA-256 and the working size. */
  cacheSha256: Hex.length(64)
})
export type Fingerprint = z.infer<typeof FingerprintSchema>

export const DatasetStatusSchema = z.enum([
  'indexing', // a job is running now
  'ready', // the cache is complete
  'failed', // the last job failed (statusMessage says why)
  'cancelled', // the last job was cancelled
  'interrupted' // the app stopped while indexing
])
export type DatasetStatus = z.infer<typeof DatasetStatusSchema>

export const SplitOptionsSchema = z
  .object({
    /** Seed of generated splits. */
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(0),
    /** Share of each class put in val when the dataset has no val split. */
    valFraction: z.number().min(0).max(0.5).default(0.1),
    /**
     * Share of each class put in test when the dataset has no labelled test split. null: 0.2 for
     * Tiny-ImageNet (the reference's 80/20 split of train), 0.1 otherwise.
     */
    testFraction: z.number().min(0).max(0.5).nullable().default(null)
  })
  .strict()
export type SplitOptions = z.infer<typeof SplitOptionsSchema>

export const IndexOptionsSchema = z
  .object({
    /** Side of the cached square images; null: the native size (see the README). */
    workingSize: z.number().int().min(8).max(512).nullable().default(null),
    /** Images whose shorter side is below this are reported as too small and left out. */
    minImageSide: z.number().int().min(1).max(512).default(16),
    split: SplitOptionsSchema.default(SplitOptionsSchema.parse({}))
  })
  .strict()
export type IndexOptions = z.infer<typeof IndexOptionsSchema>
export type IndexOptionsInput = z.input<typeof IndexOptionsSchema>

export const DatasetSummarySchema = z.object({
  id: DatasetIdSchema,
  name: z.string(),
  /** Absolute folder the images come from. */
  source: z.string(),
  /** False when that folder is gone or unreadable now (the cache still serves). */
  sourceAvailable: z.boolean(),
  /** The built-in sample dataset. */
  builtIn: z.boolean(),
  layout: LayoutKindSchema.nullable(),
  status: DatasetStatusSchema,
  statusMessage: z.string().nullable(),
  /** A complete cache is there to read (possibly from before a failed re-index). */
  cacheReady: z.boolean(),
  workingSize: z.number().int().positive().nullable(),
  images: Count,
  classes: Count,
  splits: z.array(SplitInfoSchema),
  problems: Count,
  createdAt: z.string(),
  indexedAt: z.string().nullable(),
  fingerprint: FingerprintSchema.nullable(),
  options: IndexOptionsSchema,
  /**
   * Set when datasets/<id>/ cannot be read as a dataset (its dataset.json is missing, cut short,
   * not JSON, or not a dataset record): why, and what the user can do. It is listed so that it
   * can be seen and removed; the other fields are then placeholders (status 'failed').
   */
  damaged: z.object({ reason: z.string(), action: z.string() }).nullable().default(null)
})
export type DatasetSummary = z.infer<typeof DatasetSummarySchema>

export const DatasetDetailSchema = DatasetSummarySchema.extend({
  /** What the layout detection saw, one line each. */
  evidence: z.array(z.string()),
  classList: z.array(ClassInfoSchema),
  problemCounts: ProblemCountsSchema,
  sizeStats: SizeStatsSchema.nullable(),
  /** How images were brought to the working size, in words. */
  resizePolicy: z.string(),
  cacheBytes: Count
})
export type DatasetDetail = z.infer<typeof DatasetDetailSchema>

export const InspectResultSchema = z.object({
  path: z.string(),
  layout: LayoutKindSchema,
  evidence: z.array(z.string()),
  classes: z.array(ClassInfoSchema),
  splits: z.array(SplitInfoSchema),
  sizeStats: SizeStatsSchema,
  problems: z.array(ProblemSchema),
  problemCounts: ProblemCountsSchema,
  /** Files considered (images and record files). */
  files: Count,
  usableImages: Count,
  /** The working size `add` would choose (the same decision). */
  suggestedWorkingSize: z.number().int().positive(),
  /** Why that size, in words. */
  workingSizeReason: z.string().default('')
})
export type InspectResult = z.infer<typeof InspectResultSchema>

export const IndexPhaseSchema = z.enum(['scanning', 'decoding', 'finishing', 'done', 'failed', 'cancelled'])
export const IndexProgressSchema = z.object({
  jobId: z.string(),
  /** null for an inspect job. */
  datasetId: DatasetIdSchema.nullable(),
  source: z.string(),
  phase: IndexPhaseSchema,
  /** Files found so far while scanning. */
  filesSeen: Count,
  /** Images to process (known once scanning ends). */
  total: Count,
  decoded: Count,
  /** Taken unchanged from the previous cache. */
  reused: Count,
  skipped: Count,
  elapsedMs: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
  message: z.string().nullable()
})
export type IndexProgress = z.infer<typeof IndexProgressSchema>

const absolutePath = z
  .string()
  .min(1, 'a folder path is required')
  .max(4096)
  .refine((p) => p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\'), 'give the full (absolute) folder path')

export const InspectArgSchema = z
  .object({
    path: absolutePath,
    options: IndexOptionsSchema.optional(),
    jobId: JobIdSchema.optional()
  })
  .strict()

export const AddArgSchema = z
  .object({
    path: absolutePath,
    /** Display name; default: the folder name. */
    name: z.string().trim().min(1).max(120).optional(),
    /** Id to register it under (what run configs name); default: from the folder name. */
    id: DatasetIdSchema.optional(),
    options: IndexOptionsSchema.optional()
  })
  .strict()

export const AddSampleArgSchema = z
  .object({
    perClass: z.number().int().min(2).max(1000).default(SAMPLE_DEFAULTS.perClass),
    testPerClass: z.number().int().min(1).max(1000).default(SAMPLE_DEFAULTS.testPerClass),
    seed: z
      .number()
      .int()
      .min(0)
      .max(2 ** 31 - 1)
      .default(SAMPLE_DEFAULTS.seed)
  })
  .strict()

export const ByIdArgSchema = z.object({ id: DatasetIdSchema }).strict()

export const CancelArgSchema = z.union([z.object({ id: DatasetIdSchema }).strict(), z.object({ jobId: JobIdSchema }).strict()])

export const ThumbnailsArgSchema = z
  .object({
    id: DatasetIdSchema,
    split: SplitNameSchema,
    /** Only this class; omitted or null: all. */
    classIndex: z.number().int().min(0).nullable().optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(200).default(60),
    /** Thumbnail side in pixels (never above the cache size). */
    size: z.number().int().min(8).max(256).default(64)
  })
  .strict()

export const ThumbnailSchema = z.object({
  /** Position in the split (the argument of datasets.image). */
  index: Count,
  label: z.number().int().min(-1),
  className: z.string().nullable(),
  path: z.string(),
  /** data:image/png;base64,… */
  dataUrl: z.string().startsWith('data:image/png;base64,')
})
export const ThumbnailsResultSchema = z.object({ total: Count, offset: Count, items: z.array(ThumbnailSchema) })
export type ThumbnailsResult = z.infer<typeof ThumbnailsResultSchema>

export const ImageArgSchema = z.object({ id: DatasetIdSchema, split: SplitNameSchema, index: z.number().int().min(0) }).strict()
export const ImageResultSchema = ThumbnailSchema.extend({
  /** Side of the cached image. */
  size: z.number().int().positive(),
  originalWidth: Count,
  originalHeight: Count
})
export type ImageResult = z.infer<typeof ImageResultSchema>

export const ProblemsArgSchema = z
  .object({
    id: DatasetIdSchema,
    kind: ProblemKindSchema.optional(),
    offset: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(1000).default(200)
  })
  .strict()
export const ProblemsResultSchema = z.object({ total: Count, offset: Count, items: z.array(ProblemSchema) })

export const SubsetSelectionSchema = z.discriminatedUnion('mode', [
  /** A share of each class, seeded. */
  z
    .object({
      mode: z.literal('fraction'),
      fraction: z.number().gt(0).max(1),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1)
        .default(0)
    })
    .strict(),
  /** N random images of each class, seeded. */
  z
    .object({
      mode: z.literal('perClass'),
      count: z.number().int().min(1),
      seed: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1)
        .default(0)
    })
    .strict(),
  /** The first N of each class in sorted path order (the reference's "first 100 per class"). */
  z.object({ mode: z.literal('firstN'), count: z.number().int().min(1) }).strict()
])
export type SubsetSelection = z.infer<typeof SubsetSelectionSchema>

export const SubsetIdSchema = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,79}$/, 'a subset id is lower-case letters, digits, ".", "-" or "_"')

export const CreateSubsetArgSchema = z
  .object({
    id: DatasetIdSchema,
    split: SplitNameSchema.exclude(['unlabelled']).default('train'),
    selection: SubsetSelectionSchema,
    name: z.string().trim().min(1).max(120).optional()
  })
  .strict()

export const SubsetInfoSchema = z.object({
  id: SubsetIdSchema,
  datasetId: DatasetIdSchema,
  name: z.string(),
  split: SplitNameSchema,
  selection: SubsetSelectionSchema,
  count: Count,
  /** Images per class, by class index. */
  perClass: z.array(Count),
  createdAt: z.string(),
  /** The dataset fingerprint id the subset was drawn from. */
  fingerprintId: z.string()
})
export type SubsetInfo = z.infer<typeof SubsetInfoSchema>

export const DatasetChangedSchema = z.object({
  id: DatasetIdSchema,
  /** null: the dataset was removed. */
  dataset: DatasetSummarySchema.nullable()
})
