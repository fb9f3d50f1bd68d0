// PU probability estimation for Rotation Feature Decoupling's weighted rotation loss.
//
// The paper treats each original image as a positive and its rotated copies as unlabelled, and
// down-weights rotated copies that already look upright: w = 1 - p^gamma for r = 1..3, where p is
// the probability that the rotated copy "looks un-rotated". The reference ships an ImageNet-only
// prob.dat and no code; its README says to train a RotNet and estimate p out-of-sample.
//
// Protocol chosen here (documented choice; method-spec open question 1):
//   - k-fold (default 3) over the dataset, folds assigned by a seeded shuffle;
//   - for each fold, a RotNet (same backbone family) trained on the other folds;
//   - p(i, r) = softmax probability of class 0 ("upright") for view r of image i, predicted by
//     the model that never saw image i (out-of-sample, so memorisation cannot inflate it);
//   - softmax (not a sigmoid) because RotNet's head is 4-way; it is what the model outputs.
// Output layout is prob.dat's: one p per (image i, rotation r) at index 4*i + r.
//
// Views are built with rotateBatch, whose interleaved layout (view j = image floor(j/4),
// rotation j%4) is tested; the reference re-implementation's failed attempt built block-wise
// labels against interleaved views.
import * as tf from '@tensorflow/tfjs-core'
import './tf-gradients'
import { Trainer } from './trainer'
import { rotateBatch } from './data/rotate'
import { makeBatch } from './data/batcher'
import type { ImageSet } from '../src-shared/image-set'
import { selectImages } from '../src-node/dataset-folder'
import { parseTrainConfig, type BackboneConfig, type OptimizerConfig, type ScheduleConfig } from '../src-shared/config/train'
import { Rng } from '../src-shared/rng'

export interface PuOptions {
  folds: number
  epochs: number
  batchSize: number
  backbone: BackboneConfig
  optimizer?: OptimizerConfig
  schedule?: ScheduleConfig
  seed: number
  /** Called after each fold with (fold, folds). */
  onProgress?: (fold: number, folds: number) => void
}

/** Out-of-sample p(upright | view) for every (image, rotation): Float32Array [4N]. */
export function estimatePuProbabilities(set: ImageSet, o: PuOptions): Float32Array {
  if (!Number.isInteger(o.folds) || o.folds < 2) throw new RangeError(`PU estimation: folds must be an integer >= 2 (got ${o.folds})`)
  if (set.n < o.folds * 2) throw new RangeError(`PU estimation: ${set.n} images are too few for ${o.folds} folds`)
  const rng = new Rng(o.seed)
  const order = Int32Array.from({ length: set.n }, (_, i) => i)
  for (let i = set.n - 1; i > 0; i--) {
    const j = rng.int(i + 1)
    ;[order[i], order[j]] = [order[j]!, order[i]!]
  }
  const foldOf = new Int32Array(set.n)
  order.forEach((img, k) => (foldOf[img] = k % o.folds))
  const probs = new Float32Array(set.n * 4)

  for (let f = 0; f < o.folds; f++) {
    const trainIdx = Int32Array.from(order.filter((i) => foldOf[i] !== f))
    const heldIdx = Int32Array.from(order.filter((i) => foldOf[i] === f)).sort()
    // PU estimation's own RotNets: the schema fills in what the options leave out.
    const trainer = new Trainer(
      parseTrainConfig({
        seed: o.seed + f + 1,
        backbone: o.backbone,
        method: { method: 'rotnet' },
        optimizer: o.optimizer ?? { kind: 'sgd' },
        schedule: o.schedule ?? { kind: 'constant', lr: 0.05 },
        batchSize: o.batchSize,
        epochs: o.epochs,
        hflip: true
      }),
      selectImages(set, trainIdx)
    )
    const steps = o.epochs * trainer.stepsPerEpoch
    for (let s = 0; s < steps; s++) trainer.step()
    // Predict the held-out fold in inference mode.
    for (let start = 0; start < heldIdx.length; start += o.batchSize) {
      const idx = heldIdx.subarray(start, start + o.batchSize)
      const p0 = tf.tidy(() => {
        const x = makeBatch(set, idx, { inputSize: trainer.backbone.inputSize, training: false, hflip: false }, rng)
        const { views } = rotateBatch(x)
        const logits = trainer.predictRotation(views)
        return tf.slice(tf.softmax(logits), [0, 0], [-1, 1])
      })
      const v = p0.dataSync()
      p0.dispose()
      idx.forEach((img, k) => {
        for (let r = 0; r < 4; r++) probs[4 * img + r] = v[4 * k + r]!
      })
    }
    trainer.dispose()
    o.onProgress?.(f + 1, o.folds)
  }
  return probs
}

/** Mean PU weight 1 - p^gamma over the rotated views (r = 1..3). */
export function meanRotatedWeight(probs: Float32Array, gamma = 2): number {
  let s = 0
  let n = 0
  for (let j = 0; j < probs.length; j++) {
    if (j % 4 === 0) continue
    s += 1 - probs[j]! ** gamma
    n++
  }
  return s / n
}
