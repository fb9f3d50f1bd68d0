// A/B of the fused wasm training kernels (BatchNorm+ReLU, SGD step) inside one process: training
// steps alternate between the fused kernels and the composites, so both see the same machine load.
//   npx tsx bench/fused-ab.ts [--width 0.25] [--batch 64] [--input 64] [--rounds 4] [--what bn|sgd|both]
import { parseArgs } from 'node:util'
import { readFileSync } from 'node:fs'
import { selectBackend } from '../src-engine/backends'
import { setFusedBatchNormDisabled, setFusedSgdDisabled } from '../src-engine/wasm-kernels'
import { Trainer } from '../src-engine/trainer'
import { parseTrainConfig } from '../src-shared/config/train'
import { Rng } from '../src-shared/rng'

const { values: a } = parseArgs({
  options: {
    width: { type: 'string', default: '0.25' },
    batch: { type: 'string', default: '64' },
    input: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '4' },
    what: { type: 'string', default: 'both' }
  }
})
const batch = Number(a.batch)
const input = Number(a.input)
const rounds = Number(a.rounds)
await selectBackend('wasm')
const rng = new Rng(0)
const n = batch * (2 * rounds + 2)
const images = new Uint8Array(n * input * input * 3)
for (let i = 0; i < images.length; i++) images[i] = rng.int(256)
const trainer = new Trainer(
  parseTrainConfig({
    seed: 0,
    backbone: { arch: input === 32 ? 'alexnet32' : 'alexnet64', width: Number(a.width) },
    method: { method: 'rfd-contrastive', rotationHead: 'linear', projectionHead: 'linear', tau: 0.5 },
    optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    schedule: { kind: 'constant', lr: 0.1 },
    batchSize: batch,
    epochs: 1,
    hflip: false
  }),
  { images, labels: new Int32Array(n), n, size: input, classNames: ['x'] }
)
const set = (fused: boolean): void => {
  if (a.what !== 'sgd') setFusedBatchNormDisabled(!fused)
  if (a.what !== 'bn') setFusedSgdDisabled(!fused)
}
const load = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
console.log(`load before ${load()}`)
set(true)
trainer.step()
set(false)
trainer.step()
const t: Record<'old' | 'new', number[]> = { old: [], new: [] }
for (let r = 0; r < rounds; r++) {
  for (const k of r % 2 ? (['new', 'old'] as const) : (['old', 'new'] as const)) {
    set(k === 'new')
    t[k].push(trainer.step().ms)
  }
}
const med = (v: number[]): number => [...v].sort((x, y) => x - y)[Math.floor(v.length / 2)]!
console.log(`load after ${load()}`)
console.log(
  `${a.what} width ${a.width} batch ${batch}: composite ${med(t.old).toFixed(0)} ms (${t.old.map((x) => x.toFixed(0)).join(' ')}), fused ${med(t.new).toFixed(0)} ms (${t.new.map((x) => x.toFixed(0)).join(' ')}), ratio ${(med(t.old) / med(t.new)).toFixed(3)}`
)
trainer.dispose()
