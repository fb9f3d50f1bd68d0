// Evaluation protocols on frozen features, with pinned, documented defaults:
//   linear probe:     BatchNorm without affine (standardisation by the training features'
//                     statistics, which a converged BN's running estimates equal) -> Linear.
//   non-linear probe: the reference's MLP: Linear(no bias) -> BN -> ReLU -> Linear(no bias)
//                     -> BN -> ReLU -> Linear, hidden = 4096 x width.
//   kNN:              cosine similarity of L2-normalised features, the k nearest training
//                     images vote with weight exp(sim / T) (Wu et al., CVPR 2018). Pinned k = 200,
//                     T = 0.07, clipped to the training-set size.
// Features are extracted once (frozen backbone, inference mode), so probes train without data
// augmentation — a documented difference from the reference, which re-augmented every epoch;
// it makes probes minutes instead of hours on a CPU.
import * as tf from '@tensorflow/tfjs-core'
import '../tf-gradients'
import { ParamStore } from '../models/params'
import { BatchNorm, Dense, applyBnUpdates, newCtx, type ForwardCtx } from '../models/layers'
import { Sgd } from '../optim/optimizers'
import { lrAt, type LrSchedule } from '../optim/schedule'
import { Rng } from '../../src-shared/rng'

export interface FeatureSet {
  data: Float32Array
  dim: number
  labels: Int32Array
  n: number
}

export interface EvalResult {
  /** Top-1 accuracy on the evaluation split, 0..1. */
  accuracy: number
  perClass: number[]
  /** confusion[true][predicted] counts. */
  confusion: number[][]
  /** Training loss per epoch (probes). */
  losses?: number[]
}

export function scoreCounts(pred: Int32Array, labels: Int32Array, classes: number): EvalResult {
  const confusion = Array.from({ length: classes }, () => new Array<number>(classes).fill(0))
  let correct = 0
  for (let i = 0; i < pred.length; i++) {
    confusion[labels[i]!]![pred[i]!]!++
    if (pred[i] === labels[i]) correct++
  }
  const perClass = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0)
    return total ? row[c]! / total : 0
  })
  return { accuracy: pred.length ? correct / pred.length : 0, perClass, confusion }
}

export interface ProbeOptions {
  kind: 'linear' | 'mlp'
  classes: number
  epochs: number
  batchSize: number
  schedule: LrSchedule
  weightDecay: number
  /** MLP hidden width. */
  hidden?: number
  seed: number
  /** After each epoch: its mean training loss, training accuracy (0..1) and learning rate. */
  onEpoch?: (epoch: number, loss: number, accuracy: number, lr: number) => void
}

/** Train a probe on `train` features and score it on `test`. */
export function trainProbe(train: FeatureSet, test: FeatureSet, o: ProbeOptions): EvalResult {
  const rng = new Rng(o.seed)
  const ps = new ParamStore(rng)
  // Standardisation statistics of the training features (BN without affine).
  const mean = new Float32Array(train.dim)
  const sq = new Float32Array(train.dim)
  for (let i = 0; i < train.n; i++)
    for (let d = 0; d < train.dim; d++) {
      const v = train.data[i * train.dim + d]!
      mean[d]! += v
      sq[d]! += v * v
    }
  const std = new Float32Array(train.dim)
  for (let d = 0; d < train.dim; d++) {
    mean[d] = mean[d]! / train.n
    std[d] = Math.sqrt(Math.max(sq[d]! / train.n - mean[d]! ** 2, 0) + 1e-5)
  }
  const meanT = tf.tensor1d(mean)
  const stdT = tf.tensor1d(std)
  const layers =
    o.kind === 'linear'
      ? { out: new Dense(ps, 'probe.fc', train.dim, o.classes) }
      : {
          fc1: new Dense(ps, 'probe.fc1', train.dim, o.hidden!, false),
          bn1: new BatchNorm(ps, 'probe.bn1', o.hidden!),
          fc2: new Dense(ps, 'probe.fc2', o.hidden!, o.hidden!, false),
          bn2: new BatchNorm(ps, 'probe.bn2', o.hidden!),
          out: new Dense(ps, 'probe.out', o.hidden!, o.classes)
        }
  const forward = (x: tf.Tensor2D, ctx: ForwardCtx): tf.Tensor2D => {
    const z = tf.div(tf.sub(x, meanT), stdT) as tf.Tensor2D
    if (!('fc1' in layers)) return layers.out.apply(z)
    const h1 = tf.relu(layers.bn1!.apply(layers.fc1!.apply(z), ctx))
    const h2 = tf.relu(layers.bn2!.apply(layers.fc2!.apply(h1), ctx))
    return layers.out.apply(h2)
  }
  const opt = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: o.weightDecay })
  const losses: number[] = []
  const rowsOf = (set: FeatureSet, idx: Int32Array): tf.Tensor2D => {
    const buf = new Float32Array(idx.length * set.dim)
    idx.forEach((i, k) => buf.set(set.data.subarray(i * set.dim, (i + 1) * set.dim), k * set.dim))
    return tf.tensor2d(buf, [idx.length, set.dim])
  }
  const order = Int32Array.from({ length: train.n }, (_, i) => i)
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = train.n - 1; i > 0; i--) {
      const j = rng.int(i + 1)
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    let sum = 0
    let count = 0
    let hits = 0
    const lr = lrAt(o.schedule, epoch)
    for (let s = 0; s < train.n; s += o.batchSize) {
      const idx = order.subarray(s, Math.min(train.n, s + o.batchSize))
      if (idx.length < 2) continue
      const x = rowsOf(train, idx)
      const y = tf.tensor1d(
        Int32Array.from(idx, (i) => train.labels[i]!),
        'int32'
      )
      const ctx = newCtx(true)
      // Training accuracy only for a caller that logs it: one more read back per batch.
      const right: { n: tf.Scalar | null } = { n: null }
      const { value, grads } = tf.variableGrads(() => {
        const logits = forward(x, ctx)
        if (o.onEpoch) right.n = tf.keep(tf.sum(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'float32')) as tf.Scalar)
        return tf.mean(tf.losses.softmaxCrossEntropy(tf.cast(tf.oneHot(y, o.classes), 'float32'), logits, undefined, 0, tf.Reduction.NONE)) as tf.Scalar
      }, ps.trainableList())
      const byName: Record<string, tf.Tensor> = {}
      for (const [name, v] of ps.trainable) if (grads[v.name]) byName[name] = grads[v.name]!
      opt.apply(ps.trainable, byName, lr)
      applyBnUpdates(ctx)
      sum += value.dataSync()[0]! * idx.length
      count += idx.length
      if (right.n) hits += right.n.dataSync()[0]!
      tf.dispose([x, y, value, ...Object.values(grads), ...(right.n ? [right.n] : [])])
    }
    losses.push(sum / Math.max(count, 1))
    o.onEpoch?.(epoch, losses.at(-1)!, hits / Math.max(count, 1), lr)
  }
  const pred = new Int32Array(test.n)
  for (let s = 0; s < test.n; s += 256) {
    const idx = Int32Array.from({ length: Math.min(256, test.n - s) }, (_, k) => s + k)
    const p = tf.tidy(() => tf.argMax(forward(rowsOf(test, idx), newCtx(false)), 1))
    pred.set(p.dataSync() as Int32Array, s)
    p.dispose()
  }
  tf.dispose([meanT, stdT])
  opt.dispose()
  ps.dispose()
  return { ...scoreCounts(pred, test.labels, o.classes), losses }
}

export const KNN_DEFAULTS = { k: 200, temperature: 0.07 } as const

/** Weighted kNN on L2-normalised features (cosine similarity). */
export function knnClassify(
  train: FeatureSet,
  test: FeatureSet,
  classes: number,
  k: number = KNN_DEFAULTS.k,
  temperature: number = KNN_DEFAULTS.temperature
): EvalResult {
  const kk = Math.min(k, train.n)
  const pred = tf.tidy(() => {
    const norm = (f: FeatureSet): tf.Tensor2D => {
      const t = tf.tensor2d(f.data, [f.n, f.dim])
      return tf.div(t, tf.maximum(tf.norm(t, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D
    }
    const a = norm(train)
    const b = norm(test)
    const sim = tf.matMul(b, a, false, true)
    const { values, indices } = tf.topk(sim, kk)
    const labels = tf.gather(tf.tensor1d(train.labels, 'int32'), indices)
    const w = tf.exp(tf.div(values, temperature))
    const votes = tf.sum(tf.mul(tf.cast(tf.oneHot(labels, classes), 'float32'), tf.expandDims(w, 2)), 1)
    return tf.argMax(votes, 1)
  })
  const p = pred.dataSync() as Int32Array
  pred.dispose()
  return scoreCounts(Int32Array.from(p), test.labels, classes)
}
