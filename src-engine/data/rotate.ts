// Exact 90-degree rotations and the interleaved 4-view batch used by RotNet (Gidaris et al.,
// ICLR 2018) and Rotation Feature Decoupling (Feng et al., CVPR 2019). See method-spec sections
// 2 ("Batch layout") and 3 ("Rotations").
//
// Tensors are NHWC [B, H, W, C] with H == W (a non-square image changes shape when turned).
//   rotate(x, k)     -> [B, H, W, C], counter-clockwise 90*k degrees, np.rot90(x, k, axes=(1, 2)):
//                       k=1: out[i][j] = in[j][W-1-i]   = reverse(transpose(x, [0,2,1,3]), axis 1)
//                       k=2: out[i][j] = in[H-1-i][W-1-j]
//                       k=3: out[i][j] = in[H-1-j][i]    = transpose(reverse(x, axis 1), [0,2,1,3])
//   rotateBatch(x)   -> views [4B, H, W, C] interleaved img0_r0, img0_r1, img0_r2, img0_r3,
//                       img1_r0, ...; labels int32 [4B] = [0,1,2,3] repeated B times.
//   viewsOfRotation(views, r) -> views[r::4] (any rank, first dim 4B) -> [B, ...]
//   imageIndexOfView(j) = floor(j/4), rotationOfView(j) = j % 4.
// Only pure index ops (transpose / reverse / stack / gather), so results are bit-exact on every
// backend (tested on 'cpu' and 'wasm').
//
// Errors: Error for a tensor that is not rank 4 or not square, or a views tensor whose first dim
// is not a positive multiple of 4; RangeError for a non-integer k, r outside 0..3, or a negative /
// non-integer view index.
import * as tf from '@tensorflow/tfjs-core'

/** Number of rotations (0, 90, 180, 270 degrees). */
export const NUM_ROTATIONS = 4

function checkImages(x: tf.Tensor, fn: string): void {
  if (x.rank !== 4) throw new Error(`${fn}: expected an NHWC tensor of rank 4, got shape [${x.shape.join(', ')}]`)
  if (x.shape[1] !== x.shape[2]) {
    throw new Error(`${fn}: images must be square (H == W), got H=${x.shape[1]} W=${x.shape[2]}`)
  }
}

function rotateUnchecked(x: tf.Tensor4D, k: number): tf.Tensor4D {
  switch (k) {
    case 1:
      return tf.reverse(tf.transpose(x, [0, 2, 1, 3]), 1)
    case 2:
      return tf.reverse(x, [1, 2])
    case 3:
      return tf.transpose(tf.reverse(x, 1), [0, 2, 1, 3])
    default:
      return tf.clone(x)
  }
}

/**
 * Rotate every image counter-clockwise by 90*k degrees. k is any integer (np.rot90 semantics:
 * taken mod 4, so k=-1 is clockwise). Returns a new tensor (a clone for k % 4 == 0).
 */
export function rotate(x: tf.Tensor4D, k: number): tf.Tensor4D {
  checkImages(x, 'rotate')
  if (!Number.isInteger(k)) throw new RangeError(`rotate: k must be an integer (got ${k})`)
  const kk = ((k % NUM_ROTATIONS) + NUM_ROTATIONS) % NUM_ROTATIONS
  return tf.tidy(() => rotateUnchecked(x, kk))
}

/** The 4 rotated views of each image, interleaved per image, plus rotation labels. */
export function rotateBatch(x: tf.Tensor4D): { views: tf.Tensor4D; labels: tf.Tensor1D } {
  checkImages(x, 'rotateBatch')
  const [b, h, w, c] = x.shape
  const views = tf.tidy(() => {
    const rots = [0, 1, 2, 3].map((k) => rotateUnchecked(x, k))
    // [B, 4, H, W, C] -> [4B, H, W, C]: view 4*i + r = rotation r of image i.
    return tf.reshape(tf.stack(rots, 1), [b * NUM_ROTATIONS, h, w, c]) as tf.Tensor4D
  })
  const lab = new Int32Array(b * NUM_ROTATIONS)
  for (let j = 0; j < lab.length; j++) lab[j] = j % NUM_ROTATIONS
  return { views, labels: tf.tensor1d(lab, 'int32') }
}

/** views[r::4]: rotation r of every image, [4B, ...] -> [B, ...]. */
export function viewsOfRotation<T extends tf.Tensor>(views: T, r: number): T {
  if (!Number.isInteger(r) || r < 0 || r >= NUM_ROTATIONS) {
    throw new RangeError(`viewsOfRotation: r must be an integer in 0..3 (got ${r})`)
  }
  const n = views.shape[0] ?? 0
  if (views.rank < 1 || n === 0 || n % NUM_ROTATIONS !== 0) {
    throw new Error(`viewsOfRotation: first dimension must be a positive multiple of 4 (got shape [${views.shape.join(', ')}])`)
  }
  // Reshape + slice rather than gather: both differentiate with kernels every backend has
  // (gather's gradient needs UnsortedSegmentSum, which the wasm backend lacks).
  const rest = views.shape.slice(1)
  return tf.tidy(() => {
    const grouped = tf.reshape(views, [n / NUM_ROTATIONS, NUM_ROTATIONS, ...rest])
    const begin = [0, r, ...rest.map(() => 0)]
    const size = [-1, 1, ...rest.map(() => -1)]
    return tf.reshape(tf.slice(grouped, begin, size), [n / NUM_ROTATIONS, ...rest])
  }) as T
}

function checkViewIndex(j: number, fn: string): void {
  if (!Number.isInteger(j) || j < 0) throw new RangeError(`${fn}: view index must be a non-negative integer (got ${j})`)
}

/** Index (within the batch) of the image that view j was made from: floor(j/4). */
export function imageIndexOfView(j: number): number {
  checkViewIndex(j, 'imageIndexOfView')
  return Math.floor(j / NUM_ROTATIONS)
}

/** Rotation label of view j: j % 4. */
export function rotationOfView(j: number): number {
  checkViewIndex(j, 'rotationOfView')
  return j % NUM_ROTATIONS
}
