// Rotation Feature Decoupling (Feng, Xu & Tao, CVPR 2019), as the official code trains it:
//   feature (fc7) split in halves: rotation half -> rotation classifier, cross-entropy
//   (PU-weighted from `puFromEpoch` when probabilities are given); invariant half -> MSE to the
//   detached mean of the image's 4 views, and the mean -> 128-d L2-normalised projection -> NCE
//   instance discrimination against a memory bank of all images.
//   loss = lambdaCls*CE + lambdaMse*MSE + lambdaNce*NCE.
import * as tf from '@tensorflow/tfjs-core'
import type { MethodConfig } from '../../src-shared/config/train'
import { Head } from '../models/heads'
import { MemoryBank, invarianceMse, meanOverRotations, puWeights, rotationCrossEntropy } from '../losses'
import { decoupledForward, rotationAccuracy, splitFeature } from './common'
import { rotationHidden } from './rotnet'
import type { Method, MethodContext } from './types'

export const PROJECTION_DIM = 128

export function createRfd(cfg: Extract<MethodConfig, { method: 'rfd' }>, mc: MethodContext): Method {
  const half = Math.floor(mc.backbone.featureDim / 2)
  const rotHead = new Head(mc.params, 'rot_head', half, 4, cfg.rotationHead, rotationHidden(half))
  const proj = new Head(mc.params, 'proj_head', half, PROJECTION_DIM, cfg.projectionHead, rotationHidden(half), true)
  const bank = new MemoryBank({
    size: mc.datasetSize,
    dim: PROJECTION_DIM,
    K: cfg.nceK,
    T: cfg.nceT,
    momentum: cfg.nceMomentum,
    rng: mc.rng,
    reestimateZ: cfg.nceReestimateZ
  })
  let pendingZ: tf.Tensor2D | null = null

  return {
    predictRotation: (views, ctx) => rotHead.apply(splitFeature(mc.backbone.forward(views, ctx).fc).rot),
    name: 'rfd',
    project: (fc) => proj.apply(splitFeature(fc).inv),
    forward(batch, ctx) {
      const { labels, inv, logits } = decoupledForward(
        batch.images,
        (v) => mc.backbone.forward(v, ctx).fc,
        (f) => rotHead.apply(f)
      )
      const usePu = cfg.puFromEpoch !== null && batch.epoch >= cfg.puFromEpoch && mc.puProbs !== undefined
      const weights = usePu ? tf.tensor1d(puWeights(mc.puProbs!, batch.indices, cfg.puGamma)) : undefined
      const ce = rotationCrossEntropy(logits, labels, weights)
      const mse = invarianceMse(inv)
      const z = proj.apply(meanOverRotations(inv))
      const nce = bank.loss(z, batch.indices)
      pendingZ?.dispose()
      pendingZ = tf.keep(z)
      const loss = tf.addN([tf.mul(ce, cfg.lambdaCls), tf.mul(mse, cfg.lambdaMse), tf.mul(nce, cfg.lambdaNce)]) as tf.Scalar
      return { loss, metrics: { ce, mse, nce, ...rotationAccuracy(logits, labels) } }
    },
    afterStep(batch) {
      if (!pendingZ) return
      bank.update(batch.indices, pendingZ)
      pendingZ.dispose()
      pendingZ = null
    },
    exportState: () => ({ bank: bank.exportState() }),
    importState: (s) => bank.importState((s as { bank: Parameters<MemoryBank['importState']>[0] }).bank),
    dispose: () => pendingZ?.dispose()
  }
}
