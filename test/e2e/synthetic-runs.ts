// Finished runs written straight into a workspace for browser tests that need many or long runs
// (curves of 20 runs × 10 000 steps, README screenshots): run.json, status.json, metrics.jsonl
// with pretraining, fine-tuning and probe records as the engine writes them, and results.json.
// The runs service loads them at boot like any run folder.
import { createHash } from 'node:crypto'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { RunConfigSchema } from '../../src-shared/config/run'
import { SAMPLE_CLASSES } from '../../src-shared/sample-dataset'

export interface SyntheticRun {
  id: string
  name: string
  method?: 'rotnet' | 'rfd' | 'simclr' | 'supervised'
  steps: number
  stepsPerEpoch?: number
  seed?: number
  /** Where the loss settles and how fast it gets there (in steps). */
  floor?: number
  decay?: number
  /** Peak learning rate; a cosine schedule takes it down to 0. */
  lr?: number
  /** Milliseconds per step, for wall time. */
  msPerStep?: number
  /** Linear-probe and kNN accuracy (0..1) of the run's evaluations. */
  linear?: number
  knn?: number
  probeEpochs?: number
  finetuneSteps?: number
}

export const SAMPLE_LABEL = `sample (${SAMPLE_CLASSES.length} classes, 32px, seed 1)`

/** A deterministic noise source in [-0.5, 0.5) (mulberry32), so every test run draws the same curves. */
function noise(seed: number): () => number {
  let a = (seed * 2654435761) >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5
  }
}

export function writeSyntheticRun(workspace: string, r: SyntheticRun): void {
  const dir = path.join(workspace, 'runs', r.id)
  mkdirSync(path.join(dir, 'checkpoints'), { recursive: true })
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true })
  const spe = r.stepsPerEpoch ?? 100
  const epochs = Math.ceil(r.steps / spe)
  const method = r.method ?? 'rotnet'
  const probeEpochs = r.probeEpochs ?? 10
  const config = RunConfigSchema.parse({
    name: r.name,
    seed: r.seed ?? 1,
    dataset: { kind: 'sample', size: 32, seed: 1 },
    backbone: { arch: 'alexnet32', width: 0.25 },
    pretrain: { method: { method }, epochs, batchSize: 64 },
    evaluation: { linear: { epochs: probeEpochs } },
    ...(r.finetuneSteps ? { finetune: { enabled: true, epochs: Math.ceil(r.finetuneSteps / spe) } } : {})
  })
  const msPerStep = r.msPerStep ?? 40
  const wallMs = (r.steps + (r.finetuneSteps ?? 0)) * msPerStep
  const start = Date.now() - wallMs - 60_000
  const created = new Date(start).toISOString()
  writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({
      id: r.id,
      name: r.name,
      preset: null,
      createdAt: created,
      config,
      configHash: createHash('sha256').update(r.id).digest('hex').slice(0, 16),
      seed: r.seed ?? 1,
      versions: { app: 'test' },
      datasets: []
    })
  )
  writeFileSync(
    path.join(dir, 'status.json'),
    JSON.stringify({
      state: 'done',
      stage: 'evaluate',
      epoch: epochs,
      epochs,
      step: r.steps,
      steps: r.steps,
      etaSec: null,
      backend: 'wasm',
      error: null,
      errorStage: null,
      createdAt: created,
      startedAt: created,
      endedAt: new Date(start + wallMs).toISOString(),
      wallMs
    })
  )
  const rand = noise(r.seed ?? 1)
  const floor = r.floor ?? 0.3
  const decay = r.decay ?? r.steps / 4
  const peak = r.lr ?? 0.05
  const lines: string[] = []
  let t = start
  for (let s = 0; s < r.steps; s++) {
    const n = rand()
    const lr = (peak * (1 + Math.cos((Math.PI * s) / r.steps))) / 2
    const ce = floor + (1.386 - floor) * Math.exp(-s / decay) + 0.12 * n
    const acc = Math.min(1, Math.max(0, 0.25 + (0.95 - 0.25 - floor / 2) * (1 - Math.exp(-s / decay)) + 0.06 * n))
    t += msPerStep * (1 + 0.2 * n)
    const place = {
      stage: 'pretrain',
      epoch: Math.floor(s / spe),
      step: s,
      lr,
      ms: msPerStep,
      imagesPerSec: Math.round((64000 / msPerStep) * (1 + 0.08 * rand()))
    }
    const rotation = { acc_rot: acc, acc_r0: acc, acc_r1: acc * 0.98, acc_r2: Math.min(1, acc * 1.02), acc_r3: acc * 0.97 }
    // The loss components each method logs (src-engine/methods): RFD adds its invariance and NCE terms.
    const mse = 0.05 + 0.4 * Math.exp(-s / (decay * 0.6)) + 0.02 * rand()
    const nce = 6.5 - 1.5 * (1 - Math.exp(-s / decay)) + 0.2 * rand()
    const rec =
      method === 'simclr'
        ? { ...place, loss: ce * 2.5, ntxent: ce * 2.5, t: Math.round(t) }
        : method === 'rfd'
          ? { ...place, loss: ce + mse + 0.05 * nce, ce, mse, nce, ...rotation, t: Math.round(t) }
          : { ...place, loss: ce, ce, ...rotation, t: Math.round(t) }
    lines.push(JSON.stringify(rec))
  }
  for (let s = 0; s < (r.finetuneSteps ?? 0); s++) {
    const n = rand()
    const ce = 0.6 + 1.7 * Math.exp(-s / 60) + 0.1 * n
    t += msPerStep
    lines.push(
      JSON.stringify({
        stage: 'finetune',
        epoch: Math.floor(s / spe),
        step: s,
        lr: 0.01,
        ms: msPerStep,
        imagesPerSec: 1600,
        loss: ce,
        ce,
        acc: Math.min(1, 0.1 + 0.7 * (1 - Math.exp(-s / 80)) + 0.05 * n),
        t: Math.round(t)
      })
    )
  }
  const linear = r.linear ?? 0.5
  for (let e = 0; e < probeEpochs; e++) {
    t += 400
    lines.push(
      JSON.stringify({
        stage: `linear:${SAMPLE_LABEL}`,
        epoch: e,
        step: e,
        lr: 0.1,
        loss: 2.3 * Math.exp(-e / 3) + 1.2 * (1 - linear),
        acc: linear * (1 - Math.exp(-(e + 1) / 2)),
        t: Math.round(t)
      })
    )
  }
  writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n')
  const classes = [...SAMPLE_CLASSES]
  const evaluation = (protocol: 'linear' | 'knn', accuracy: number): Record<string, unknown> => {
    const perClass = classes.map((_, i) => Math.min(1, Math.max(0, accuracy + 0.15 * Math.sin(i * 1.7 + (r.seed ?? 1)))))
    const confusion = classes.map((_, i) =>
      classes.map((_, j) => (i === j ? Math.round(perClass[i]! * 50) : j === (i + 1) % classes.length ? 50 - Math.round(perClass[i]! * 50) : 0))
    )
    return {
      id: `${protocol}:${SAMPLE_LABEL}`,
      protocol,
      dataset: SAMPLE_LABEL,
      transfer: false,
      layer: 'conv5',
      accuracy,
      perClass,
      confusion,
      classNames: classes,
      trainImages: 1000,
      testImages: 500
    }
  }
  writeFileSync(
    path.join(dir, 'artifacts', 'results.json'),
    JSON.stringify({ evaluations: [evaluation('linear', linear), evaluation('knn', r.knn ?? linear * 0.9)] })
  )
}

/** A run id as the host makes them: a date, the name's slug and four letters. */
export function syntheticId(i: number, name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
  return `20250101-${String(100000 + i).slice(1)}-${slug}-${(i * 7919).toString(36).padStart(4, 'a').slice(-4)}`
}
