// Rotation-invariance term of Rotation Feature Decoupling (Feng, Xu & Tao, CVPR 2019;
// official DecouplingModel.train_step). Method-spec section 2, "Invariance".
//
//   meanOverRotations(f [4B, D] interleaved) -> [B, D], fbar_i = 0.25 * sum_r f[4i + r]
//     (NOT detached: the NCE / NT-Xent projection takes fbar with gradient).
//   invarianceMse(fInv [4B, D] interleaved) -> scalar
//     = mean over all 4B*D elements of (f - fbar)^2, with fbar DETACHED (the reference builds the
//     target under set_grad_enabled(False)). Gradient: 2 (f - fbar) / (4B*D).
//     Note: for this particular loss the mean's own gradient contribution is identically zero
//     (d/dfbar of sum_r (f_r - fbar)^2 = -2 sum_r (f_r - fbar) = 0), so detaching changes nothing
//     mathematically; we still detach to mirror the reference and to avoid useless backprop work.
//   stopGradient(x) -> same values, zero gradient (tfjs-core has no stop_gradient op).
//
// Config key (reference): lambda_loss.mse = 1.0 (applied by the caller).
// Errors: Error when f is not rank 2 or its first dim is not a positive multiple of 4.
import * as tf from '@tensorflow/tfjs-core'

const detach = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => ({
  value: tf.clone(inputs[0] as tf.Tensor),
  gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy)
}))

/** Identity in the forward pass; blocks the gradient (treats x as a constant). */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  return detach(x) as T
}

function checkViews(f: tf.Tensor, fn: string): [number, number] {
  if (f.rank !== 2) throw new Error(`${fn}: expected [4B, D] features, got shape [${f.shape.join(', ')}]`)
  const [n, d] = f.shape as [number, number]
  if (n === 0 || n % 4 !== 0) throw new Error(`${fn}: first dimension must be a positive multiple of 4 (4 views per image), got ${n}`)
  return [n / 4, d]
}

/** Mean of the 4 rotated views of each image: [4B, D] -> [B, D]. Gradient flows. */
export function meanOverRotations(f: tf.Tensor2D): tf.Tensor2D {
  const [b, d] = checkViews(f, 'meanOverRotations')
  return tf.tidy(() => tf.mean(tf.reshape(f, [b, 4, d]), 1) as tf.Tensor2D)
}

/** MSE between each view and its image's (detached) mean over the 4 rotations. */
export function invarianceMse(fInv: tf.Tensor2D): tf.Scalar {
  const [b, d] = checkViews(fInv, 'invarianceMse')
  return tf.tidy(() => {
    const f3 = tf.reshape(fInv, [b, 4, d])
    const target = stopGradient(tf.mean(f3, 1, true)) // [B, 1, D], broadcast over the 4 views
    return tf.mean(tf.square(tf.sub(f3, target))) as tf.Scalar
  })
}
