// RotNet (Gidaris, Singh & Komodakis, ICLR 2018): predict which of the four rotations was
// applied. Backbone fc feature -> rotation head -> cross-entropy over 4 classes.
import type { MethodConfig } from '../../src-shared/config/train'
import { Head } from '../models/heads'
import { rotationCrossEntropy } from '../losses'
import { rotatedViews, rotationAccuracy } from './common'
import type { Method, MethodContext } from './types'

export function createRotNet(cfg: Extract<MethodConfig, { method: 'rotnet' }>, mc: MethodContext): Method {
  const d = mc.backbone.featureDim
  const head = new Head(mc.params, 'rot_head', d, 4, cfg.rotationHead, rotationHidden(d))
  return {
    name: 'rotnet',
    forward(batch, ctx) {
      const { views, labels } = rotatedViews(batch.images)
      const f = mc.backbone.forward(views, ctx).fc
      const logits = head.apply(f)
      const ce = rotationCrossEntropy(logits, labels)
      return { loss: ce, metrics: { ce, ...rotationAccuracy(logits, labels) } }
    },
    predictRotation: (views, ctx) => head.apply(mc.backbone.forward(views, ctx).fc)
  }
}

// Reference dims: the contrastive variant's MLP is 2048 -> 1024 -> 4, i.e. hidden = input / 2.
export function rotationHidden(input: number): number {
  return Math.max(4, Math.round(input / 2))
}
