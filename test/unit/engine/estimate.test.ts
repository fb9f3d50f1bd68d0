// Time estimates: the step-cost fit, the per-stage arithmetic, and the engine benchmark run
// through the host in a real worker process (stored per config, measured again on request).
import { afterEach, describe, expect, it } from 'vitest'
import path from 'node:path'
import { estimateRun, fitStepCost, mainStep, runSizes, stepMs, type EngineBenchmark } from '../../../src-shared/estimate'
import { parseRunConfig } from '../../../src-shared/config/run'
import { secondBatch } from '../../../src-engine/estimate'
import { createHeadlessHost } from '../../../src-host/headless'
import type { Host } from '../../../src-host/host'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'

const hosts: Host[] = []
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.shutdown()
  cleanupTmp()
})

describe('step-cost fit', () => {
  it('recovers fixed and per-image cost from a line, and passes through 0 for one batch size', () => {
    const c = fitStepCost([2, 4, 8].map((batch) => ({ batch, ms: 30 + 12.5 * batch })))
    expect(c.fixedMs).toBeCloseTo(30, 9)
    expect(c.perImageMs).toBeCloseTo(12.5, 9)
    expect(stepMs(c, 64)).toBeCloseTo(830, 9)
    expect(fitStepCost([{ batch: 2, ms: 50 }])).toEqual({ fixedMs: 0, perImageMs: 25 })
  })
  it('never returns negative terms when noise tips the line', () => {
    const c = fitStepCost([
      { batch: 2, ms: 100 },
      { batch: 8, ms: 90 }
    ])
    expect(c).toEqual({ fixedMs: 95, perImageMs: 0 })
    const d = fitStepCost([
      { batch: 2, ms: 10 },
      { batch: 8, ms: 100 }
    ])
    expect(d.fixedMs).toBe(0)
    expect(d.perImageMs).toBeCloseTo(110 / 10, 9)
    expect(() => fitStepCost([])).toThrow(/no timed steps/)
  })
  it('times the run’s own batch when a step of it takes about 3 s or less, else the largest that does', () => {
    expect(secondBatch(32, 20)).toBe(32)
    expect(secondBatch(192, 20)).toBe(64)
    expect(secondBatch(192, 150)).toBe(16)
    expect(secondBatch(192, 2000)).toBe(8)
    expect(secondBatch(5, 2000)).toBe(5)
    expect(secondBatch(2, 1)).toBe(2)
  })
})

describe('run estimate', () => {
  const bench: EngineBenchmark = {
    backend: 'wasm',
    threads: 2,
    pretrain: { fixedMs: 100, perImageMs: 10 },
    rotnet: { fixedMs: 50, perImageMs: 5 },
    supervised: { fixedMs: 20, perImageMs: 2 },
    forwardPerImageMs: 1,
    measuredAt: '2026-11-28T00:00:00Z',
    seconds: 3
  }
  it('multiplies each stage’s steps by the fitted step time', () => {
    const c = parseRunConfig({
      pretrain: { method: { method: 'rfd' }, epochs: 3, batchSize: 64 },
      pu: { enabled: true, folds: 2, epochs: 1 },
      finetune: { enabled: true, epochs: 2, batchSize: 32 },
      evaluation: { linear: { enabled: true }, knn: { enabled: false } }
    })
    const e = estimateRun(c, { train: 1000, test: 200, labelled: 200 }, bench)
    const by = Object.fromEntries(e.stages.map((s) => [s.id, s]))
    // PU: 2 folds x ceil(500/64)=8 steps; each 50+5*64 ms; plus 1000 images x 4 views x 1 ms.
    expect(by.pu).toEqual({ id: 'pu', steps: 16, seconds: (16 * 370 + 4000) / 1000 })
    // Pretraining: 3 epochs x ceil(1000/64)=16 steps of 100+640 ms.
    expect(by.pretrain).toEqual({ id: 'pretrain', steps: 48, seconds: (48 * 740) / 1000 })
    // Fine-tuning: 2 epochs x ceil(200/32)=7 steps of 20+64 ms.
    expect(by.finetune).toEqual({ id: 'finetune', steps: 14, seconds: (14 * 84) / 1000 })
    expect(by.evaluate!.seconds).toBeCloseTo(1.2, 9)
    expect(e.total).toBeCloseTo(by.pu!.seconds + by.pretrain!.seconds + by.finetune!.seconds + 1.2, 9)
  })
  it('counts the images of the sample and of registered datasets, labelled ones per class', () => {
    const sample = parseRunConfig({
      dataset: { kind: 'sample', perClass: 20, testPerClass: 5 },
      finetune: { enabled: true, labelled: { kind: 'first-per-class', value: 3 } }
    })
    expect(runSizes(sample, () => undefined)).toEqual({ train: 200, test: 50, labelled: 30 })
    const tiny = parseRunConfig({
      dataset: { kind: 'dataset', id: 'tiny', trainSplit: 'train', testSplit: 'val' },
      finetune: { enabled: true, labelled: { kind: 'fraction', value: 0.2 } }
    })
    const info = {
      classes: 200,
      splits: [
        { name: 'train', count: 100000 },
        { name: 'val', count: 10000 }
      ]
    }
    expect(runSizes(tiny, (id) => (id === 'tiny' ? info : undefined))).toEqual({ train: 100000, test: 10000, labelled: 20000 })
    const perClass = parseRunConfig({ ...tiny, finetune: { enabled: true, labelled: { kind: 'per-class', value: 100 } } })
    expect(runSizes(perClass, () => info)!.labelled).toBe(20000)
    expect(runSizes(tiny, () => undefined)).toBeNull()
  })
  it('names the step a run mostly consists of: pretraining, else fine-tuning', () => {
    expect(mainStep(parseRunConfig({ pretrain: { batchSize: 64 } }), bench)).toEqual({ what: 'pretraining', batch: 64, ms: 100 + 640 })
    expect(mainStep(parseRunConfig({ pretrain: { enabled: false }, finetune: { enabled: true, batchSize: 32 } }), bench)).toEqual({
      what: 'training',
      batch: 32,
      ms: 20 + 64
    })
    expect(mainStep(parseRunConfig({ pretrain: { batchSize: 64 } }), { ...bench, pretrain: null }).ms).toBeNull()
  })
  it('leaves out the stages that are off', () => {
    const c = parseRunConfig({
      pretrain: { enabled: false },
      finetune: { enabled: false },
      evaluation: { linear: { enabled: false }, nonlinear: { enabled: false }, knn: { enabled: false } }
    })
    expect(estimateRun(c, { train: 10, test: 10, labelled: 10 }, bench)).toEqual({ stages: [], total: 0 })
  })
})

describe('engine benchmark through the host', () => {
  it('times real steps in a worker, stores them per config, and measures again on request', async () => {
    const host = createHeadlessHost({
      configDir: tmpDir('qt-cfg-'),
      defaultWorkspace: tmpDir('qt-ws-'),
      runWorker: { entry: path.resolve('src-engine/run-worker.ts'), execArgv: ['--import', 'tsx'] }
    })
    hosts.push(host)
    const progress: number[] = []
    host.onEvent((name, p) => {
      if (name === 'engine.progress') progress.push((p as { fraction: number }).fraction)
    })
    const config = {
      backend: 'wasm',
      backbone: { arch: 'alexnet32', width: 0.0625 },
      pretrain: { method: { method: 'rotnet' }, batchSize: 6 },
      finetune: { enabled: true, batchSize: 4 }
    }
    expect(await host.call('engine.benchmark', { config, mode: 'cached' })).toBeNull()
    const first = (await host.call('engine.benchmark', { config }))!
    expect(first).toMatchObject({ cached: false, backend: 'wasm', rotnet: null })
    for (const c of [first.pretrain!, first.supervised]) {
      expect(c.fixedMs).toBeGreaterThanOrEqual(0)
      expect(c.perImageMs).toBeGreaterThanOrEqual(0)
      expect(stepMs(c, 4)).toBeGreaterThan(0)
    }
    expect(first.forwardPerImageMs).toBeGreaterThan(0)
    expect(progress.at(-1)).toBe(1)
    expect(progress).toEqual([...progress].sort((a, b) => a - b))
    const again = await host.call('engine.benchmark', { config, mode: 'cached' })
    expect(again).toEqual({ ...first, cached: true })
    // Another method is another measurement.
    const simclr = await host.call('engine.benchmark', { config: { ...config, pretrain: { method: { method: 'simclr' }, batchSize: 6 } } })
    expect(simclr!.key).not.toBe(first.key)
    const fresh = (await host.call('engine.benchmark', { config, mode: 'refresh' }))!
    expect(fresh.cached).toBe(false)
    expect(fresh.measuredAt > first.measuredAt).toBe(true)
    await expect(host.call('engine.benchmark', { config: { pretrain: { epochs: -1 } } })).rejects.toThrow(
      /not valid yet, so it cannot be timed: .*epochs must be at least 1/
    )
  }, 120_000)
})
