// Owns the GPU check's program (bundled into one file by pack.sh, run by run.sh on a machine with
// no Node and no network): prints the WebGPU adapter, compares one full training step of every
// method on webgpu against the cpu backend (test/helpers/step-check.ts, as the webgpu tests do),
// then times the Rotation Feature Decoupling step of bench/train.ts on webgpu for each --bench
// configuration. Uses the cpu and webgpu backends only (no wasm files to ship).
//
//   node check.mjs [--quick] [--grad alexnet32:0.0625:4] [--bench alexnet64:1:64,alexnet224:1:192]
//                  [--budget-s 250] [--steps 5] [--warmup 2] [--no-gradcheck]
//
// --grad: the network of the step comparison, arch:width:batch; --bench: the timed ones, in order
// (batch in images, 4 rotated views each). --quick: tiny timed networks and 2 timed steps, for a
// software adapter. --budget-s: the whole program's time; the step comparison stops starting
// methods after half of it (the cpu reference is pure JS and takes seconds a step), the timings
// stop taking steps when their share is spent (a step itself cannot be interrupted: run.sh's
// timeout is the hard limit). Every result is printed as soon as it is known, on a line of its
// own ('adapter {…}', 'gradcheck {…}', 'gradcheck-done {…}', 'bench {…}'), so a run cut short
// still reports what it did; the last line is one JSON summary, {"gpu_check": …}.
import { parseArgs } from 'node:util'
import * as tf from '@tensorflow/tfjs-core'
// Named imports, not bare ones: the bundler drops a bare import of a package that declares itself
// free of side effects, and this one registers the cpu backend.
import { version_cpu } from '@tensorflow/tfjs-backend-cpu'
import { disposeNodeWebGpu, initNodeWebGpu } from '../../src-engine/webgpu/node-gpu'
import { Trainer } from '../../src-engine/trainer'
import { generateSampleDataset } from '../../src-shared/sample-dataset'
import { parseTrainConfig, METHOD_NAMES } from '../../src-shared/config/train'
import type { ImageSet } from '../../src-shared/image-set'
import type { GpuAdapter } from '../../src-shared/contract/gpu'
import { Rng } from '../../src-shared/rng'
import { compareSteps, firstStep, stepCheckConfig, withNoisePixels, type StepCheckOptions } from '../../test/helpers/step-check'

const TOLERANCE = 1e-4
const ARCH_SIZE = { alexnet32: 32, alexnet64: 64, alexnet224: 224 } as const
type Arch = keyof typeof ARCH_SIZE

const { values: a } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    bench: { type: 'string' },
    grad: { type: 'string' },
    'budget-s': { type: 'string', default: '250' },
    steps: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    'no-gradcheck': { type: 'boolean', default: false }
  }
})
const quick = a.quick!
const t0 = performance.now()
const deadline = t0 + Number(a['budget-s']) * 1000
const maxSteps = Number(a.steps ?? (quick ? 2 : 5))
const warmupSteps = Math.max(1, Number(a.warmup))
function parseSpec(s: string): { arch: Arch; width: number; batch: number } {
  const [arch, width, batch] = s.split(':')
  if (!(arch! in ARCH_SIZE) || !(Number(width) > 0) || !(Number.isInteger(Number(batch)) && Number(batch) > 0)) {
    throw new Error(`${s}: expected arch:width:batch with arch one of ${Object.keys(ARCH_SIZE).join(', ')}`)
  }
  return { arch: arch as Arch, width: Number(width), batch: Number(batch) }
}
const benchSpecs = (a.bench ?? (quick ? 'alexnet64:0.125:4,alexnet224:0.0625:2' : 'alexnet64:1:64,alexnet224:1:192')).split(',').map(parseSpec)
// The step comparison: the webgpu tests' network (every method passes 1e-4 on llvmpipe, and the
// cpu reference takes seconds a step). Larger ones are not the default: at alexnet64 width 1/16,
// simclr's conv1 BatchNorm weight gradient differs by 2.1e-4 on llvmpipe with tfjs's own kernels
// too (BatchNorm over 8 views amplifies rounding), which would hide what a GPU gets wrong.
const gradSpec = parseSpec(a.grad ?? 'alexnet32:0.0625:4')
const gradOpts: StepCheckOptions = { arch: gradSpec.arch, width: gradSpec.width, batchSize: gradSpec.batch }
const gradDeadline = t0 + 0.5 * (deadline - t0)

const seconds = (ms: number): number => +(ms / 1000).toFixed(1)
const report = (tag: string, v: unknown): void => console.log(`${tag} ${JSON.stringify(v)}`)

let adapter: GpuAdapter
try {
  adapter = await initNodeWebGpu()
} catch (err) {
  const e = err as Error & { fix?: string | null }
  report('adapter', { error: e.message, fix: e.fix ?? null })
  console.log(JSON.stringify({ gpu_check: 'no-adapter', error: e.message, fix: e.fix ?? null }))
  process.exit(2)
}
report('adapter', adapter)
if (adapter.software)
  console.log(`note: ${adapter.description || adapter.device} is a software adapter (${adapter.software}): timings measure the CPU, not a GPU`)

interface GradResult {
  method: string
  grads?: { err: number; name: string }
  weights?: { err: number; name: string }
  metrics?: { err: number; name: string }
  ok: boolean
  cpu_s?: number
  webgpu_s?: number
  error?: string
}
const gradcheck: GradResult[] = []
if (!a['no-gradcheck']) {
  const size = ARCH_SIZE[gradOpts.arch!]
  const data = withNoisePixels(generateSampleDataset({ perClass: 2, size, seed: 3 }))
  console.log(
    `gradient check: one training step of each method on webgpu against cpu (${gradOpts.arch} width ${gradOpts.width}, ${gradOpts.batchSize} images), tolerance ${TOLERANCE} relative`
  )
  for (const method of METHOD_NAMES) {
    const r: GradResult = { method, ok: false }
    if (performance.now() > gradDeadline) {
      r.error = 'not checked: the step comparison used its share of --budget-s'
      gradcheck.push(r)
      report('gradcheck', r)
      continue
    }
    try {
      await tf.setBackend('cpu')
      let s = performance.now()
      const ref = firstStep(stepCheckConfig(method, gradOpts), data)
      r.cpu_s = seconds(performance.now() - s)
      await tf.setBackend('webgpu')
      s = performance.now()
      const got = firstStep(stepCheckConfig(method, gradOpts), data)
      r.webgpu_s = seconds(performance.now() - s)
      const c = compareSteps(ref, got)
      Object.assign(r, c)
      r.ok = c.grads.err < TOLERANCE && c.weights.err < TOLERANCE && c.metrics.err < TOLERANCE
    } catch (err) {
      r.error = (err as Error).message.split('\n')[0]
    }
    gradcheck.push(r)
    report('gradcheck', r)
  }
}

const gradOk = gradcheck.length > 0 && gradcheck.every((g) => g.ok)
// Over the methods that were compared (a method that failed to run counts as Infinity: null in JSON).
const compared = gradcheck.filter((g) => !g.error?.startsWith('not checked'))
const worstGrad = compared.reduce((m, g) => Math.max(m, g.grads?.err ?? Infinity, g.weights?.err ?? Infinity, g.metrics?.err ?? Infinity), 0)
if (gradcheck.length) report('gradcheck-done', { ok: gradOk, worst: compared.length ? worstGrad : null, unchecked: gradcheck.length - compared.length })

interface BenchResult {
  arch: Arch
  width: number
  batch_images: number
  views_per_step: number
  first_step_s?: number
  timed_steps?: number
  ms_per_step?: number
  best_ms?: number
  views_per_sec?: number
  approx_gflops_per_sec?: number
  params?: number
  error?: string
}
const bench: BenchResult[] = []
for (const [i, spec] of benchSpecs.entries()) {
  const { arch, width, batch } = spec
  const r: BenchResult = { arch, width, batch_images: batch, views_per_step: 4 * batch }
  // This configuration's share of the time left.
  const share = (deadline - performance.now()) / (benchSpecs.length - i)
  const start = performance.now()
  let trainer: Trainer | null = null
  try {
    await tf.setBackend('webgpu')
    const size = ARCH_SIZE[arch]
    const n = batch * (warmupSteps + maxSteps)
    const rng = new Rng(0)
    const images = new Uint8Array(n * size * size * 3)
    for (let k = 0; k < images.length; k++) images[k] = rng.int(256)
    const data: ImageSet = { images, labels: new Int32Array(n), n, size, classNames: ['x'] }
    // The step bench/train.ts times and the PyTorch peer implements.
    trainer = new Trainer(
      parseTrainConfig({
        seed: 0,
        backbone: { arch, width },
        method: { method: 'rfd-contrastive', rotationHead: 'linear', projectionHead: 'linear', tau: 0.5 },
        optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
        schedule: { kind: 'constant', lr: 0.1 },
        batchSize: batch,
        epochs: 1,
        hflip: false
      }),
      data
    )
    r.params = trainer.params.count()
    const times: number[] = []
    // Steps from this one on are timed; moved earlier when the share has no room for the whole warm-up.
    let timedFrom = warmupSteps
    for (let s = 0; s < warmupSteps + maxSteps; s++) {
      const ms = trainer.step().ms
      if (s === 0) r.first_step_s = seconds(ms)
      if (s >= timedFrom) times.push(ms)
      const elapsed = performance.now() - start
      // The first step compiles the shaders: the next one is guessed at half of it.
      const next = s === 0 ? ms / 2 : ms
      if (elapsed + next > share) {
        if (times.length > 0 || elapsed > share) break
        timedFrom = s + 1
      }
    }
    if (times.length > 0) {
      times.sort((x, y) => x - y)
      const ms = times[Math.floor(times.length / 2)]!
      const macs = trainer.backbone.macsPerImage()
      r.timed_steps = times.length
      r.ms_per_step = +ms.toFixed(1)
      r.best_ms = +times[0]!.toFixed(1)
      r.views_per_sec = +((4 * batch * 1000) / ms).toFixed(2)
      r.approx_gflops_per_sec = +((3 * 2 * macs * 4 * batch) / (ms / 1000) / 1e9).toFixed(1)
    } else {
      r.error = `no timed step: the warm-up took ${seconds(performance.now() - start)} s of this configuration's ${seconds(share)} s`
    }
  } catch (err) {
    r.error = (err as Error).message.split('\n')[0]
  } finally {
    trainer?.dispose()
  }
  bench.push(r)
  report('bench', r)
}

await tf.setBackend('cpu')
disposeNodeWebGpu()
console.log(
  JSON.stringify({
    gpu_check: quick ? 'quick' : 'full',
    adapter: {
      description: adapter.description,
      vendor: adapter.vendor,
      architecture: adapter.architecture,
      device: adapter.device,
      software: adapter.software,
      limits: adapter.limits
    },
    gradcheck: {
      ok: gradOk,
      tolerance: TOLERANCE,
      worst: compared.length ? worstGrad : null,
      unchecked: gradcheck.length - compared.length,
      config: gradOpts,
      methods: gradcheck
    },
    bench,
    node: process.version,
    tfjs: { core: tf.version_core, cpu: version_cpu },
    seconds: seconds(performance.now() - t0)
  })
)
process.exit(0)
