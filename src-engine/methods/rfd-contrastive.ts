// RFD, contrastive variant (the public re-implementation): MLP rotation classifier and MLP
// projection head; NT-Xent between each rotated view's projection and the projection of the
// image's mean invariant feature, summed over the 4 rotations (no memory bank).
//   loss = lambdaCls*CE + lambdaNt*sum_r NTXent(z_r, z_bar). The invariance MSE is logged only,
//   as in that code (computed without entering the loss).
import * as tf from '@tensorflow/tfjs-core'
import type { MethodConfig } from '../../src-shared/config/train'
import { Head } from '../models/heads'
import { invarianceMse, meanOverRotations, ntXentRotationsVsMean, rotationCrossEntropy } from '../losses'
import { viewsOfRotation } from '../data/rotate'
import { decoupledForward, featureSpread, rotationAccuracy, splitFeature } from './common'
import { rotationHidden } from './rotnet'
import { PROJECTION_DIM } from './rfd'
import type { Method, MethodContext } from './types'

export function createRfdContrastive(cfg: Extract<MethodConfig, { method: 'rfd-contrastive' }>, mc: MethodContext): Method {
  const half = Math.floor(mc.backbone.featureDim / 2)
  const rotHead = new Head(mc.params, 'rot_head', half, 4, cfg.rotationHead, rotationHidden(half))
  const proj = new Head(mc.params, 'proj_head', half, PROJECTION_DIM, cfg.projectionHead, rotationHidden(half), true)
  return {
    predictRotation: (views, ctx) => rotHead.apply(splitFeature(mc.backbone.forward(views, ctx).fc).rot),
    name: 'rfd-contrastive',
    project: (fc) => proj.apply(splitFeature(fc).inv),
    forward(batch, ctx) {
      const { labels, inv, logits } = decoupledForward(
        batch.images,
        (v) => mc.backbone.forward(v, ctx).fc,
        (f) => rotHead.apply(f)
      )
      const ce = rotationCrossEntropy(logits, labels)
      const mse = invarianceMse(inv) // logged only: not part of the loss, so no gradient flows from it
      const zBar = proj.apply(meanOverRotations(inv))
      const zRs = [0, 1, 2, 3].map((r) => proj.apply(viewsOfRotation(inv, r)))
      const nt = ntXentRotationsVsMean(zRs, zBar, cfg.tau)
      const loss = tf.add(tf.mul(ce, cfg.lambdaCls), tf.mul(nt, cfg.lambdaNt)) as tf.Scalar
      return { loss, metrics: { ce, ntxent: nt, mse, feat_std: featureSpread(zBar), ...rotationAccuracy(logits, labels) } }
    }
  }
}
