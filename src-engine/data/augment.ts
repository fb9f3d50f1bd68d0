// Image preprocessing on tensors: ImageNet normalisation (the reference's mean/std everywhere)
// and SimCLR's augmentations (random resized crop with flip, colour jitter, grayscale).
import * as tf from '@tensorflow/tfjs-core'
import type { Rng } from '../../src-shared/rng'

export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const

/** [0,1] RGB -> (x - mean) / std per channel. */
export function normalizeImages(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.sub(x, tf.tensor1d([...IMAGENET_MEAN])), tf.tensor1d([...IMAGENET_STD])))
}

export interface SimclrAugmentOptions {
  /** Smallest crop area as a fraction of the image. */
  minScale: number
  /** Colour-jitter strength s: brightness, contrast, saturation factors in [1-0.8s, 1+0.8s]. */
  jitter: number
  outSize: number
}

/**
 * SimCLR's view of a batch of [0,1] images [B,S,S,3] -> [B,out,out,3] in [0,1]. Random resized
 * crop (area in [minScale,1], aspect in [3/4,4/3]) with a random horizontal flip (a mirrored
 * box), colour jitter with p 0.8 (brightness, contrast, saturation; hue is not jittered:
 * tfjs has no cheap HSV path) and grayscale with p 0.2. Seeded by `rng`.
 */
export function simclrAugment(x: tf.Tensor4D, o: SimclrAugmentOptions, rng: Rng): tf.Tensor4D {
  return tf.tidy(() => {
    const b = x.shape[0]
    const boxes: number[] = []
    const bright: number[] = []
    const contrast: number[] = []
    const sat: number[] = []
    const gray: number[] = []
    const s = o.jitter
    const factor = (): number => 1 + (rng.uniform() * 2 - 1) * 0.8 * s
    for (let i = 0; i < b; i++) {
      const area = o.minScale + rng.uniform() * (1 - o.minScale)
      const logRatio = Math.log(3 / 4) + rng.uniform() * (Math.log(4 / 3) - Math.log(3 / 4))
      const ratio = Math.exp(logRatio)
      const w = Math.min(1, Math.sqrt(area * ratio))
      const h = Math.min(1, Math.sqrt(area / ratio))
      const x0 = rng.uniform() * (1 - w)
      const y0 = rng.uniform() * (1 - h)
      const flip = rng.uniform() < 0.5
      boxes.push(y0, flip ? x0 + w : x0, y0 + h, flip ? x0 : x0 + w)
      const jitter = rng.uniform() < 0.8
      bright.push(jitter ? factor() : 1)
      contrast.push(jitter ? factor() : 1)
      sat.push(jitter ? factor() : 1)
      gray.push(rng.uniform() < 0.2 ? 1 : 0)
    }
    const ind = tf.range(0, b, 1, 'int32')
    let y = tf.image.cropAndResize(x, tf.tensor2d(boxes, [b, 4]), ind, [o.outSize, o.outSize], 'bilinear') as tf.Tensor4D
    const per = (v: number[]): tf.Tensor4D => tf.tensor4d(v, [b, 1, 1, 1])
    y = tf.mul(y, per(bright))
    const mean = tf.mean(y, [1, 2, 3], true)
    y = tf.add(tf.mul(tf.sub(y, mean), per(contrast)), mean)
    const lum = tf.sum(tf.mul(y, tf.tensor1d([0.299, 0.587, 0.114])), 3, true)
    y = tf.add(tf.mul(tf.sub(y, lum), per(sat)), lum)
    const g = per(gray)
    y = tf.add(tf.mul(y, tf.sub(1, g)), tf.mul(tf.sum(tf.mul(y, tf.tensor1d([0.299, 0.587, 0.114])), 3, true), g))
    return tf.clipByValue(y, 0, 1) as tf.Tensor4D
  })
}
