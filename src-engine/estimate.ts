// The engine benchmark behind the New-run form's time estimate: real training steps of the run's
// backbone and methods (same code as training) on random images, on the backend already selected
// in this process, at batch 2 and at the run's own batch size (or the largest one whose step
// takes about 3 s), fitted as fixed + per-image cost (src-shared/estimate.ts). Per-image cost is
// not constant on a CPU (caches), so the second point is taken as near the real batch as the
// time allows: seconds for the native-64 networks, about a minute for the paper's 224-pixel
// AlexNet.
import * as tf from '@tensorflow/tfjs-core'
import { Trainer } from './trainer'
import { trainConfigFor } from './train-config'
import { AlexNet, inputSizeOf } from './models/alexnet'
import { ParamStore } from './models/params'
import { extractFeatures } from './eval/features'
import type { ImageSet } from '../src-shared/image-set'
import { Rng } from '../src-shared/rng'
import { wasmThreadsInfo } from './wasm-kernels'
import type { RunConfig } from '../src-shared/config/run'
import type { MethodConfig } from '../src-shared/config/train'
import { rotnet, supervised } from '../src-shared/methods/builtin'
import { fitStepCost, type EngineBenchmark, type StepCost } from '../src-shared/estimate'
import type { BenchProgress } from '../src-shared/contract/worker'

function randomImages(n: number, size: number, seed: number): ImageSet {
  const rng = new Rng(seed)
  const images = new Uint8Array(n * size * size * 3)
  for (let i = 0; i < images.length; i++) images[i] = rng.int(256)
  return { images, labels: Int32Array.from({ length: n }, (_, i) => i % 10), n, size, classNames: Array.from({ length: 10 }, (_, i) => `c${i}`) }
}

/** Steps are timed at batch 2 and at this one: the run's batch, or the largest of 64/32/16/8 whose step fits `budgetMs`. */
export function secondBatch(target: number, msPerImageAt2: number, budgetMs = 3000): number {
  if (target <= 2) return target
  if (msPerImageAt2 * target <= budgetMs) return target
  const fits = [64, 32, 16, 8].find((b) => b < target && msPerImageAt2 * b <= budgetMs)
  return fits ?? Math.min(target, 8)
}

function timeSteps(config: RunConfig, method: MethodConfig, target: number, size: number, reps: number, tick: () => void): StepCost {
  const samples: { batch: number; ms: number }[] = []
  const timeAt = (batchSize: number): number => {
    const trainer = new Trainer(
      trainConfigFor(config, 'pretrain', { seed: 0, method, schedule: { kind: 'constant', lr: 0.01 }, batchSize, epochs: 1000, hflip: true }),
      randomImages(Math.max(16, batchSize), size, 1)
    )
    try {
      trainer.step() // warm-up: kernel set-up, first allocations
      tick()
      const ms: number[] = []
      for (let r = 0; r < reps; r++) {
        ms.push(trainer.step().ms)
        tick()
      }
      const median = ms.sort((a, b) => a - b)[Math.floor((ms.length - 1) / 2)]!
      samples.push({ batch: batchSize, ms: median })
      return median
    } finally {
      trainer.dispose()
    }
  }
  const first = Math.min(2, target)
  const ms2 = timeAt(first)
  const second = secondBatch(target, ms2 / first)
  if (second !== first) timeAt(second)
  else for (let r = 0; r <= reps; r++) tick() // keep the progress count whole
  return fitStepCost(samples)
}

/** Time the steps a run config will take on the current backend. */
export function benchmarkEngine(config: RunConfig, onProgress: (p: BenchProgress) => void = () => {}, reps = 3): EngineBenchmark {
  const t0 = performance.now()
  const size = inputSizeOf(config.backbone.arch)
  const data = randomImages(16, size, 1)
  const jobs: { key: 'pretrain' | 'rotnet' | 'supervised'; method: MethodConfig; batch: number }[] = []
  if (config.pretrain.enabled) jobs.push({ key: 'pretrain', method: config.pretrain.method, batch: config.pretrain.batchSize })
  // PU estimation trains RotNets; fine-tuning (and a supervised baseline) trains the supervised method.
  if (config.pu.enabled) jobs.push({ key: 'rotnet', method: rotnet.schema.parse({ method: 'rotnet' }), batch: config.pretrain.batchSize })
  jobs.push({ key: 'supervised', method: supervised.schema.parse({ method: 'supervised' }), batch: config.finetune.batchSize })
  const total = jobs.length * 2 * (reps + 1) + 1
  let done = 0
  const tick = (phase: string) => () => onProgress({ phase, fraction: ++done / total })
  const out: Partial<Record<'pretrain' | 'rotnet' | 'supervised', StepCost>> = {}
  for (const j of jobs) out[j.key] = timeSteps(config, j.method, j.batch, size, reps, tick(j.key))

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
