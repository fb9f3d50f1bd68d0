// AlexNet with BatchNorm, as in the Rotation Feature Decoupling reference (no LRN, no dropout;
// conv -> BN -> ReLU; 3x3/2 max-pools without padding after conv1, conv2 and conv5; two
// bias-free fc layers with BN1d + ReLU). Three input variants share the table from conv2 on:
//   alexnet224: conv1 11x11 stride 4 pad 2 (the paper; 224x224 input, pool5 6x6 -> 9216 to fc6)
//   alexnet64:  conv1 5x5 stride 2 pad 2 (native 64x64; pool5 3x3 -> 2304 to fc6). This is
//               exactly `alexnet64` of the PyTorch peer benchmark, so throughput compares like
//               with like. (Fed 64x64 directly, the 224 table collapses to a 1x1 pool5.)
//   alexnet32:  conv1 3x3 stride 1 pad 1 (native 32x32, e.g. CIFAR-10; also 2304 to fc6).
// `width` multiplies every conv channel count and the 4096 fc width. Layout is NHWC.
//
// Named feature taps: conv1..conv5 (after BN+ReLU), pool5 (flattened), fc (fc7 after BN+ReLU).
import * as tf from '@tensorflow/tfjs-core'
import { BatchNorm, Conv, Dense, type ForwardCtx } from './layers'
import type { ParamStore } from './params'

import { ALEXNET_ARCHS, FEATURE_TAPS, type AlexnetArch, type FeatureTap } from '../../src-shared/config/names'
export { ALEXNET_ARCHS, FEATURE_TAPS, type AlexnetArch, type FeatureTap }

export interface AlexnetConfig {
  arch: AlexnetArch
  /** Width multiplier (0.125 .. 2); 1 is the paper's network. */
  width: number
}

const STEMS: Record<AlexnetArch, { k: number; stride: number; pad: number; input: number }> = {
  alexnet224: { k: 11, stride: 4, pad: 2, input: 224 },
  alexnet64: { k: 5, stride: 2, pad: 2, input: 64 },
  alexnet32: { k: 3, stride: 1, pad: 1, input: 32 }
}

export function inputSizeOf(arch: AlexnetArch): number {
  return STEMS[arch].input
}

const POOL = { size: 3, stride: 2 }

function pooled(n: number): number {
  return Math.floor((n - POOL.size) / POOL.stride) + 1
}

export class AlexNet {
  readonly convs: Conv[]
  readonly bns: BatchNorm[]
  readonly fc6: Dense
  readonly bn6: BatchNorm
  readonly fc7: Dense
  readonly bn7: BatchNorm
  /** Width of the fc output (4096 at width 1): what heads see. */
  readonly featureDim: number
  readonly poolSide: number
  readonly inputSize: number

  constructor(
    ps: ParamStore,
    readonly config: AlexnetConfig
  ) {
    const c = (n: number): number => Math.max(1, Math.round(n * config.width))
    const stem = STEMS[config.arch]
    this.inputSize = stem.input
    const widths = [3, c(64), c(192), c(384), c(256), c(256)]
    const specs = [
      { k: stem.k, s: stem.stride, p: stem.pad },
      { k: 5, s: 1, p: 2 },
      { k: 3, s: 1, p: 1 },
      { k: 3, s: 1, p: 1 },
      { k: 3, s: 1, p: 1 }
    ]
    this.convs = specs.map((s, i) => new Conv(ps, `conv${i + 1}`, widths[i]!, widths[i + 1]!, s.k, s.s, s.p))
    this.bns = specs.map((_, i) => new BatchNorm(ps, `conv${i + 1}.bn`, widths[i + 1]!))
    // Spatial side after the stem, pool1, pool2 (conv3-5 keep size), pool5.
    const afterStem = Math.floor((stem.input + 2 * stem.pad - stem.k) / stem.stride) + 1
    this.poolSide = pooled(pooled(pooled(afterStem)))
    if (this.poolSide < 1) throw new Error(`${config.arch}: input ${stem.input} is too small for the network`)
    const flat = this.poolSide * this.poolSide * widths[5]!
    this.featureDim = c(4096)
    this.fc6 = new Dense(ps, 'fc6', flat, this.featureDim, false)
    this.bn6 = new BatchNorm(ps, 'fc6.bn', this.featureDim)
    this.fc7 = new Dense(ps, 'fc7', this.featureDim, this.featureDim, false)
    this.bn7 = new BatchNorm(ps, 'fc7.bn', this.featureDim)
  }

  /**
   * Forward pass of x [N, S, S, 3] (S = the arch's input size). Returns the fc features and,
   * when `taps` names any, those intermediate outputs too.
   */
  forward(x: tf.Tensor4D, ctx: ForwardCtx, taps: readonly FeatureTap[] = []): { fc: tf.Tensor2D; taps: Partial<Record<FeatureTap, tf.Tensor>> } {
    if (x.shape[1] !== this.inputSize || x.shape[2] !== this.inputSize) {
      throw new Error(`${this.config.arch} expects ${this.inputSize}x${this.inputSize} input, got ${x.shape[1]}x${x.shape[2]}`)
    }
    const out: Partial<Record<FeatureTap, tf.Tensor>> = {}
    let h: tf.Tensor4D = x
    for (let i = 0; i < 5; i++) {
      h = this.bns[i]!.applyRelu(this.convs[i]!.apply(h), ctx)
      const name = `conv${i + 1}` as FeatureTap
      if (taps.includes(name)) out[name] = h
      if (i === 0 || i === 1 || i === 4) h = tf.maxPool(h, POOL.size, POOL.stride, 'valid')
    }
    const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D
    if (taps.includes('pool5')) out.pool5 = flat
    const f6 = this.bn6.applyRelu(this.fc6.apply(flat), ctx)
    const f7 = this.bn7.applyRelu(this.fc7.apply(f6), ctx)
    if (taps.includes('fc')) out.fc = f7
    return { fc: f7, taps: out }
  }

  /** Forward multiply-adds per input image, counted analytically. */
  macsPerImage(): number {
    let side = this.inputSize
    let total = 0
    this.convs.forEach((conv, i) => {
      const r = conv.macs(side, side)
      total += r.macs
      side = i === 0 || i === 1 || i === 4 ? pooled(r.h) : r.h
    })
    return total + this.fc6.din * this.fc6.dout + this.fc7.din * this.fc7.dout
  }
}
