// Turns a decoded uint8 image set into training batches: seeded shuffles per epoch, slices of
// the set (no decoding), horizontal flip, resize to the backbone's input when it differs (the
// reference upsamples 64-pixel images: Resize(256) + RandomCrop(224) in training, Resize(224)
// otherwise), ImageNet normalisation.
import * as tf from '@tensorflow/tfjs-core'
import type { Rng } from '../../src-shared/rng'
import { IMAGENET_MEAN, IMAGENET_STD } from './augment'
import type { ImageSet } from '../../src-shared/image-set'

export interface BatchOptions {
  inputSize: number
  training: boolean
  hflip: boolean
  /** Return [0,1] images instead of normalised ones (methods that augment themselves). */
  raw?: boolean
}

/** Seeded order of the images for one epoch, cut into batches (the last partial batch is kept if it has >= 2 images). */
export function epochBatches(n: number, batchSize: number, rng: Rng, shuffle = true): Int32Array[] {
  const order = new Int32Array(n)
  for (let i = 0; i < n; i++) order[i] = i
  if (shuffle) {
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1)
      const t = order[i]!
      order[i] = order[j]!
      order[j] = t
    }
  }
  const out: Int32Array[] = []
  for (let s = 0; s < n; s += batchSize) {
    const b = order.subarray(s, Math.min(n, s + batchSize))
    if (b.length >= 2 || out.length === 0) out.push(b)
  }
  return out
}

/** The images at `indices` as a float tensor [B, inputSize, inputSize, 3]. */
export function makeBatch(set: ImageSet, indices: Int32Array, o: BatchOptions, rng: Rng): tf.Tensor4D {
  const s = set.size
  const px = s * s * 3
  const b = indices.length
  const out = new Float32Array(b * px)
  const scale = o.raw ? [1 / 255, 1 / 255, 1 / 255] : IMAGENET_STD.map((sd) => 1 / (255 * sd))
  const shift = o.raw ? [0, 0, 0] : IMAGENET_MEAN.map((m, c) => m / IMAGENET_STD[c]!)
  for (let k = 0; k < b; k++) {
    const src = indices[k]! * px
    const dst = k * px
    const flip = o.training && o.hflip && rng.uniform() < 0.5
    for (let y = 0; y < s; y++) {
      for (let x = 0; x < s; x++) {
        const si = src + (y * s + (flip ? s - 1 - x : x)) * 3
        const di = dst + (y * s + x) * 3
        out[di] = set.images[si]! * scale[0]! - shift[0]!
        out[di + 1] = set.images[si + 1]! * scale[1]! - shift[1]!
        out[di + 2] = set.images[si + 2]! * scale[2]! - shift[2]!
      }
    }
  }
  const t = tf.tensor4d(out, [b, s, s, 3])
  if (o.inputSize === s) return t
  const resized = tf.tidy(() => {
    if (!o.training) return tf.image.resizeBilinear(t, [o.inputSize, o.inputSize], false, true)
    const big = Math.round((o.inputSize * 256) / 224)
    const up = tf.image.resizeBilinear(t, [big, big], false, true)
    const oy = rng.int(big - o.inputSize + 1)
    const ox = rng.int(big - o.inputSize + 1)
    return tf.slice(up, [0, oy, ox, 0], [b, o.inputSize, o.inputSize, 3])
  })
  t.dispose()
  return resized
}
