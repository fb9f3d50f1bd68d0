// Rotation-prediction cross-entropy, optionally PU-weighted, as in Rotation Feature Decoupling
// (Feng, Xu & Tao, CVPR 2019; official DecouplingModel.train_step). Method-spec section 2, 6.
//
//   rotationCrossEntropy(logits [N, C] (C = 4 rotations), labels int [N], weights? [N]) -> scalar
//       = sum_j w_j * CE_j / N, CE_j = -log_softmax(logits_j)[labels_j].
//     Divided by N (= 4B views), NOT by sum(w): that is what the reference does
//     (CrossEntropyLoss(reduce=False), then sum(w*l)/4B). Without weights it is the plain mean CE.
//     Stable for any logit magnitude (log-softmax, no explicit exp).
//   rotationCrossEntropyPerView(logits, labels) -> [N], the unweighted CE_j (for per-rotation logs).
//   puWeights(probs, imageIndices, gamma = 2) -> Float32Array [4B] in the interleaved view layout:
//       w[4b + r] = 1 for r = 0, else 1 - probs[4*imageIndices[b] + r]^gamma
//     probs is the prob.dat layout: one p per (dataset image i, rotation r) at index 4i + r.
//
// Config keys (reference): gama = 2 (PU exponent), PU weights used from epoch index 210.
// Errors: Error for shape / length mismatches (logits not rank 2, labels or weights not [N]);
// RangeError for labels outside [0, C) given as arrays, a dataset index outside probs, a p outside
// [0, 1] or NaN, or gamma not finite and > 0. Label tensors are not range-checked (that would need
// a device read every step); an out-of-range label in a tensor yields CE = logsumexp(logits).
import * as tf from '@tensorflow/tfjs-core'

export type Labels = tf.Tensor1D | Int32Array | readonly number[]

function labelsTensor(labels: Labels, n: number, c: number): tf.Tensor1D {
  if (labels instanceof tf.Tensor) {
    if (labels.rank !== 1 || labels.shape[0] !== n) {
      throw new Error(`rotationCrossEntropy: labels must have shape [${n}], got [${labels.shape.join(', ')}]`)
    }
    return labels.dtype === 'int32' ? labels : tf.cast(labels, 'int32')
  }
  if (labels.length !== n) throw new Error(`rotationCrossEntropy: labels must have length ${n}, got ${labels.length}`)
  for (let j = 0; j < n; j++) {
    const y = labels[j] as number
    if (!Number.isInteger(y) || y < 0 || y >= c) {
      throw new RangeError(`rotationCrossEntropy: labels[${j}] must be an integer in [0, ${c}) (got ${y})`)
    }
  }
  return tf.tensor1d(Int32Array.from(labels), 'int32')
}

function checkLogits(logits: tf.Tensor): [number, number] {
  if (logits.rank !== 2) throw new Error(`rotationCrossEntropy: logits must be rank 2 [N, C], got [${logits.shape.join(', ')}]`)
  const [n, c] = logits.shape as [number, number]
  if (n === 0 || c === 0) throw new Error(`rotationCrossEntropy: logits must be non-empty, got [${n}, ${c}]`)
  return [n, c]
}

/** Unweighted per-view cross-entropy, shape [N]. */
export function rotationCrossEntropyPerView(logits: tf.Tensor2D, labels: Labels): tf.Tensor1D {
  const [n, c] = checkLogits(logits)
  return tf.tidy(() => {
    // oneHot in int32 then cast: wasm's OneHot kernel ignores the dtype argument (writes int32 bits).
    const y = tf.cast(tf.oneHot(labelsTensor(labels, n, c), c), 'float32')
    return tf.neg(tf.sum(tf.mul(y, tf.logSoftmax(logits)), 1)) as tf.Tensor1D
  })
}

/** sum_j w_j * CE_j / N (weights default to 1), a scalar. */
export function rotationCrossEntropy(logits: tf.Tensor2D, labels: Labels, weights?: tf.Tensor1D | Float32Array | readonly number[]): tf.Scalar {
  const [n] = checkLogits(logits)
  if (weights !== undefined) {
    const len = weights instanceof tf.Tensor ? (weights.rank === 1 ? weights.shape[0] : -1) : weights.length
    if (len !== n)
      throw new Error(
        `rotationCrossEntropy: weights must have shape [${n}], got ${weights instanceof tf.Tensor ? `[${weights.shape.join(', ')}]` : `length ${len}`}`
      )
  }
  return tf.tidy(() => {
    const ce = rotationCrossEntropyPerView(logits, labels)
    const w = weights === undefined ? null : weights instanceof tf.Tensor ? tf.cast(weights, 'float32') : tf.tensor1d(Float32Array.from(weights))
    const total = w === null ? tf.sum(ce) : tf.sum(tf.mul(ce, w))
    return tf.div(total, n) as tf.Scalar
  })
}

/** PU weights per view (interleaved layout): 1 for the upright view, 1 - p^gamma for rotations. */
export function puWeights(probs: Float32Array, imageIndices: Int32Array, gamma = 2): Float32Array {
  if (!Number.isFinite(gamma) || gamma <= 0) throw new RangeError(`puWeights: gamma must be a finite number > 0 (got ${gamma})`)
  if (probs.length % 4 !== 0) throw new Error(`puWeights: probs length must be a multiple of 4 (4 per image), got ${probs.length}`)
  const nImages = probs.length / 4
  const out = new Float32Array(imageIndices.length * 4)
  for (let b = 0; b < imageIndices.length; b++) {
    const i = imageIndices[b] as number
    if (i < 0 || i >= nImages) {
      throw new RangeError(`puWeights: imageIndices[${b}] = ${i} is outside the probability table [0, ${nImages})`)
    }
    out[4 * b] = 1
    for (let r = 1; r < 4; r++) {
      const p = probs[4 * i + r] as number
      if (!(p >= 0 && p <= 1)) throw new RangeError(`puWeights: probs[${4 * i + r}] (image ${i}, rotation ${r}) must be in [0, 1] (got ${p})`)
      out[4 * b + r] = 1 - Math.pow(p, gamma)
    }
  }
  return out
}
