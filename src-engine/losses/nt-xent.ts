// NT-Xent (normalized temperature-scaled cross-entropy; Chen et al., SimCLR, ICML 2020) and the
// RFD-contrastive variant of the RE re-implementation (ContrastiveLoss(tau=0.1, normalize=False),
// called once per rotation as L(z_r, z_bar)). Method-spec section 2, "RE contrastive".
//
// Shared formula, for a [B, d] and b [B, d]:
//   X = concat(a, b) [2B, d];  S = X X^T / tau [2B, 2B]
//   row i < B has positive p_i = <a_i, b_i>/tau; row B+i has the same positive (both directions)
//   loss = mean over the 2B rows of ( logsumexp_{k != i} S_ik  -  p_i )
// The self term S_ii is MASKED OUT of the log-sum-exp (set to -Infinity before a max-shifted
// logsumexp), and the positive stays in the denominator. The reference instead subtracts
// exp(1/tau) from the plain row sum: that equals our form exactly when every vector is unit-norm
// (S_ii = |x_i|^2/tau = 1/tau), and ours is exact for any norm. The log-sum-exp form never
// evaluates exp of a large number, so it stays finite where the reference's exp(S) overflows
// (float32 at S > 88.7, e.g. tau = 0.005 with unit vectors gives e^200; fp16 far earlier).
//
//   ntXentViewVsMean(zR, zBar, tau = 0.1): RFD-contrastive, positives (view r of image i, mean of i).
//   ntXentRotationsVsMean([z0, z1, z2, z3], zBar, tau = 0.1): the reference's loss_nt, the SUM of
//     the four per-rotation calls.
//   ntXent(z1, z2, tau = 0.5, { normalize }): standard SimCLR NT-Xent, positives (z1_i, z2_i).
//     Inputs are used as given (our projection heads already L2-normalise); normalize: true
//     L2-normalises rows first (cosine similarity, as in the SimCLR paper).
// All return a scalar; symmetric in swapping the two arguments.
//
// Errors: RangeError for tau not finite and > 0; Error for inputs that are not rank 2, differ in
// shape, or are empty.
import * as tf from '@tensorflow/tfjs-core'

export interface NtXentOptions {
  /** L2-normalise rows of both inputs before the similarities (default false). */
  normalize?: boolean
}

function checkPair(a: tf.Tensor, b: tf.Tensor, tau: number, fn: string): number {
  if (!Number.isFinite(tau) || tau <= 0) throw new RangeError(`${fn}: tau must be a finite number > 0 (got ${tau})`)
  if (a.rank !== 2 || b.rank !== 2) {
    throw new Error(`${fn}: inputs must be rank 2 [B, d], got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`)
  }
  if (a.shape[0] !== b.shape[0] || a.shape[1] !== b.shape[1]) {
    throw new Error(`${fn}: inputs must have the same shape, got [${a.shape.join(', ')}] and [${b.shape.join(', ')}]`)
  }
  const n = a.shape[0] as number
  if (n === 0 || a.shape[1] === 0) throw new Error(`${fn}: inputs must be non-empty, got [${a.shape.join(', ')}]`)
  return n
}

function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  // x / max(|x|, 1e-12), as torch.nn.functional.normalize.
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', 1, true), 1e-12))
}

/** Core: mean over 2B rows of logsumexp_{k != i}(S_ik) - S_{i, partner(i)}. */
function pairLoss(a: tf.Tensor2D, b: tf.Tensor2D, tau: number, n: number, normalize: boolean): tf.Scalar {
  return tf.tidy(() => {
    const aa = normalize ? l2Normalize(a) : a
    const bb = normalize ? l2Normalize(b) : b
    const x = tf.concat([aa, bb], 0) // [2B, d]
    const s = tf.div(tf.matMul(x, x, false, true), tau) // [2B, 2B]
    const eye = tf.cast(tf.eye(2 * n), 'bool')
    const masked = tf.where(eye, tf.fill([2 * n, 2 * n], -Infinity), s)
    const lse = tf.logSumExp(masked, 1) // [2B]
    const pos = tf.div(tf.sum(tf.mul(aa, bb), 1), tau) // [B]
    const pos2 = tf.concat([pos, pos], 0) // rows i and B+i share the positive
    return tf.mean(tf.sub(lse, pos2)) as tf.Scalar
  })
}

/** RFD-contrastive NT-Xent between one rotation's projections and the per-image mean projections. */
export function ntXentViewVsMean(zR: tf.Tensor2D, zBar: tf.Tensor2D, tau = 0.1): tf.Scalar {
  const n = checkPair(zR, zBar, tau, 'ntXentViewVsMean')
  return pairLoss(zR, zBar, tau, n, false)
}

/** Reference loss_nt: sum over the 4 rotations of ntXentViewVsMean(z_r, zBar). */
export function ntXentRotationsVsMean(zRs: readonly tf.Tensor2D[], zBar: tf.Tensor2D, tau = 0.1): tf.Scalar {
  if (zRs.length !== 4) throw new Error(`ntXentRotationsVsMean: expected 4 per-rotation projections, got ${zRs.length}`)
  for (const z of zRs) checkPair(z, zBar, tau, 'ntXentRotationsVsMean')
  return tf.tidy(() => tf.addN(zRs.map((z) => ntXentViewVsMean(z, zBar, tau))) as tf.Scalar)
}

/** Standard SimCLR NT-Xent; (z1_i, z2_i) are the positive pairs. */
export function ntXent(z1: tf.Tensor2D, z2: tf.Tensor2D, tau = 0.5, opts: NtXentOptions = {}): tf.Scalar {
  const n = checkPair(z1, z2, tau, 'ntXent')
  return pairLoss(z1, z2, tau, n, opts.normalize ?? false)
}
