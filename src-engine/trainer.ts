// The training loop of one method on one image set: builds the backbone and method from a
// TrainConfig, runs steps (forward + loss in the gradient tape, optimiser, BatchNorm running
// statistics, method post-step), and reports metrics as plain numbers. Same seed and backend
// give the same losses.
import * as tf from '@tensorflow/tfjs-core'
import './tf-gradients'
import type { TrainConfig } from '../src-shared/config/train'
import { AlexNet } from './models/alexnet'
import { applyBnUpdates, newCtx } from './models/layers'
import { ParamStore } from './models/params'
import { Adam, Sgd, type Optimizer } from './optim/optimizers'
import { lrAt, type LrSchedule } from './optim/schedule'
import { createMethod } from './methods/registry'
import { methodEntry, type MethodTraits } from '../src-shared/methods/catalog'
import type { Method, StepBatch } from './methods/types'
import { epochBatches, makeBatch } from './data/batcher'
import type { ImageSet } from '../src-shared/image-set'
import { Rng } from '../src-shared/rng'

export interface StepResult {
  epoch: number
  /** Step within the epoch (0-based) and over the whole run. */
  stepInEpoch: number
  globalStep: number
  lr: number
  /** Loss components and accuracies, plain numbers. */
  metrics: Record<string, number>
  /** Wall time of the step (batch assembly included). */
  ms: number
  images: number
}

export interface TrainerOptions {
  puProbs?: Float32Array
}

export class Trainer {
  readonly config: TrainConfig
  readonly params: ParamStore
  readonly backbone: AlexNet
  readonly method: Method
  /** The method's catalog traits (what a batch becomes, whether it takes labels). */
  readonly traits: MethodTraits
  readonly optimizer: Optimizer
  readonly rng: Rng
  private readonly schedule: LrSchedule
  /** The current epoch's batches (seeded order); part of the checkpointed state. */
  batches: Int32Array[] = []
  epoch = 0
  stepInEpoch = 0
  globalStep = 0

  /** `config` is parsed already (trainConfigFor, or parseTrainConfig for a hand-written one): it is not checked again. */
  constructor(
    config: TrainConfig,
    readonly data: ImageSet,
    opts: TrainerOptions = {}
  ) {
    this.config = config
    const c = this.config
    this.rng = new Rng(c.seed)
    this.params = new ParamStore(this.rng)
    this.backbone = new AlexNet(this.params, c.backbone)
    this.traits = methodEntry(c.method.method).traits
    this.method = createMethod(c.method, {
      params: this.params,
      backbone: this.backbone,
      rng: this.rng,
      datasetSize: data.n,
      numClasses: Math.max(2, data.classNames.length),
      puProbs: opts.puProbs
    })
    this.optimizer = c.optimizer.kind === 'sgd' ? new Sgd(c.optimizer) : new Adam(c.optimizer)
    const sc = c.schedule
    this.schedule = sc.kind === 'cosine' ? { ...sc, epochs: c.epochs } : sc
  }

  get stepsPerEpoch(): number {
    return Math.max(1, Math.ceil(this.data.n / this.config.batchSize))
  }

  /** One optimisation step on the next batch; advances epoch/step counters. */
  step(): StepResult {
    const t0 = performance.now()
    if (this.stepInEpoch === 0 || this.batches.length === 0) this.batches = epochBatches(this.data.n, this.config.batchSize, this.rng)
    const indices = this.batches[this.stepInEpoch]!
    const lr = lrAt(this.schedule, this.epoch, this.stepInEpoch / this.batches.length)
    const images = makeBatch(
      this.data,
      indices,
      { inputSize: this.backbone.inputSize, training: true, hflip: this.config.hflip, raw: this.traits.views === 'simclr-pair' },
      this.rng
    )
    const batch: StepBatch = { images, indices, labels: this.labelsOf(indices), epoch: this.epoch }
    const ctx = newCtx(true)
    let metricTensors: Record<string, tf.Scalar> = {}
    const vars = this.params.trainableList()
    const { value, grads } = tf.variableGrads(() => {
      const out = this.method.forward(batch, ctx)
      metricTensors = Object.fromEntries(Object.entries(out.metrics).map(([k, v]) => [k, tf.keep(v)]))
      return out.loss
    }, vars)
    const byName: Record<string, tf.Tensor> = {}
    for (const [name, v] of this.params.trainable) {
      const g = grads[v.name]
      if (g) byName[name] = g
    }
    this.optimizer.apply(this.params.trainable, byName, lr)
    applyBnUpdates(ctx)
    this.method.afterStep?.(batch)
    const metrics: Record<string, number> = { loss: value.dataSync()[0]! }
    for (const [k, v] of Object.entries(metricTensors)) metrics[k] = v.dataSync()[0]!
    tf.dispose([value, images, ...Object.values(grads), ...Object.values(metricTensors)])

    const result: StepResult = {
      epoch: this.epoch,
      stepInEpoch: this.stepInEpoch,
      globalStep: this.globalStep,
      lr,
      metrics,
      ms: performance.now() - t0,
      images: indices.length
    }
    this.globalStep++
    this.stepInEpoch++
    if (this.stepInEpoch >= this.batches.length) {
      this.stepInEpoch = 0
      this.epoch++
    }
    return result
  }

  /** Backbone features of images (inference mode, BatchNorm running statistics). */
  features(indices: Int32Array): tf.Tensor2D {
    return tf.tidy(() => {
      const x = makeBatch(this.data, indices, { inputSize: this.backbone.inputSize, training: false, hflip: false }, this.rng)
      return this.backbone.forward(x, newCtx(false)).fc
    })
  }

  /** Rotation logits for views (rotation methods), BatchNorm in inference mode. */
  predictRotation(views: tf.Tensor4D): tf.Tensor2D {
    if (!this.method.predictRotation) throw new Error(`${this.method.name} has no rotation head`)
    return this.method.predictRotation(views, newCtx(false))
  }

  private labelsOf(indices: Int32Array): Int32Array | undefined {
    if (!this.traits.needsLabels) return undefined
    return Int32Array.from(indices, (i) => this.data.labels[i]!)
  }

  dispose(): void {
    this.method.dispose?.()
    this.optimizer.dispose()
    this.params.dispose()
  }
}
