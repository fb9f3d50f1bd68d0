// SimCLR (Chen et al., ICML 2020): two augmented crops of each image (random resized crop,
// flip, colour jitter, grayscale), MLP projection, NT-Xent with the pair as positives.
import * as tf from '@tensorflow/tfjs-core'
import type { MethodConfig } from '../../src-shared/config/train'
import { Head } from '../models/heads'
import { ntXent } from '../losses'
import { simclrAugment, normalizeImages } from '../data/augment'
import { featureSpread } from './common'
import { PROJECTION_DIM } from './rfd'
import type { Method, MethodContext } from './types'

export function createSimclr(cfg: Extract<MethodConfig, { method: 'simclr' }>, mc: MethodContext): Method {
  const d = mc.backbone.featureDim
  const proj = new Head(mc.params, 'proj_head', d, PROJECTION_DIM, cfg.projectionHead, Math.max(4, Math.round(d / 2)), true)
  const aug = { minScale: cfg.minCropScale, jitter: cfg.jitter, outSize: mc.backbone.inputSize }
  return {
    name: 'simclr',
    project: (fc) => proj.apply(fc),
    forward(batch, ctx) {
      const a = normalizeImages(simclrAugment(batch.images, aug, mc.rng))
      const b = normalizeImages(simclrAugment(batch.images, aug, mc.rng))
      const f = mc.backbone.forward(tf.concat([a, b], 0), ctx).fc
      const z = proj.apply(f)
      const n = batch.images.shape[0]
      const z1 = tf.slice(z, [0, 0], [n, -1])
      const z2 = tf.slice(z, [n, 0], [n, -1])
      const loss = ntXent(z1, z2, cfg.tau)
      return { loss, metrics: { ntxent: loss, feat_std: featureSpread(z1) } }
    }
  }
}
