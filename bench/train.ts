// Training throughput benchmark: one Rotation Feature Decoupling step (4 rotated views per
// image, backbone, rotation CE + invariance + NT-Xent, SGD with Nesterov) on random data, the
// same work as the PyTorch peer (../shared/peer-bench/rfd_torch_bench.py), which runs in the
// same command so the printed ratio compares like with like on this machine.
//
//   npm run bench:train -- --backend wasm --width 1 --batch 32 --input 64 [--steps 5] [--warmup 2] [--no-peer]
//                          [--wasm-threads N] [--threads N] [--no-wasm] [--no-profile]
//   npm run bench:train -- --backend webgpu --width 1 --batch 64 --input 64
//
// --wasm-threads: threads of the wasm backend (default: one per core, as the app uses it; 1 = the
// single-threaded build tfjs picks by itself in Node). --threads: the PyTorch peer's threads.
// After the timed steps one more step runs under tf.profile and the time per kernel is printed
// (--no-profile skips it). The load average is printed before and after each side, since the
// figures mean little on a busy machine. --batch counts images; each gives 4 rotated views, as in the peer. FLOPs are counted
// analytically (conv + fc multiply-adds of the backbone; FLOP = 2 MAC; training ~ 3x forward,
// the peer's convention).
//
// Any backend other than wasm is also compared with the wasm path (the app's CPU backend): the
// same step is timed on wasm in a child process (each backend alone in its process, as the peer
// is) and the ratio printed; --no-wasm skips it. --backend webgpu names the backend, so it runs
// on a software adapter too (then it measures the CPU, not a GPU: the adapter line says which).
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend, setWasmThreads } from '../src-engine/backends'
import { wasmThreadsInfo } from '../src-engine/wasm-kernels'
import { Trainer } from '../src-engine/trainer'
import { parseTrainConfig } from '../src-shared/config/train'
import type { ImageSet } from '../src-shared/image-set'
import { Rng } from '../src-shared/rng'

const { values: a } = parseArgs({
  options: {
    backend: { type: 'string', default: 'auto' },
    width: { type: 'string', default: '1' },
    batch: { type: 'string', default: '32' },
    input: { type: 'string', default: '64' },
    steps: { type: 'string', default: '5' },
    warmup: { type: 'string', default: '2' },
    'no-peer': { type: 'boolean', default: false },
    peer: { type: 'string', default: path.resolve(import.meta.dirname, '../../shared/peer-bench/rfd_torch_bench.py') },
    threads: { type: 'string', default: '2' },
    'wasm-threads': { type: 'string' },
    'no-wasm': { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false }
  }
})
const width = Number(a.width)
const batch = Number(a.batch)
const input = Number(a.input)
const steps = Number(a.steps)
const warmup = Number(a.warmup)
const arch = input === 224 ? 'alexnet224' : input === 32 ? 'alexnet32' : 'alexnet64'
if (![32, 64, 224].includes(input)) throw new Error('--input must be 32, 64 or 224')

/** The 1-, 5- and 15-minute load averages (Linux; empty elsewhere). */
function loadavg(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
  } catch {
    return ''
  }
}

if (a['wasm-threads'] !== undefined) setWasmThreads(Number(a['wasm-threads']))
const { name: backend, statuses } = await selectBackend(a.backend as 'auto')
const adapter = backend === 'webgpu' ? statuses.find((s) => s.name === 'webgpu')?.adapter : undefined
if (adapter)
  console.log(
    `adapter      ${JSON.stringify({ description: adapter.description, vendor: adapter.vendor, architecture: adapter.architecture, software: adapter.software, limits: adapter.limits })}`
  )
const rng = new Rng(0)
const n = batch * (steps + warmup)
const images = new Uint8Array(n * input * input * 3)
for (let i = 0; i < images.length; i++) images[i] = rng.int(256)
const data: ImageSet = { images, labels: new Int32Array(n), n, size: input, classNames: ['x'] }
const trainer = new Trainer(
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
const loadBefore = loadavg()
const times: number[] = []
for (let s = 0; s < warmup + steps; s++) {
  const r = trainer.step()
  if (s >= warmup) times.push(r.ms)
}
times.sort((x, y) => x - y)
const ms = times[Math.floor(times.length / 2)]!
const views = 4 * batch
const macsPerView = trainer.backbone.macsPerImage()
const ours = {
  backend,
  wasm_threads: backend === 'wasm' ? (wasmThreadsInfo()?.threads ?? 1) : null,
  arch,
  width,
  batch_images: batch,
  views_per_step: views,
  ms_per_step: +ms.toFixed(1),
  best_ms: +times[0]!.toFixed(1),
  views_per_sec: +((views * 1000) / ms).toFixed(2),
  fwd_gflops_per_view: +((2 * macsPerView) / 1e9).toFixed(4),
  approx_gflops_per_sec: +((3 * 2 * macsPerView * views) / (ms / 1000) / 1e9).toFixed(1),
  params: trainer.params.count(),
  tensors_after: tf.memory().numTensors,
  load_before: loadBefore,
  load_after: loadavg()
}
console.log(`quarterturn  ${JSON.stringify(ours)}`)
if (!a['no-profile']) {
  const prof = await tf.profile(() => {
    trainer.step()
  })
  const byKernel = new Map<string, { ms: number; calls: number }>()
  for (const k of prof.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 }
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
    e.calls++
    byKernel.set(k.name, e)
  }
  const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0)
  const top = [...byKernel.entries()].sort((x, y) => y[1].ms - x[1].ms).filter(([, e]) => e.ms >= total * 0.005)
  const split = top.map(([name, e]) => `${name} ${e.ms.toFixed(0)} (${((100 * e.ms) / total).toFixed(1)}%, ${e.calls})`).join(', ')
  console.log(`kernels      profiled step, sum ${total.toFixed(0)} ms: ${split}`)
}
trainer.dispose()

if (backend !== 'wasm' && !a['no-wasm']) {
  const args = [
    '--backend',
    'wasm',
    '--width',
    a.width!,
    '--batch',
    a.batch!,
    '--input',
    a.input!,
    '--steps',
    a.steps!,
    '--warmup',
    a.warmup!,
    '--no-peer',
    '--no-wasm'
  ]
  if (a['wasm-threads'] !== undefined) args.push('--wasm-threads', a['wasm-threads'])
  const p = spawnSync(process.execPath, [...process.execArgv, import.meta.filename, ...args], { encoding: 'utf8' })
  const line = p.stdout.split('\n').find((l) => l.startsWith('quarterturn  ')) ?? ''
  if (p.status !== 0 || !line) {
    console.log(`wasm run failed: ${p.stderr.trim().split('\n').at(-1)}`)
  } else {
    const w = JSON.parse(line.slice('quarterturn  '.length)) as typeof ours
    console.log(
      `wasm         ${JSON.stringify({ ms_per_step: w.ms_per_step, views_per_sec: w.views_per_sec, approx_gflops_per_sec: w.approx_gflops_per_sec, threads: w.wasm_threads })}`
    )
    console.log(`ratio (${backend} / wasm views/s): ${(ours.views_per_sec / w.views_per_sec).toFixed(3)}`)
  }
}

/**
 * Debian's torch (python3-torch) multiplies through whatever libblas.so.3 the alternatives system
 * points at; with only the reference BLAS installed (libblas3) the peer's dense layers run several
 * times slower and every ratio printed here is flattering. Returns a warning then, else null.
 */
function slowPeerBlas(): string | null {
  const q = spawnSync('update-alternatives', ['--query', 'libblas.so.3-x86_64-linux-gnu'], { encoding: 'utf8' })
  if (q.status !== 0 || !q.stdout) return null
  const value = /^Value:\s*(\S+)/m.exec(q.stdout)?.[1]
  if (!value || !/\/blas\/libblas\.so/.test(value)) return null
  return `warning: the PyTorch peer's BLAS is Debian's reference BLAS (${value}), far slower than OpenBLAS, so the ratio below overstates Quarterturn. Install OpenBLAS: apt-get install libopenblas0-pthread`
}

if (!a['no-peer']) {
  const python = '/usr/bin/python3'
  const blasWarning = slowPeerBlas()
  if (blasWarning) console.log(blasWarning)
  if (!existsSync(a.peer!)) {
    console.log(`peer: ${a.peer} not found; pass --peer PATH or --no-peer`)
  } else {
    const peerLoadBefore = loadavg()
    const args = [
      a.peer!,
      '--batch',
      String(batch),
      '--threads',
      a.threads!,
      '--width-mult',
      String(width),
      '--warmup',
      String(warmup),
      '--steps',
      String(steps),
      '--json'
    ]
    if (input === 224) args.push('--arch', 'alexnet-ref', '--size', '224')
    const p = spawnSync(python, args, { encoding: 'utf8' })
    const line = p.stdout.trim().split('\n').at(-1) ?? ''
    if (p.status !== 0 || !line.startsWith('{')) {
      console.log(`peer failed (${python} ${args.join(' ')}): ${p.stderr.trim().split('\n').at(-1)}`)
      console.log('Install it with: apt-get install -y python3-torch python3-numpy')
    } else {
      const peer = JSON.parse(line) as {
        views_per_sec: number
        ms_per_step: number
        approx_gflops_per_sec: number
        torch_threads: number
        other_procs_cores?: number | null
      }
      console.log(
        `pytorch      ${JSON.stringify({ ms_per_step: peer.ms_per_step, views_per_sec: peer.views_per_sec, approx_gflops_per_sec: peer.approx_gflops_per_sec, threads: peer.torch_threads, other_procs_cores: peer.other_procs_cores ?? null, load_before: peerLoadBefore, load_after: loadavg() })}`
      )
      console.log(`ratio (quarterturn / pytorch views/s): ${(ours.views_per_sec / peer.views_per_sec).toFixed(3)}`)
    }
  }
}
