// The built-in methods' catalog entries, one each: name, label, summary, config schema (defaults
// are the reference's values unless a comment says otherwise) and traits. Their engine
// implementations are in src-engine/methods/, registered by src-engine/methods/registry.ts.
import { z } from 'zod'
import { headKind, int, num } from '../config/fields'
import { defineMethod } from './entry'

const ROTATION_ACCURACY = ['acc_rot', 'acc_r0', 'acc_r1', 'acc_r2', 'acc_r3'] as const

export const rotnet = defineMethod({
  name: 'rotnet',
  label: 'RotNet',
  summary: 'Predict the rotation (0/90/180/270) of each image.',
  schema: z.strictObject({
    method: z.literal('rotnet'),
    rotationHead: headKind.default('linear')
  }),
  traits: { rotationHead: true, projectionHead: false, needsLabels: false, views: 'rotations', puWeights: false, metrics: ['ce', ...ROTATION_ACCURACY] }
})

export const rfd = defineMethod({
  name: 'rfd',
  label: 'RFD (rotation feature decoupling)',
  summary: 'Rotation Feature Decoupling: rotation CE + invariance MSE + NCE with a memory bank.',
  schema: z.strictObject({
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
    puGamma: num(0.1, 10, 2, 'puGamma')
  }),
  traits: {
    rotationHead: true,
    projectionHead: true,
    needsLabels: false,
    views: 'rotations',
    puWeights: true,
    metrics: ['ce', 'mse', 'nce', ...ROTATION_ACCURACY]
  },
  fields: {
    lambdaMse: { label: 'λ invariance (MSE)' },
    lambdaNce: { label: 'λ NCE' },
    nceK: { label: 'NCE negatives K', unit: 'negatives', hint: 'Keep K much smaller than the dataset.' },
    nceT: { label: 'NCE temperature' },
    nceMomentum: { label: 'Memory-bank momentum' },
    nceReestimateZ: { label: 'Re-estimate NCE Z every step', hint: 'A remedy; off in the reference.' },
    puFromEpoch: { label: 'PU weights from epoch', unit: 'epoch (0-based)', hint: 'Empty: never (reference: 210).' },
    puGamma: { label: 'PU γ' }
  }
})

export const rfdContrastive = defineMethod({
  name: 'rfd-contrastive',
  label: 'RFD contrastive',
  summary: 'RFD with NT-Xent between each view and the mean, MLP heads.',
  schema: z.strictObject({
    method: z.literal('rfd-contrastive'),
    rotationHead: headKind.default('mlp'),
    projectionHead: headKind.default('mlp'),
    lambdaCls: num(0, 100, 1, 'lambdaCls'),
    lambdaNt: num(0, 100, 1, 'lambdaNt'),
    tau: num(0.001, 10, 0.1, 'tau')
  }),
  traits: {
    rotationHead: true,
    projectionHead: true,
    needsLabels: false,
    views: 'rotations',
    puWeights: false,
    metrics: ['ce', 'ntxent', 'mse', 'feat_std', ...ROTATION_ACCURACY]
  },
  fields: { lambdaNt: { label: 'λ NT-Xent' } }
})

export const simclr = defineMethod({
  name: 'simclr',
  label: 'SimCLR',
  summary: 'Two augmented crops, NT-Xent.',
  schema: z.strictObject({
    method: z.literal('simclr'),
    projectionHead: headKind.default('mlp'),
    tau: num(0.001, 10, 0.5, 'tau'),
    /** Colour-jitter strength s (brightness/contrast/saturation 0.8s, hue 0.2s), applied with p 0.8. */
    jitter: num(0, 2, 0.5, 'jitter strength'),
    minCropScale: num(0.05, 1, 0.2, 'minimum crop scale')
  }),
  traits: { rotationHead: false, projectionHead: true, needsLabels: false, views: 'simclr-pair', puWeights: false, metrics: ['ntxent', 'feat_std'] },
  fields: {
    jitter: { label: 'Colour-jitter strength', hint: 'Brightness/contrast/saturation 0.8·s, hue 0.2·s, applied with p 0.8.' },
    minCropScale: { label: 'Minimum crop scale' }
  }
})

export const supervised = defineMethod({
  name: 'supervised',
  label: 'Supervised',
  summary: 'Labels and cross-entropy (baseline / fine-tuning).',
  schema: z.strictObject({
    method: z.literal('supervised')
  }),
  traits: { rotationHead: false, projectionHead: false, needsLabels: true, views: 'images', puWeights: false, metrics: ['ce', 'acc'] }
})

/** In the order the form lists them. */
export const BUILTIN_METHODS = [rotnet, rfd, rfdContrastive, simclr, supervised] as const
