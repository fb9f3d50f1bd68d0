// Config slices of the engine, one zod schema each: they give the TypeScript types, the
// defaults, the allowed ranges (and the messages naming them) for the CLI, the host and the
// run form. Defaults are the reference's values unless a comment says otherwise.
import { z } from 'zod'
import { ALEXNET_ARCHS } from './names'
import { int, num } from './fields'
import { MethodConfigSchema } from '../methods/catalog'

export const BackboneConfigSchema = z.strictObject({
  arch: z.enum(ALEXNET_ARCHS).default('alexnet64'),
  /** Multiplies every conv channel count and the fc width; 1 is the paper's AlexNet. */
  width: num(0.0625, 2, 1, 'width')
})
export type BackboneConfig = z.infer<typeof BackboneConfigSchema>

export const OptimizerConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('sgd'),
    momentum: num(0, 0.999, 0.9, 'momentum'),
    nesterov: z.boolean().default(true),
    /** Coupled L2 on all parameters, BatchNorm included (the reference). */
    weightDecay: num(0, 0.1, 5e-4, 'weight decay')
  }),
  z.strictObject({
    kind: z.literal('adam'),
    beta1: num(0, 0.9999, 0.9, 'beta1'),
    beta2: num(0, 0.99999, 0.999, 'beta2'),
    eps: num(1e-12, 1e-3, 1e-8, 'eps'),
    /** Decoupled (AdamW). */
    weightDecay: num(0, 1, 0, 'weight decay')
  })
])
export type OptimizerConfig = z.infer<typeof OptimizerConfigSchema>

export const ScheduleConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('lut'),
    /** [maxEpoch, lr] pairs: lr of the first entry whose maxEpoch > epoch (0-based). */
    table: z.array(z.tuple([z.number().int().positive(), z.number().positive().max(10)])).min(1, 'the learning-rate table needs at least one entry')
  }),
  z.strictObject({
    kind: z.literal('cosine'),
    base: num(1e-7, 10, 0.05, 'base learning rate'),
    min: num(0, 1, 0, 'minimum learning rate'),
    warmupEpochs: num(0, 100, 0, 'warm-up epochs')
  }),
  z.strictObject({ kind: z.literal('constant'), lr: num(1e-7, 10, 0.01, 'learning rate') })
])
export type ScheduleConfig = z.infer<typeof ScheduleConfigSchema>

// The method slice is the method catalog's (src-shared/methods/catalog.ts): one entry per method.
export { MethodConfigSchema, METHOD_NAMES, type MethodConfig, type MethodConfigInput, type MethodName } from '../methods/catalog'

// The engine's own slice, built by the pipeline from a checked run config: not strict.
export const TrainConfigSchema = z.object({
  seed: int(0, 2 ** 31 - 1, 1, 'seed'),
  backbone: BackboneConfigSchema.prefault({}),
  method: MethodConfigSchema,
  optimizer: OptimizerConfigSchema.prefault({ kind: 'sgd' }),
  schedule: ScheduleConfigSchema.prefault({ kind: 'constant' }),
  /** Images per step (each gives 4 rotated views in the rotation methods). */
  batchSize: int(2, 4096, 64, 'batch size'),
  epochs: int(1, 10000, 10, 'epochs'),
  /** Random horizontal flip of the source image (reference: on). */
  hflip: z.boolean().default(true)
})
export type TrainConfig = z.infer<typeof TrainConfigSchema>

/** Parse a TrainConfig, or throw one Error naming every bad field and its allowed range. */
export function parseTrainConfig(raw: unknown): TrainConfig {
  const r = TrainConfigSchema.safeParse(raw)
  if (r.success) return r.data
  const lines = r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`)
  throw new Error(`Invalid training config: ${lines.join('; ')}`)
}
