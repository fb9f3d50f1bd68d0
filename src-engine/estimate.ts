// The engine benchmark behind the New-run form's time estimate: real training steps of the run's
// backbone and methods (same code as training) on random images, on the backend already selected
// in this process, at two small batch sizes, fitted as fixed + per-image cost
// (src-shared/estimate.ts). Small batches keep it to seconds for the native-64 networks and about
// a minute for the paper's 224-pixel AlexNet on a CPU.
import * as tf from '@tensorflow/tfjs-core'
import { Trainer } from './trainer'
import { AlexNet, inputSizeOf } from './models/alexnet'
import { ParamStore } from './models/params'
import { extractFeatures } from './eval/features'
import type { ImageSet } from './data/sample-dataset'
import { Rng } from './util/rng'
import { wasmThreadsInfo } from './wasm-kernels'
import type { RunConfig } from '../src-shared/config/run'
import type { MethodConfig } from '../src-shared/config/train'
import { fitStepCost, type EngineBenchmark, type StepCost } from '../src-shared/estimate'

export type BenchProgress = { phase: string; fraction: number }

function randomImages(n: number, size: number, seed: number): ImageSet {
  const rng = new Rng(seed)
  const images = new Uint8Array(n * size * size * 3)
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256)
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 10), n, size, classNames: Array.from({ length: 10 }, (_, i) => `c${i}`) }
}

/** Batch sizes to time: 2 and up to 8 (never above the run's own batch). */
export function benchBatches(batch: number): number[] {
  const hi = Math.min(batch, 8)
  return hi > 2 ? [2, hi] : [Math.max(1, Math.min(2, batch))]
}

function timeSteps(config: RunConfig, method: MethodConfig, batches: number[], data: ImageSet, reps: number, tick: () => void): StepCost {
  const samples: { batch: number; ms: number }[] = []
  for (const batchSize of batches) {
    const trainer = new Trainer(
      { seed: 0, backbone: config.backbone, method, optimizer: config.pretrain.optimizer, schedule: { kind: 'constant', lr: 0.01 }, batchSize, epochs: 1000, hflip: true },
      data
    )
    try {
      trainer.step() // warm-up: kernel set-up, first allocations
      tick()
      const ms: number[] = []
      for (let r = 0; r < reps; r++) {
        ms.push(trainer.step().ms)
        tick()
      }
      samples.push({ batch: batchSize, ms: ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)]! })
    } finally {
      trainer.dispose()
    }
  }
  return fitStepCost(samples)
}

/** Time the steps a run config will take on the current backend. */
export function benchmarkEngine(config: RunConfig, onProgress: (p: BenchProgress) => void = () => {}, reps = 2): EngineBenchmark {
  const t0 = performance.now()
  const size = inputSizeOf(config.backbone.arch)
  const data = randomImages(16, size, 1)
  const jobs: { key: 'pretrain' | 'rotnet' | 'supervised'; method: MethodConfig; batches: number[] }[] = []
  if (config.pretrain.enabled) jobs.push({ key: 'pretrain', method: config.pretrain.method, batches: benchBatches(config.pretrain.batchSize) })
  if (config.pu.enabled) jobs.push({ key: 'rotnet', method: { method: 'rotnet' } as MethodConfig, batches: benchBatches(config.pretrain.batchSize) })
  jobs.push({ key: 'supervised', method: { method: 'supervised' } as MethodConfig, batches: benchBatches(config.finetune.batchSize) })
  const total = jobs.reduce((a, j) => a + j.batches.length * (reps + 1), 0) + 1
  let done = 0
  const tick = (phase: string) => () => onProgress({ phase, fraction: ++done / total })
  const out: Partial<Record<'pretrain' | 'rotnet' | 'supervised', StepCost>> = {}
  for (const j of jobs) out[j.key] = timeSteps(config, j.method, j.batches, data, reps, tick(j.key))

  // Inference features: a forward pass over 16 images (after one warm-up pass).
  const ps = new ParamStore(new Rng(0))
  const backbone = new AlexNet(ps, config.backbone)
  let forwardPerImageMs: number
  try {
    const opts = { layer: config.evaluation.layer, pool: size === 224 ? 6 : 3, batchSize: 8 }
    extractFeatures(backbone, { ...data, n: 8 }, opts)
    const t = performance.now()
    extractFeatures(backbone, data, opts)
    forwardPerImageMs = (performance.now() - t) / data.n
    tick('features')()
  } finally {
    ps.dispose()
  }
  return {
    backend: tf.getBackend(),
    threads: tf.getBackend() === 'wasm' ? (wasmThreadsInfo()?.threads ?? 1) : null,
    pretrain: out.pretrain ?? null,
    rotnet: out.rotnet ?? null,
    supervised: out.supervised!,
    forwardPerImageMs,
    measuredAt: new Date().toISOString(),
    seconds: (performance.now() - t0) / 1000
  }
}
