// The parity trace writer (src-engine/parity/trace.ts) without PyTorch: recording changes
// nothing the trainer computes (same losses as an untraced run of the same seed), and the files
// hold what a replay needs: the batches as fed, NCE rows with the positive first, SimCLR's
// augmented views, each step's starting weights, init and final weights in PyTorch names.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src-engine/backends'
import { writeTrace } from '../../../src-engine/parity/trace'
import { Trainer } from '../../../src-engine/trainer'
import { decodeSafetensors } from '../../../src-node/safetensors'
import { generateSampleDataset } from '../../../src-shared/sample-dataset'
import { parseTrainConfig, type MethodName } from '../../../src-shared/config/train'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'

const data = generateSampleDataset({ perClass: 3, size: 64, seed: 2 })

const config = (method: MethodName) =>
  parseTrainConfig({
    seed: 4,
    backbone: { arch: 'alexnet64', width: 0.0625 },
    method: method === 'rfd' ? { method, nceK: 5 } : { method },
    optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    schedule: { kind: 'constant', lr: 0.02 },
    batchSize: 4,
    epochs: 3,
    hflip: false
  })

beforeAll(async () => {
  await selectBackend('wasm')
})
afterAll(cleanupTmp)

describe('parity traces', () => {
  it.each(['rfd', 'simclr'] as MethodName[])('%s: the traced run has the untraced run losses, and the files hold each step', (method) => {
    const dir = path.join(tmpDir('qt-trace-'), method)
    const r = writeTrace({ config: config(method), data, steps: 3, dir, featureImages: 5 })
    const plain = new Trainer(config(method), data)
    for (let i = 0; i < 3; i++) expect(plain.step().metrics).toEqual(r.metrics[i])
    plain.dispose()

    const read = (f: string) => decodeSafetensors(readFileSync(path.join(dir, f)), f).tensors
    const steps = read('steps.safetensors')
    const init = read('init.safetensors')
    const final = read('final.safetensors')
    expect(init['_feature_blocks.0.0.weight']!.shape).toEqual([4, 3, 5, 5])
    expect(final['_feature_blocks.0.1.num_batches_tracked']!.values[0]).toBe(3)
    expect(Array.from(steps['before.0._feature_blocks.0.0.weight']!.values)).toEqual(Array.from(init['_feature_blocks.0.0.weight']!.values))
    expect('before.2.rot_head.0.weight' in steps).toBe(method === 'rfd')
    expect('before.2.proj_head.0.weight' in steps).toBe(true)
    for (let i = 0; i < 3; i++) {
      expect(steps[`images.${i}`]!.shape).toEqual([4, 64, 64, 3])
      const idx = steps[`indices.${i}`]!.values
      if (method === 'rfd') {
        const nce = steps[`nce.${i}`]!
        expect(nce.shape).toEqual([4, 6])
        expect([0, 1, 2, 3].map((b) => nce.values[b * 6])).toEqual(Array.from(idx))
        expect(steps[`before.${i}.nce.memory`]!.shape).toEqual([data.n, 128])
      } else {
        expect(steps[`inputs.${i}`]!.shape).toEqual([8, 64, 64, 3])
      }
    }
    const feats = read('features.safetensors')
    expect(feats.images!.shape).toEqual([5, 64, 64, 3])
    expect(feats.fc!.shape).toEqual([5, 256])
    const trace = JSON.parse(readFileSync(path.join(dir, 'trace.json'), 'utf8')) as { lrs: number[]; nceZ: number | null }
    expect(trace.lrs).toEqual([0.02, 0.02, 0.02])
    if (method === 'rfd') expect(trace.nceZ).toBeGreaterThan(0)
  })
})
