// Functional layers over ParamStore variables. BatchNorm follows PyTorch: eps 1e-5, momentum
// 0.1 (running = 0.9*running + 0.1*batch), biased variance to normalise, unbiased variance in
// the running estimate. Running-statistic updates are collected in a `BnUpdates` list during
// the forward pass and applied after the gradient step, outside the gradient tape.
import * as tf from '@tensorflow/tfjs-core'
import type { ParamStore } from './params'
import { batchNormTrain } from '../wasm-kernels/batch-norm-relu'

export const BN_EPS = 1e-5
export const BN_MOMENTUM = 0.1

export interface ForwardCtx {
  training: boolean
  /** Filled in training mode: new running statistics to assign after the step (kept tensors). */
  bnUpdates: { target: tf.Variable; value: tf.Tensor }[]
}

export function newCtx(training: boolean): ForwardCtx {
  return { training, bnUpdates: [] }
}

/** Assign collected running statistics and free them. */
export function applyBnUpdates(ctx: ForwardCtx): void {
  for (const u of ctx.bnUpdates) {
    u.target.assign(u.value)
    u.value.dispose()
  }
  ctx.bnUpdates.length = 0
}

export class Conv {
  readonly w: tf.Variable
  readonly b: tf.Variable | null
  constructor(
    ps: ParamStore,
    readonly name: string,
    readonly cin: number,
    readonly cout: number,
    readonly k: number,
    readonly stride: number,
    readonly pad: number,
    bias = true
  ) {
    const fanIn = cin * k * k
    this.w = ps.uniform(`${name}.weight`, [k, k, cin, cout], fanIn)
    this.b = bias ? ps.uniform(`${name}.bias`, [cout], fanIn) : null
  }
  apply(x: tf.Tensor4D): tf.Tensor4D {
    const p = this.pad
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [p, p],
      [p, p],
      [0, 0]
    ]
    const y = tf.conv2d(x, this.w as tf.Tensor4D, this.stride, p === 0 ? 'valid' : pad)
    return this.b ? (tf.add(y, this.b) as tf.Tensor4D) : y
  }
  /** Multiply-adds for one input of spatial size h x w. */
  macs(h: number, w: number): { macs: number; h: number; w: number } {
    const ho = Math.floor((h + 2 * this.pad - this.k) / this.stride) + 1
    const wo = Math.floor((w + 2 * this.pad - this.k) / this.stride) + 1
    return { macs: ho * wo * this.cout * this.cin * this.k * this.k, h: ho, w: wo }
  }
}

export class Dense {
  readonly w: tf.Variable
  readonly b: tf.Variable | null
  constructor(
    ps: ParamStore,
    readonly name: string,
    readonly din: number,
    readonly dout: number,
    bias = true
  ) {
    this.w = ps.uniform(`${name}.weight`, [din, dout], din)
    this.b = bias ? ps.uniform(`${name}.bias`, [dout], din) : null
  }
  apply(x: tf.Tensor2D): tf.Tensor2D {
    const y = tf.matMul(x, this.w as tf.Tensor2D) as tf.Tensor2D
    return this.b ? (tf.add(y, this.b) as tf.Tensor2D) : y
  }
}

/** BatchNorm over the last axis (channels of NHWC, or features of [N, D]). */
export class BatchNorm {
  readonly gamma: tf.Variable
  readonly beta: tf.Variable
  readonly mean: tf.Variable
  readonly variance: tf.Variable
  constructor(
    ps: ParamStore,
    readonly name: string,
    readonly c: number,
    affine = true
  ) {
    this.gamma = ps.constant(`${name}.weight`, [c], 1, affine)
    this.beta = ps.constant(`${name}.bias`, [c], 0, affine)
    this.mean = ps.constant(`${name}.running_mean`, [c], 0, false)
    this.variance = ps.constant(`${name}.running_var`, [c], 1, false)
  }
  apply<T extends tf.Tensor>(x: T, ctx: ForwardCtx): T {
    if (!ctx.training) {
      return tf.batchNorm(x, this.mean, this.variance, this.beta, this.gamma, BN_EPS) as T
    }
    const axes = x.rank === 4 ? [0, 1, 2] : [0]
    const { mean, variance } = tf.moments(x, axes)
    this.pushRunningUpdates(x, mean, variance, ctx)
    return tf.batchNorm(x, mean, variance, this.beta, this.gamma, BN_EPS) as T
  }

  /**
   * relu(apply(x)). In training mode on a backend with a fused BatchNorm+ReLU kernel (wasm), one
   * kernel forward and one backward instead of the composite's elementwise passes; same maths
   * (and the same running-statistic updates), float sums in another order.
   */
  applyRelu<T extends tf.Tensor>(x: T, ctx: ForwardCtx): T {
    if (ctx.training) {
      const fused = batchNormTrain(x, this.gamma, this.beta, BN_EPS, true)
      if (fused) {
        this.pushRunningUpdates(x, fused.mean, fused.variance, ctx)
        return fused.y as T
      }
    }
    return tf.relu(this.apply(x, ctx))
  }

  private pushRunningUpdates(x: tf.Tensor, mean: tf.Tensor, variance: tf.Tensor, ctx: ForwardCtx): void {
    const n = x.size / this.c
    const unbiased = tf.mul(variance, n / Math.max(n - 1, 1))
    ctx.bnUpdates.push(
      { target: this.mean, value: tf.keep(tf.add(tf.mul(this.mean, 1 - BN_MOMENTUM), tf.mul(mean, BN_MOMENTUM))) },
      { target: this.variance, value: tf.keep(tf.add(tf.mul(this.variance, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM))) }
    )
  }
}
