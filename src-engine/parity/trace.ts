// A parity trace: the engine's Trainer runs a few steps of one method and writes everything
// another implementation needs to replay them exactly, and what it got, to a folder
// (tools/torch-twin/replay.py replays it in PyTorch; test/unit/engine/torch-parity.test.ts
// compares the two):
//   init.safetensors     every parameter and BatchNorm buffer before the first step, in PyTorch
//                        names and layouts (toTorch), plus "nce.memory" [N, 128] for RFD's bank
//   steps.safetensors    per step i: "images.i" the normalised batch [B, S, S, 3] (NHWC) as the
//                        method received it, "inputs.i" the backbone's training input when the
//                        method builds its own views from random draws (SimCLR's augmented pair,
//                        [2B, S, S, 3]), "indices.i" and "labels.i" [B] (I64), "nce.i" [B, K+1]
//                        the memory rows the NCE loss used (slot 0 the positive), and
//                        "before.i.<name>" every weight (and nce.memory) as the step found them
//   final.safetensors    the same as init after the last step
//   features.safetensors "images" [F, S, S, 3] (eval-mode inputs) and "fc" [F, D], the
//                        final backbone's features in inference mode
//   trace.json           the config, each step's learning rate and metrics, Z of the NCE bank
// Nothing here changes what the trainer computes: it wraps the method's and the backbone's
// forward to copy their inputs, and listens to MemoryBank.onSample.
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { encodeSafetensors, type TensorIn } from '../../src-node/safetensors'
import { toTorch, type Params } from '../../src-node/torch-weights'
import type { TrainConfig } from '../../src-shared/config/train'
import type { ImageSet } from '../../src-shared/image-set'
import { Trainer } from '../trainer'
import { MemoryBank } from '../losses/nce'
import { makeBatch } from '../data/batcher'
import { newCtx, type ForwardCtx } from '../models/layers'
import type { StepBatch } from '../methods/types'
import { PROJECTION_DIM } from '../methods/rfd'

export interface TraceOptions {
  config: TrainConfig
  data: ImageSet
  steps: number
  /** Images whose inference-mode features are written (the first ones of `data`, repeated if fewer). */
  featureImages?: number
  dir: string
}

export interface TraceSummary {
  lrs: number[]
  metrics: Record<string, number>[]
  dir: string
}

const f32 = (shape: number[], data: Float32Array): TensorIn => ({ dtype: 'F32', shape, data })
const i64 = (shape: number[], data: ArrayLike<number>): TensorIn => ({ dtype: 'I64', shape, data: BigInt64Array.from(Array.from(data), (v) => BigInt(v)) })

function paramsOf(t: Trainer): Params {
  const out: Params = {}
  for (const [k, v] of [...t.params.trainable, ...t.params.buffers]) out[k] = { shape: [...v.shape], data: Float32Array.from(v.dataSync()) }
  return out
}

function bankOf(t: Trainer): { memory: Float32Array; Z: number | null } | null {
  const s = t.method.exportState?.() as { bank?: { memory: Float32Array; Z: number | null } } | undefined
  return s?.bank ?? null
}

function weightsTensors(t: Trainer, batchesTracked: number): Record<string, TensorIn> {
  const tensors = toTorch(paramsOf(t), batchesTracked)
  const bank = bankOf(t)
  if (bank) tensors['nce.memory'] = f32([bank.memory.length / PROJECTION_DIM, PROJECTION_DIM], Float32Array.from(bank.memory))
  return tensors
}

function weightsFile(t: Trainer, batchesTracked: number): Uint8Array {
  return encodeSafetensors(weightsTensors(t, batchesTracked), {
    arch: t.config.backbone.arch,
    width: String(t.config.backbone.width),
    method: t.config.method.method
  })
}

/** Run `steps` training steps and write the trace folder; returns the learning rates and metrics. */
export function writeTrace(o: TraceOptions): TraceSummary {
  mkdirSync(o.dir, { recursive: true })
  const t = new Trainer(o.config, o.data)
  const steps: Record<string, TensorIn> = {}
  let step = 0
  let inputTaken = false
  const ownViews = t.traits.views === 'simclr-pair'
  const method = t.method as { forward: (b: StepBatch, c: ForwardCtx) => ReturnType<typeof t.method.forward> }
  const forward = method.forward.bind(t.method)
  method.forward = (batch, ctx) => {
    steps[`images.${step}`] = f32([...batch.images.shape], Float32Array.from(batch.images.dataSync()))
    steps[`indices.${step}`] = i64([batch.indices.length], batch.indices)
    if (batch.labels) steps[`labels.${step}`] = i64([batch.labels.length], batch.labels)
    return forward(batch, ctx)
  }
  const backbone = t.backbone as { forward: typeof t.backbone.forward }
  const backboneForward = backbone.forward.bind(t.backbone)
  backbone.forward = (x, ctx, taps) => {
    if (ownViews && ctx.training && !inputTaken) {
      steps[`inputs.${step}`] = f32([...x.shape], Float32Array.from(x.dataSync()))
      inputTaken = true
    }
    return backboneForward(x, ctx, taps)
  }
  const K1 = 'nceK' in t.config.method ? t.config.method.nceK + 1 : 0
  MemoryBank.onSample = (sampled) => {
    steps[`nce.${step}`] = i64([sampled.length / K1, K1], sampled)
  }
  try {
    writeFileSync(path.join(o.dir, 'init.safetensors'), weightsFile(t, 0))
    const lrs: number[] = []
    const metrics: Record<string, number>[] = []
    for (step = 0; step < o.steps; step++) {
      inputTaken = false
      for (const [k, v] of Object.entries(weightsTensors(t, step))) steps[`before.${step}.${k}`] = v
      const r = t.step()
      lrs.push(r.lr)
      metrics.push(r.metrics)
    }
    MemoryBank.onSample = null
    writeFileSync(path.join(o.dir, 'steps.safetensors'), encodeSafetensors(steps))
    writeFileSync(path.join(o.dir, 'final.safetensors'), weightsFile(t, o.steps))
    const nf = o.featureImages ?? 64
    const idx = Int32Array.from({ length: nf }, (_, i) => i % o.data.n)
    const [x, fc] = tf.tidy(() => {
      const x = makeBatch(o.data, idx, { inputSize: t.backbone.inputSize, training: false, hflip: false }, t.rng)
      return [x, t.backbone.forward(x, newCtx(false)).fc] as const
    })
    writeFileSync(
      path.join(o.dir, 'features.safetensors'),
      encodeSafetensors({ images: f32([...x.shape], Float32Array.from(x.dataSync())), fc: f32([...fc.shape], Float32Array.from(fc.dataSync())) })
    )
    tf.dispose([x, fc])
    const trace = {
      method: t.config.method.method,
      methodConfig: t.config.method,
      arch: t.config.backbone.arch,
      width: t.config.backbone.width,
      inputSize: t.backbone.inputSize,
      optimizer: t.config.optimizer,
      batchSize: t.config.batchSize,
      datasetSize: o.data.n,
      numClasses: Math.max(2, o.data.classNames.length),
      steps: o.steps,
      lrs,
      metrics,
      nceZ: bankOf(t)?.Z ?? null
    }
    writeFileSync(path.join(o.dir, 'trace.json'), JSON.stringify(trace, null, 1))
    return { lrs, metrics, dir: o.dir }
  } finally {
    MemoryBank.onSample = null
    t.dispose()
  }
}
