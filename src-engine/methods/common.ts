// Pieces shared by the rotation methods: the four views, the feature split, rotation accuracy.
import * as tf from '@tensorflow/tfjs-core'
import { rotateBatch, NUM_ROTATIONS } from '../data/rotate'

/** Forward the 4 rotated views of a batch: returns views' labels (int32 [4B]). */
export function rotatedViews(images: tf.Tensor4D): { views: tf.Tensor4D; labels: tf.Tensor1D } {
  return rotateBatch(images)
}

/**
 * Split a feature [N, D] into its rotation half (first D/2 dims) and its invariant half (the
 * rest), as torch.split(feature, D/2, dim=1) in the reference.
 */
export function splitFeature(f: tf.Tensor2D): { rot: tf.Tensor2D; inv: tf.Tensor2D } {
  const half = Math.floor(f.shape[1] / 2)
  return { rot: tf.slice(f, [0, 0], [-1, half]), inv: tf.slice(f, [0, half], [-1, f.shape[1] - half]) }
}

/** Rotation accuracy overall and per rotation (acc_r0..acc_r3) from logits of interleaved views. */
export function rotationAccuracy(logits: tf.Tensor2D, labels: tf.Tensor1D): Record<string, tf.Scalar> {
  const correct = tf.cast(tf.equal(tf.argMax(logits, 1), labels), 'float32')
  const perRot = tf.mean(tf.reshape(correct, [-1, NUM_ROTATIONS]), 0)
  const out: Record<string, tf.Scalar> = { acc_rot: tf.mean(correct) as tf.Scalar }
  for (let r = 0; r < NUM_ROTATIONS; r++) out[`acc_r${r}`] = tf.squeeze(tf.slice(perRot, [r], [1])) as tf.Scalar
  return out
}

/** Mean per-dimension standard deviation of L2-normalised features: near 0 means collapse. */
export function featureSpread(z: tf.Tensor2D): tf.Scalar {
  const n = tf.div(z, tf.maximum(tf.norm(z, 'euclidean', 1, true), 1e-12))
  return tf.mean(tf.sqrt(tf.moments(n, 0).variance)) as tf.Scalar
}

/**
 * The start of both RFD variants' forward pass: the 4 interleaved views through the backbone,
 * the feature split in halves, and rotation logits from the rotation half.
 */
export function decoupledForward(
  images: tf.Tensor4D,
  forward: (views: tf.Tensor4D) => tf.Tensor2D,
  rotationHead: (f: tf.Tensor2D) => tf.Tensor2D
): { labels: tf.Tensor1D; inv: tf.Tensor2D; logits: tf.Tensor2D } {
  const { views, labels } = rotatedViews(images)
  const { rot, inv } = splitFeature(forward(views))
  return { labels, inv, logits: rotationHead(rot) }
}
