// Every method trains on the generated sample, with cues a tiny network learns in a few steps
// (test/helpers/cued-sample.ts), on the wasm backend with the project's
// training kernels: its loss goes down over a few dozen steps, rotation accuracy rises above
// chance, no tensor leaks, and the same seed gives the same losses.
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../../src-engine/backends'
import { Trainer } from '../../../src-engine/trainer'
import { AlexNet } from '../../../src-engine/models/alexnet'
import { ParamStore } from '../../../src-engine/models/params'
import { extractFeatures, extractFeaturesAsync } from '../../../src-engine/eval/features'
import { generateSampleDataset } from '../../../src-shared/sample-dataset'
import { cuedSample } from '../../helpers/cued-sample'
import { smallMethodConfig } from '../../helpers/step-check'
import { METHOD_NAMES, parseTrainConfig, type MethodName, type TrainConfig } from '../../../src-shared/config/train'
import { Rng } from '../../../src-shared/rng'

const data = cuedSample({ perClass: 8, size: 32, seed: 3 })

function config(method: MethodName, seed = 1): TrainConfig {
  return parseTrainConfig({
    seed,
    backbone: { arch: 'alexnet32', width: 0.125 },
    method: smallMethodConfig(method, 16),
    optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    // SimCLR with 10 images a batch is noisy: at lr 0.05 whether 30 steps lower the loss flips
    // with float rounding (it did when Sum moved to float64 accumulation); at 0.02 it falls for
    // every seed tried (1-4).
    schedule: { kind: 'constant', lr: method === 'simclr' ? 0.02 : 0.03 },
    batchSize: 10,
    epochs: 100
  })
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

beforeAll(async () => {
  expect((await selectBackend('wasm')).name).toBe('wasm')
})

describe('methods train on wasm', () => {
  it.each(METHOD_NAMES)('%s: loss decreases over 30 steps', (method) => {
    const t = new Trainer(config(method), data)
    const losses: number[] = []
    const acc: number[] = []
    for (let i = 0; i < 30; i++) {
      const r = t.step()
      losses.push(r.metrics.loss!)
      acc.push(r.metrics.acc_rot ?? r.metrics.acc ?? NaN)
      expect(Number.isFinite(r.metrics.loss)).toBe(true)
    }
    t.dispose()
    expect(mean(losses.slice(-8))).toBeLessThan(mean(losses.slice(0, 8)))
    if (method !== 'simclr') expect(mean(acc.slice(-8))).toBeGreaterThan(method === 'supervised' ? 0.2 : 0.4)
  })

  it('does not leak tensors over 50 steps', () => {
    const t = new Trainer(config('rfd'), data)
    t.step()
    const before = tf.memory().numTensors
    for (let i = 0; i < 50; i++) t.step()
    expect(tf.memory().numTensors).toBe(before)
    t.dispose()
  })

  it('same seed and backend give the same losses; another seed does not', () => {
    const run = (seed: number): number[] => {
      const t = new Trainer(config('rfd-contrastive', seed), data)
      const out = [0, 1, 2].map(() => t.step().metrics.loss!)
      t.dispose()
      return out
    }
    const a = run(7)
    expect(run(7)).toEqual(a)
    expect(run(8)).not.toEqual(a)
  })
})

describe('feature extraction', () => {
  it('gives the same features with or without yielding, and stops between batches when cancelled', async () => {
    const ps = new ParamStore(new Rng(1))
    const backbone = new AlexNet(ps, { arch: 'alexnet32', width: 0.0625 })
    const set = generateSampleDataset({ perClass: 4, size: 32, seed: 3 })
    const opts = { layer: 'conv5' as const, pool: 2, batchSize: 8 }
    const sync = extractFeatures(backbone, set, opts)
    const yielding = await extractFeaturesAsync(backbone, set, opts)
    expect(yielding.dim).toBe(sync.dim)
    expect(yielding.data).toEqual(sync.data)
    const abort = new AbortController()
    const seen: number[] = []
    await expect(
      extractFeaturesAsync(backbone, set, {
        ...opts,
        signal: abort.signal,
        onProgress: (done) => {
          seen.push(done)
          if (done >= 16) abort.abort()
        }
      })
    ).rejects.toThrow('cancelled')
    expect(seen).toEqual([8, 16])
    ps.dispose()
  })
})
