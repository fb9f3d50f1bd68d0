// The toy method's engine side, as a new method would add it to src-engine/methods/: a linear head
// over the fc feature regresses the batch images' per-channel means; loss = weight * MSE.
import * as tf from '@tensorflow/tfjs-core'
import type { ConfigOf } from '../../../src-shared/methods/catalog'
import { Dense } from '../../../src-engine/models/layers'
import type { Method, MethodContext } from '../../../src-engine/methods/types'
import type { toyColour } from './entry'

export function createToyColour(cfg: ConfigOf<typeof toyColour>, mc: MethodContext): Method {
  const head = new Dense(mc.params, 'colour_head', mc.backbone.featureDim, 3)
  return {
    name: 'toy-colour',
    forward(batch, ctx) {
      const target = tf.mean(batch.images, [1, 2]) as tf.Tensor2D
      const pred = head.apply(mc.backbone.forward(batch.images, ctx).fc)
      const mse = tf.mean(tf.square(tf.sub(pred, target))) as tf.Scalar
      return { loss: tf.mul(mse, cfg.weight) as tf.Scalar, metrics: { mse } }
    }
  }
}
