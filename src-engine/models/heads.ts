// Heads on the backbone's feature: a linear layer, or the MLP of the contrastive variant
// (Linear -> ReLU -> Linear); the projection head adds L2 normalisation.
import * as tf from '@tensorflow/tfjs-core'
import { Dense } from './layers'
import type { ParamStore } from './params'

export type HeadKind = 'linear' | 'mlp'

export class Head {
  private readonly layers: Dense[]
  constructor(
    ps: ParamStore,
    name: string,
    din: number,
    dout: number,
    kind: HeadKind,
    hidden: number,
    readonly normalize = false
  ) {
    this.layers =
      kind === 'linear' ? [new Dense(ps, `${name}.0`, din, dout)] : [new Dense(ps, `${name}.0`, din, hidden), new Dense(ps, `${name}.2`, hidden, dout)]
  }
  apply(x: tf.Tensor2D): tf.Tensor2D {
    let h = this.layers[0]!.apply(x)
    for (const l of this.layers.slice(1)) h = l.apply(tf.relu(h))
    return this.normalize ? l2Normalize(h) : h
  }
  macs(): number {
    return this.layers.reduce((a, l) => a + l.din * l.dout, 0)
  }
}

/** Row-wise L2 normalisation with a floor on the norm (like F.normalize, eps 1e-12). */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12)))
}
