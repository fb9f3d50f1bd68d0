// What every method provides to the trainer. A method composes a backbone, heads and losses
// (one file each) and is registered in ./registry.ts with its catalog entry, whose traits say
// what else the trainer needs to know (e.g. raw [0,1] images for methods that draw SimCLR pairs).
import type * as tf from '@tensorflow/tfjs-core'
import type { AlexNet } from '../models/alexnet'
import type { ForwardCtx } from '../models/layers'
import type { ParamStore } from '../models/params'
import type { Rng } from '../../src-shared/rng'

export interface StepBatch {
  /** Normalised images [B, S, S, 3] at the backbone's input size (SimCLR: [0,1] unnormalised). */
  images: tf.Tensor4D
  /** Dataset indices of the B images (memory bank rows, PU probabilities). */
  indices: Int32Array
  /** Class labels of the B images (supervised only). */
  labels?: Int32Array
  epoch: number
}

export interface StepOutput {
  loss: tf.Scalar
  /** Scalars to log (loss components, accuracies); disposed by the trainer. */
  metrics: Record<string, tf.Scalar>
}

export interface MethodContext {
  params: ParamStore
  backbone: AlexNet
  rng: Rng
  /** Dataset size (memory bank rows). */
  datasetSize: number
  numClasses: number
  /** PU probabilities, one per (image, rotation) at 4*i + r, when estimated. */
  puProbs?: Float32Array
}

export interface Method {
  readonly name: string
  /** Forward pass and loss; runs inside the gradient tape. */
  forward(batch: StepBatch, ctx: ForwardCtx): StepOutput
  /**
   * Rotation logits [N, 4] for views [N, S, S, 3] (rotation methods only): what the rotation
   * previews show and what PU estimation reads. Inference mode.
   */
  predictRotation?(views: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor2D
  /**
   * The projection of backbone features fc [N, D] that the contrastive / instance loss compares
   * (RFD: of the rotation-invariant half; SimCLR: of the whole feature), L2-normalised.
   */
  project?(fc: tf.Tensor2D): tf.Tensor2D
  /** Class logits [N, C] for images (supervised / fine-tuned models). Inference mode. */
  predictClasses?(images: tf.Tensor4D, ctx: ForwardCtx): tf.Tensor2D
  /** After the optimiser step (e.g. the NCE memory update). */
  afterStep?(batch: StepBatch): void
  /** Extra state for checkpoints (memory bank), JSON-able apart from typed arrays. */
  exportState?(): Record<string, unknown>
  importState?(state: Record<string, unknown>): void
  dispose?(): void
}
