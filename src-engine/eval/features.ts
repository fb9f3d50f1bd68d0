// Frozen-feature extraction for the evaluation protocols: the backbone in inference mode
// (BatchNorm running statistics, as the reference evaluates frozen layers), one named layer,
// spatial maps max-pooled adaptively to p x p as PyTorch's AdaptiveMaxPool2d does.
import * as tf from '@tensorflow/tfjs-core'
import type { AlexNet, FeatureTap } from '../models/alexnet'
import { newCtx } from '../models/layers'
import { makeBatch } from '../data/batcher'
import type { ImageSet } from '../../src-shared/image-set'
import { Rng } from '../../src-shared/rng'

/** AdaptiveMaxPool2d to p x p: window i spans [floor(i*H/p), ceil((i+1)*H/p)). */
export function adaptiveMaxPool(x: tf.Tensor4D, p: number): tf.Tensor4D {
  const [, h, w] = x.shape
  if (h === p && w === p) return x
  return tf.tidy(() => {
    const rows: tf.Tensor4D[] = []
    for (let i = 0; i < p; i++) {
      const y0 = Math.floor((i * h) / p)
      const y1 = Math.ceil(((i + 1) * h) / p)
      const cols: tf.Tensor4D[] = []
      for (let j = 0; j < p; j++) {
        const x0 = Math.floor((j * w) / p)
        const x1 = Math.ceil(((j + 1) * w) / p)
        cols.push(tf.max(tf.slice(x, [0, y0, x0, 0], [-1, y1 - y0, x1 - x0, -1]), [1, 2], true) as tf.Tensor4D)
      }
      rows.push(tf.concat(cols, 2))
    }
    return tf.concat(rows, 1)
  })
}

export interface FeatureOptions {
  layer: FeatureTap
  /** Spatial side after adaptive max-pooling, for conv layers. */
  pool: number
  batchSize?: number
  onProgress?: (done: number, total: number) => void
}

/** The extraction, one batch per step (so the caller can yield between batches). */
function* extractSteps(backbone: AlexNet, set: ImageSet, o: FeatureOptions): Generator<void, { data: Float32Array; dim: number }> {
  const bs = o.batchSize ?? 64
  const rng = new Rng(0)
  let out: Float32Array | null = null
  let dim = 0
  for (let start = 0; start < set.n; start += bs) {
    const idx = Int32Array.from({ length: Math.min(bs, set.n - start) }, (_, k) => start + k)
    const f = tf.tidy(() => {
      const x = makeBatch(set, idx, { inputSize: backbone.inputSize, training: false, hflip: false }, rng)
      const r = backbone.forward(x, newCtx(false), [o.layer])
      const t = (r.taps[o.layer] ?? r.fc) as tf.Tensor
      const pooled = t.rank === 4 ? adaptiveMaxPool(t as tf.Tensor4D, o.pool) : t
      return tf.reshape(pooled, [idx.length, -1]) as tf.Tensor2D
    })
    dim = f.shape[1]
    out ??= new Float32Array(set.n * dim)
    out.set(f.dataSync() as Float32Array, start * dim)
    f.dispose()
    o.onProgress?.(start + idx.length, set.n)
    yield
  }
  return { data: out ?? new Float32Array(0), dim }
}

/** Features [N, D] of every image of `set` (row-major Float32Array) and D. */
export function extractFeatures(backbone: AlexNet, set: ImageSet, o: FeatureOptions): { data: Float32Array; dim: number } {
  const steps = extractSteps(backbone, set, o)
  for (;;) {
    const r = steps.next()
    if (r.done) return r.value
  }
}

/**
 * The same, giving the event loop a turn between batches (a worker hears "cancel" while it
 * extracts) and stopping with "cancelled" once `signal` is aborted.
 */
export async function extractFeaturesAsync(
  backbone: AlexNet,
  set: ImageSet,
  o: FeatureOptions & { signal?: AbortSignal }
): Promise<{ data: Float32Array; dim: number }> {
  const steps = extractSteps(backbone, set, o)
  for (;;) {
    const r = steps.next()
    if (r.done) return r.value
    await new Promise((resolve) => setImmediate(resolve))
    if (o.signal?.aborted) throw new Error('cancelled')
  }
}
