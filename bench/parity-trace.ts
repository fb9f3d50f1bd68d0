// Writes a parity trace (src-engine/parity/trace.ts) of one method on the built-in sample, for
// tools/torch-twin/replay.py to replay in PyTorch:
//
//   npx tsx bench/parity-trace.ts --method rotnet --steps 20 --out /tmp/trace-rotnet
//     [--arch alexnet64] [--width 0.0625] [--batch 8] [--per-class 20] [--lr 0.03] [--seed 1]
//     [--backend wasm] [--nce-k 16] [--hflip] [--noise] [--momentum 0.9] [--weight-decay 5e-4]
//   /usr/bin/python3 tools/torch-twin/replay.py /tmp/trace-rotnet
import { parseArgs } from 'node:util'
import { registerKernel, unregisterKernel } from '@tensorflow/tfjs-core'
import { stockWasmKernel } from '../src-engine/wasm-kernels'
import { selectBackend, type BackendName } from '../src-engine/backends'
import { writeTrace } from '../src-engine/parity/trace'
import { generateSampleDataset } from '../src-shared/sample-dataset'
import { parseTrainConfig } from '../src-shared/config/train'
import { Rng } from '../src-shared/rng'

const { values: a } = parseArgs({
  options: {
    method: { type: 'string', default: 'rotnet' },
    steps: { type: 'string', default: '20' },
    out: { type: 'string' },
    arch: { type: 'string', default: 'alexnet64' },
    width: { type: 'string', default: '0.0625' },
    batch: { type: 'string', default: '8' },
    'per-class': { type: 'string', default: '20' },
    lr: { type: 'string', default: '0.03' },
    seed: { type: 'string', default: '1' },
    backend: { type: 'string', default: 'wasm' },
    'nce-k': { type: 'string', default: '16' },
    hflip: { type: 'boolean', default: false },
    noise: { type: 'boolean', default: false },
    momentum: { type: 'string', default: '0.9' },
    'stock-kernels': { type: 'string' },
    'weight-decay': { type: 'string', default: '5e-4' }
  }
})
if (!a.out) throw new Error('--out: name the folder to write the trace to')
const method = a.method!
const methodConfig: Record<string, unknown> = { method }
if (method === 'rfd') methodConfig.nceK = Number(a['nce-k'])

await selectBackend(a.backend as BackendName)
// --stock-kernels A,B: the stock wasm kernels instead of the project's, to find which one a difference comes from.
for (const name of (a['stock-kernels'] ?? '').split(',').filter(Boolean)) {
  unregisterKernel(name, 'wasm')
  const stock = stockWasmKernel(name)
  if (stock) registerKernel(stock)
}
const config = parseTrainConfig({
  seed: Number(a.seed),
  backbone: { arch: a.arch, width: Number(a.width) },
  method: methodConfig,
  optimizer: { kind: 'sgd', momentum: Number(a.momentum), nesterov: true, weightDecay: Number(a['weight-decay']) },
  schedule: { kind: 'constant', lr: Number(a.lr) },
  batchSize: Number(a.batch),
  epochs: 1000,
  hflip: a.hflip
})
const sample = generateSampleDataset({ perClass: Number(a['per-class']), size: 64, seed: Number(a.seed) })
// --noise: random pixels (labels kept), so no two pooled activations are near-ties (see test/helpers/step-check.ts).
const rng = new Rng(Number(a.seed) + 5)
const data = a.noise ? { ...sample, images: Uint8Array.from(sample.images, () => rng.int(256)) } : sample
const r = writeTrace({ config, data, steps: Number(a.steps), dir: a.out })
for (const [i, m] of r.metrics.entries())
  console.log(
    `step ${i}: lr ${r.lrs[i]} ${Object.entries(m)
      .map(([k, v]) => `${k} ${v.toFixed(6)}`)
      .join(' ')}`
  )
console.log(`trace written to ${r.dir}`)
