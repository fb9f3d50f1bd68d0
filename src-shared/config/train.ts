// Config slices of the engine, one zod schema each: they give the TypeScript types, the
// defaults, the allowed ranges (and the messages naming them) for the CLI, the host and the
// run form. Defaults are the reference's values unless a comment says otherwise.
import { z } from 'zod'
import { ALEXNET_ARCHS } from './names'

const num = (min: number, max: number, def: number, what: string) =>
  z.number({ error: `${what} must be a number` }).min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`).default(def)
const int = (min: number, max: number, def: number, what: string) =>
  z.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).min(min, `${what} must be at least ${min}`).max(max, `${what} must be at most ${max}`).default(def)

export const BackboneConfigSchema = z.strictObject({
  arch: z.enum(ALEXNET_ARCHS).default('alexnet64'),
  /** Multiplies every conv channel count and the fc width; 1 is the paper's AlexNet. */
  width: num(0.0625, 2, 1, 'width'),
})
export type BackboneConfig = z.infer<typeof BackboneConfigSchema>

export const OptimizerConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('sgd'),
    momentum: num(0, 0.999, 0.9, 'momentum'),
    nesterov: z.boolean().default(true),
    /** Coupled L2 on all parameters, BatchNorm included (the reference). */
    weightDecay: num(0, 0.1, 5e-4, 'weight decay'),
  }),
  z.strictObject({
    kind: z.literal('adam'),
    beta1: num(0, 0.9999, 0.9, 'beta1'),
    beta2: num(0, 0.99999, 0.999, 'beta2'),
    eps: num(1e-12, 1e-3, 1e-8, 'eps'),
    /** Decoupled (AdamW). */
    weightDecay: num(0, 1, 0, 'weight decay'),
  }),
])
export type OptimizerConfig = z.infer<typeof OptimizerConfigSchema>

export const ScheduleConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('lut'),
    /** [maxEpoch, lr] pairs: lr of the first entry whose maxEpoch > epoch (0-based). */
    table: z.array(z.tuple([z.number().int().positive(), z.number().positive().max(10)])).min(1, 'the learning-rate table needs at least one entry'),
  }),
  z.strictObject({
    kind: z.literal('cosine'),
    base: num(1e-7, 10, 0.05, 'base learning rate'),
    min: num(0, 1, 0, 'minimum learning rate'),
    warmupEpochs: num(0, 100, 0, 'warm-up epochs'),
  }),
  z.strictObject({ kind: z.literal('constant'), lr: num(1e-7, 10, 0.01, 'learning rate') }),
])
export type ScheduleConfig = z.infer<typeof ScheduleConfigSchema>

const headKind = z.enum(['linear', 'mlp'])

export const MethodConfigSchema = z.discriminatedUnion('method', [
  z.strictObject({
    method: z.literal('rotnet'),
    rotationHead: headKind.default('linear'),
  }),
  z.strictObject({
    method: z.literal('rfd'),
    rotationHead: headKind.default('linear'),
    projectionHead: headKind.default('linear'),
    lambdaCls: num(0, 100, 1, 'lambdaCls'),
    lambdaMse: num(0, 100, 1, 'lambdaMse'),
    lambdaNce: num(0, 100, 1, 'lambdaNce'),
    /** Negatives per sample (reference 4096 on ImageNet). Keep K much smaller than the dataset. */
    nceK: int(1, 65536, 4096, 'nceK'),
    nceT: num(0.001, 10, 0.07, 'nceT'),
    nceMomentum: num(0, 0.999, 0.5, 'nceMomentum'),
    /** Re-estimate the NCE normaliser Z every step instead of fixing it on the first (a remedy, off in the reference). */
    nceReestimateZ: z.boolean().default(false),
    /** Epoch (0-based) from which PU weights apply to the rotation loss; null = never (reference: 210). */
    puFromEpoch: z.number().int().min(0).nullable().default(null),
    puGamma: num(0.1, 10, 2, 'puGamma'),
  }),
  z.strictObject({
    method: z.literal('rfd-contrastive'),
    rotationHead: headKind.default('mlp'),
    projectionHead: headKind.default('mlp'),
    lambdaCls: num(0, 100, 1, 'lambdaCls'),
    lambdaNt: num(0, 100, 1, 'lambdaNt'),
    tau: num(0.001, 10, 0.1, 'tau'),
  }),
  z.strictObject({
    method: z.literal('simclr'),
    projectionHead: headKind.default('mlp'),
    tau: num(0.001, 10, 0.5, 'tau'),
    /** Colour-jitter strength s (brightness/contrast/saturation 0.8s, hue 0.2s), applied with p 0.8. */
    jitter: num(0, 2, 0.5, 'jitter strength'),
    minCropScale: num(0.05, 1, 0.2, 'minimum crop scale'),
  }),
  z.strictObject({
    method: z.literal('supervised'),
  }),
])
export type MethodConfig = z.infer<typeof MethodConfigSchema>
export type MethodName = MethodConfig['method']
export const METHOD_NAMES: MethodName[] = ['rotnet', 'rfd', 'rfd-contrastive', 'simclr', 'supervised']

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
  hflip: z.boolean().default(true),
})
export type TrainConfig = z.infer<typeof TrainConfigSchema>

/** Parse a TrainConfig, or throw one Error naming every bad field and its allowed range. */
export function parseTrainConfig(raw: unknown): TrainConfig {
  const r = TrainConfigSchema.safeParse(raw)
  if (r.success) return r.data
  const lines = r.error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`)
  throw new Error(`Invalid training config: ${lines.join('; ')}`)
}
