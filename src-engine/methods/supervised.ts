// Supervised baseline: the backbone plus a linear classifier on the fc feature, trained with
// labels (random init for the baseline; a pretrained backbone for fine-tuning).
import * as tf from '@tensorflow/tfjs-core'
import { Dense } from '../models/layers'
import type { Method, MethodContext } from './types'

export function createSupervised(mc: MethodContext): Method {
  const fc = new Dense(mc.params, 'classifier', mc.backbone.featureDim, mc.numClasses)
  return {
    name: 'supervised',
    forward(batch, ctx) {
      if (!batch.labels) throw new Error('the supervised method needs a labelled dataset')
      const labels = tf.tensor1d(batch.labels, 'int32')
      const logits = fc.apply(mc.backbone.forward(batch.images, ctx).fc)
      const ce = tf.mean(tf.losses.softmaxCrossEntropy(tf.oneHot(labels, mc.numClasses), logits, undefined, 0, tf.Reduction.NONE)) as tf.Scalar
      const acc = tf.mean(tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')) as tf.Scalar
      return { loss: ce, metrics: { ce, acc } }
    },
    predictClasses: (images, ctx) => fc.apply(mc.backbone.forward(images, ctx).fc)
  }
}
