// A run: pretraining -> optional PU estimation -> optional fine-tuning on a labelled subset ->
// evaluations (linear / non-linear probes and kNN on a frozen layer, on the pretraining dataset
// and on transfer datasets). One zod schema per slice gives types, defaults, allowed ranges and
// the messages the CLI, the host and the run form show. Presets are plain configs.
import { z } from 'zod'
import { BackboneConfigSchema, MethodConfigSchema, OptimizerConfigSchema, ScheduleConfigSchema } from './train'
import { FEATURE_TAPS, REFERENCE_LUTS } from './names'
import { DATASET_ID_MESSAGE, DATASET_ID_PATTERN, SubsetIdSchema } from '../contract/datasets'
import { methodEntry, methodsWith } from '../methods/catalog'
import { SAMPLE_ID } from '../sample-dataset'

const int = (min: number, max: number, def: number, what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .min(min, `${what} must be at least ${min}`)
    .max(max, `${what} must be at most ${max}`)
    .default(def)

export const DatasetRefSchema = z.discriminatedUnion('kind', [
  /**
   * The sample drawn in memory when the run starts: the same images as the registered sample
   * drawn with the same numbers (src-shared/sample-dataset.ts), at any count or size (tiny test
   * runs, 32 px), and how configs named the sample before it was registered. The default, the
   * presets and `--dataset sample` name the registered sample.
   */
  z.strictObject({
    kind: z.literal('sample'),
    /** Training images per class (10 classes). */
    perClass: int(2, 5000, 200, 'images per class'),
    /** Held-out test images per class. */
    testPerClass: int(1, 1000, 50, 'test images per class'),
    size: z.union([z.literal(32), z.literal(64)]).default(64),
    seed: int(0, 2 ** 31 - 1, 1, 'dataset seed')
  }),
  z.strictObject({
    kind: z.literal('dataset'),
    /** A dataset registered in the workspace. */
    id: z.string().min(1, 'choose a dataset').regex(DATASET_ID_PATTERN, DATASET_ID_MESSAGE),
    trainSplit: z.string().default('train'),
    testSplit: z.string().default('test')
  })
])
export type DatasetRef = z.infer<typeof DatasetRefSchema>

export const LabelledSubsetSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('all') }),
  z.strictObject({ kind: z.literal('fraction'), value: z.number().gt(0, 'fraction must be above 0').max(1, 'fraction must be at most 1') }),
  /** The reference's 20% subset: the first N files per class in sorted order. */
  z.strictObject({ kind: z.literal('first-per-class'), value: int(1, 100000, 100, 'images per class') }),
  z.strictObject({ kind: z.literal('per-class'), value: int(1, 100000, 100, 'images per class') }),
  /** A labelled subset saved in the Datasets view (or `quarterturn dataset subset`), by id: the same images every time. */
  z.strictObject({ kind: z.literal('subset'), id: SubsetIdSchema })
])
export type LabelledSubset = z.infer<typeof LabelledSubsetSchema>

/**
 * Where the backbone's weights start: PyTorch's default initialisation from the run's seed, or a
 * .safetensors file (an exported Quarterturn backbone, or a converted PyTorch one: docs/weights.md).
 * The file is checked against the architecture and width when the run is created, and copied into
 * the run folder, so the run trains from the same weights when it is resumed.
 */
export const BackboneInitSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('random') }),
  z.strictObject({
    kind: z.literal('file'),
    /** Absolute path of a .safetensors file. */
    path: z
      .string({ error: 'give the path of a .safetensors file' })
      .trim()
      .min(1, 'give the path of a .safetensors file')
      .max(4096)
      .regex(/\.safetensors$/i, 'a weights file ends in .safetensors (convert a PyTorch .pth first: docs/weights.md)')
  })
])
export type BackboneInit = z.infer<typeof BackboneInitSchema>

const TrainSliceSchema = z.strictObject({
  optimizer: OptimizerConfigSchema.prefault({ kind: 'sgd' }),
  schedule: ScheduleConfigSchema.prefault({ kind: 'constant' }),
  batchSize: int(2, 4096, 64, 'batch size'),
  epochs: int(1, 10000, 5, 'epochs'),
  hflip: z.boolean().default(true)
})

export const ProbeConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  epochs: int(1, 1000, 20, 'probe epochs'),
  batchSize: int(2, 4096, 192, 'probe batch size'),
  schedule: ScheduleConfigSchema.prefault({ kind: 'lut', table: REFERENCE_LUTS.linearEval }),
  weightDecay: z.number().min(0).max(0.1).default(5e-4)
})

export const RunConfigSchema = z.strictObject({
  name: z.string().trim().min(1, 'give the run a name').max(80, 'name: at most 80 characters').default('run'),
  seed: int(0, 2 ** 31 - 1, 1, 'seed'),
  /** 'webgpu' named here also forces a software adapter (llvmpipe, SwiftShader), which 'auto' skips. */
  backend: z.enum(['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  dataset: DatasetRefSchema.prefault({ kind: 'dataset', id: SAMPLE_ID }),
  backbone: BackboneConfigSchema.extend({
    init: BackboneInitSchema.prefault({ kind: 'random' })
  }).prefault({}),
  pretrain: TrainSliceSchema.extend({
    enabled: z.boolean().default(true),
    method: MethodConfigSchema.prefault({ method: 'rotnet' })
  }).prefault({}),
  pu: z
    .strictObject({
      enabled: z.boolean().default(false),
      folds: int(2, 10, 3, 'PU folds'),
      epochs: int(1, 1000, 5, 'PU epochs')
    })
    .prefault({}),
  finetune: TrainSliceSchema.extend({
    enabled: z.boolean().default(false),
    labelled: LabelledSubsetSchema.prefault({ kind: 'fraction', value: 0.2 })
  }).prefault({}),
  evaluation: z
    .strictObject({
      /** Frozen layer the probes read (reference: conv5). */
      layer: z.enum(FEATURE_TAPS).default('conv5'),
      /** Spatial side after adaptive max-pooling of a conv layer; 0 = 6 for 224 input, 3 otherwise. */
      pool: int(0, 16, 0, 'pool size'),
      linear: ProbeConfigSchema.prefault({}),
      nonlinear: ProbeConfigSchema.extend({ enabled: z.boolean().default(false) }).prefault({ schedule: { kind: 'lut', table: REFERENCE_LUTS.nonLinearEval } }),
      knn: z
        .strictObject({
          enabled: z.boolean().default(true),
          k: int(1, 10000, 200, 'k'),
          temperature: z.number().gt(0, 'temperature must be above 0').max(10).default(0.07)
        })
        .prefault({}),
      transfer: z.array(DatasetRefSchema).max(8).default([])
    })
    .prefault({}),
  checkpoint: z
    .strictObject({
      intervalMin: z.number().min(0.05, 'checkpoint interval: at least 0.05 minutes').max(240).default(10),
      keep: int(1, 50, 3, 'checkpoints kept')
    })
    .prefault({})
})
export type RunConfig = z.infer<typeof RunConfigSchema>
export type RunConfigInput = z.input<typeof RunConfigSchema>

export function parseRunConfig(raw: unknown): RunConfig {
  const r = RunConfigSchema.safeParse(raw)
  if (r.success) {
    if (r.data.pu.enabled && !methodEntry(r.data.pretrain.method.method).traits.puWeights)
      throw new Error(`pu.enabled: PU weights apply to the ${methodsWith((t) => t.puWeights).join(', ')} method only`)
    if (r.data.finetune.labelled.kind === 'subset' && r.data.dataset.kind !== 'dataset')
      throw new Error('finetune.labelled: a saved subset belongs to a registered dataset; a sample drawn at run time takes a fraction or a count per class')
    if (!r.data.pretrain.enabled && r.data.pretrain.method.method === 'supervised') {
      // A supervised baseline is a fine-tune from random init: nothing to add here.
    }
    return r.data
  }
  const lines = r.error.issues.map((i) => {
    const where = i.path.join('.') || '(config)'
    if (i.code !== 'unrecognized_keys') return `${where}: ${i.message}`
    const known = keysAt(RunConfigSchema, i.path, raw)
    return i.keys
      .map((k) => {
        const near = closest(k, known)
        return `${where}: unknown key "${k}"${near ? `; did you mean "${near}"?` : known.length ? ` (known keys: ${known.join(', ')})` : ''}`
      })
      .join('; ')
  })
  throw new Error(`Invalid run config: ${lines.join('; ')}`)
}

/** The keys the object schema at `at` accepts, following `value` to pick a union's branch. */
function keysAt(schema: unknown, at: readonly PropertyKey[], value: unknown): string[] {
  type Def = {
    type: string
    innerType?: unknown
    shape?: Record<string, unknown>
    options?: unknown[]
    discriminator?: string
    element?: unknown
    in?: unknown
    values?: unknown[]
  }
  const def = (s: unknown): Def => (s as { _zod: { def: Def } })._zod.def
  let cur = schema
  let val = value
  for (let i = 0; ;) {
    const d = def(cur)
    if (d.innerType) cur = d.innerType
    else if (d.type === 'lazy') cur = (cur as { _zod: { innerType: unknown } })._zod.innerType
    else if (d.type === 'pipe' && d.in) cur = d.in
    else if (d.type === 'union' && d.options) {
      const tag = d.discriminator && val && typeof val === 'object' ? (val as Record<string, unknown>)[d.discriminator] : undefined
      const branch = d.options.find((o) => {
        const tagSchema = def(o).shape?.[d.discriminator ?? '']
        return tagSchema !== undefined && def(tagSchema).values?.includes(tag)
      })
      if (!branch) return []
      cur = branch
    } else if (i === at.length) return d.shape ? Object.keys(d.shape) : []
    else if (d.type === 'object' && d.shape) {
      const k = String(at[i++])
      cur = d.shape[k]
      val = val && typeof val === 'object' ? (val as Record<string, unknown>)[k] : undefined
      if (!cur) return []
    } else if (d.type === 'array' && d.element) {
      val = Array.isArray(val) ? val[Number(at[i++])] : undefined
      cur = d.element
    } else return []
  }
}

/** The known key a misspelt one most likely meant: case-insensitive equal, or within a few edits. */
export function closest(key: string, known: string[]): string | null {
  const lower = key.toLowerCase()
  let best: string | null = null
  let bestD = Math.max(2, Math.floor(key.length / 3)) + 1
  for (const k of known) {
    const d = k.toLowerCase() === lower ? 0 : editDistance(lower, k.toLowerCase())
    if (d < bestD) [best, bestD] = [k, d]
  }
  return best
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    prev = row
  }
  return prev[b.length]!
}

const fastBase = {
  backend: 'auto',
  dataset: { kind: 'dataset', id: SAMPLE_ID, trainSplit: 'train', testSplit: 'test' },
  backbone: { arch: 'alexnet64', width: 0.25 },
  evaluation: {
    linear: {
      epochs: 15,
      schedule: {
        kind: 'lut',
        table: [
          [5, 0.05],
          [10, 0.01],
          [15, 0.002]
        ]
      }
    },
    knn: { k: 20 }
  }
} as const

const paperBase = {
  backbone: { arch: 'alexnet224', width: 1 },
  dataset: { kind: 'dataset', id: 'tiny-imagenet', trainSplit: 'train', testSplit: 'test' },
  evaluation: {
    layer: 'conv5',
    linear: { epochs: 65, batchSize: 192, schedule: { kind: 'lut', table: REFERENCE_LUTS.linearEval } },
    nonlinear: { enabled: true, epochs: 65, batchSize: 192, schedule: { kind: 'lut', table: REFERENCE_LUTS.linearEval } },
    transfer: [
      { kind: 'dataset', id: 'miniplaces', trainSplit: 'train', testSplit: 'val' },
      { kind: 'dataset', id: 'cifar-10', trainSplit: 'train', testSplit: 'test' }
    ]
  }
} as const

const paperPretrain = { epochs: 200, batchSize: 192, schedule: { kind: 'lut', table: REFERENCE_LUTS.pretrain } } as const
const paperFinetune = {
  enabled: true,
  epochs: 65,
  batchSize: 192,
  schedule: { kind: 'lut', table: REFERENCE_LUTS.finetune },
  labelled: { kind: 'first-per-class', value: 100 }
} as const
const fastPretrain = { epochs: 3, batchSize: 32, schedule: { kind: 'constant', lr: 0.03 } } as const
const fastFinetune = { enabled: true, epochs: 4, batchSize: 32, schedule: { kind: 'constant', lr: 0.02 }, labelled: { kind: 'fraction', value: 0.2 } } as const

export interface Preset {
  name: string
  description: string
  config: RunConfigInput
}

/**
 * The seed's Table 1/2 models with the reference protocol (224-upsampled input, reference LUTs,
 * 200 pretraining epochs as the reference runs were stopped there), and a fast native-64
 * variant of each that runs in minutes on the built-in sample dataset.
 */
export const PRESETS: Preset[] = [
  {
    name: 'paper-supervised',
    description: 'Table 1: supervised baseline, random init, 20% labels (first 100/class), 65 epochs',
    config: {
      ...paperBase,
      name: 'supervised 20%',
      pretrain: { enabled: false, method: { method: 'rotnet' } },
      finetune: paperFinetune
    } as unknown as RunConfigInput
  },
  {
    name: 'paper-rfd',
    description: 'Table 1/2: RFD base (rotation CE + MSE + NCE), linear + non-linear conv5 probes, transfer',
    config: { ...paperBase, name: 'RFD base', pretrain: { ...paperPretrain, method: { method: 'rfd', nceK: 4096 } } } as unknown as RunConfigInput
  },
  {
    name: 'paper-rfd-contrastive',
    description: 'Table 1/2: RFD contrastive (NT-Xent + MLP heads), probes, transfer',
    config: { ...paperBase, name: 'RFD contrastive', pretrain: { ...paperPretrain, method: { method: 'rfd-contrastive' } } } as unknown as RunConfigInput
  },
  {
    name: 'paper-rfd-finetuned',
    description: 'Table 1/2: RFD base, then fine-tuned on 20% labels',
    config: {
      ...paperBase,
      name: 'RFD base + fine-tune',
      pretrain: { ...paperPretrain, method: { method: 'rfd', nceK: 4096 } },
      finetune: paperFinetune
    } as unknown as RunConfigInput
  },
  {
    name: 'paper-rfd-contrastive-finetuned',
    description: 'Table 1/2: RFD contrastive, then fine-tuned on 20% labels',
    config: {
      ...paperBase,
      name: 'RFD contrastive + fine-tune',
      pretrain: { ...paperPretrain, method: { method: 'rfd-contrastive' } },
      finetune: paperFinetune
    } as unknown as RunConfigInput
  },
  {
    name: 'fast-random',
    description: 'Fast: random-init backbone, probes only (the floor every method must beat)',
    config: { ...fastBase, name: 'random init', pretrain: { enabled: false, method: { method: 'rotnet' } } } as unknown as RunConfigInput
  },
  {
    name: 'fast-supervised',
    description: 'Fast: supervised baseline on 20% labels of the sample dataset',
    config: {
      ...fastBase,
      name: 'supervised 20%',
      pretrain: { enabled: false, method: { method: 'rotnet' } },
      finetune: fastFinetune
    } as unknown as RunConfigInput
  },
  {
    name: 'fast-rotnet',
    description: 'Fast: RotNet on the sample dataset, native 64 px',
    config: { ...fastBase, name: 'RotNet', pretrain: { ...fastPretrain, method: { method: 'rotnet' } } } as unknown as RunConfigInput
  },
  {
    name: 'fast-rfd',
    description: 'Fast: RFD base on the sample dataset (K=256, Z re-estimated)',
    config: {
      ...fastBase,
      name: 'RFD base',
      pretrain: { ...fastPretrain, method: { method: 'rfd', nceK: 256, nceReestimateZ: true } }
    } as unknown as RunConfigInput
  },
  {
    name: 'fast-rfd-contrastive',
    description: 'Fast: RFD contrastive on the sample dataset',
    config: { ...fastBase, name: 'RFD contrastive', pretrain: { ...fastPretrain, method: { method: 'rfd-contrastive' } } } as unknown as RunConfigInput
  },
  {
    name: 'fast-rfd-finetuned',
    description: 'Fast: RFD base, then fine-tuned on 20% labels',
    config: {
      ...fastBase,
      name: 'RFD base + fine-tune',
      pretrain: { ...fastPretrain, method: { method: 'rfd', nceK: 256, nceReestimateZ: true } },
      finetune: fastFinetune
    } as unknown as RunConfigInput
  },
  {
    name: 'fast-rfd-contrastive-finetuned',
    description: 'Fast: RFD contrastive, then fine-tuned on 20% labels',
    config: {
      ...fastBase,
      name: 'RFD contrastive + fine-tune',
      pretrain: { ...fastPretrain, method: { method: 'rfd-contrastive' } },
      finetune: fastFinetune
    } as unknown as RunConfigInput
  },
  {
    name: 'fast-simclr',
    description: 'Fast: SimCLR on the sample dataset',
    config: { ...fastBase, name: 'SimCLR', pretrain: { ...fastPretrain, method: { method: 'simclr' } } } as unknown as RunConfigInput
  }
]

export function presetByName(name: string): Preset | undefined {
  return PRESETS.find((p) => p.name === name)
}
