// The run pipeline end to end with the real worker process on a tiny generated dataset:
// full pipeline, pause/resume equivalence, kill -9 recovery, damaged checkpoints, invalid
// configs. (A queue that survives its host's death: runs-multiprocess.test.ts.)
import { afterEach, describe, expect, it } from 'vitest'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { createHeadlessHost } from '../../../src-host/headless'
import type { Host } from '../../../src-host/host'
import { readMetrics } from '../../../src-node/metrics-log'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { AnalysisWorker } from '../../../src-host/runs/analysis-worker'
import { forkLauncher } from '../../../src-host/runs/fork-launcher'
import { buildReport } from '../../../src-shared/report/report'
import { SAMPLE_DRAWING } from '../../../src-shared/sample-dataset'
import type { WorkerHandle } from '../../../src-host/runs/service'

const WORKER = { entry: path.resolve('src-engine/run-worker.ts'), execArgv: ['--import', 'tsx'] }
const hosts: Host[] = []
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.shutdown()
  cleanupTmp()
})

function newHost(ws = tmpDir('qt-ws-'), configDir = tmpDir('qt-cfg-')): { host: Host; ws: string; configDir: string } {
  const host = createHeadlessHost({ configDir, defaultWorkspace: ws, runWorker: WORKER })
  hosts.push(host)
  return { host, ws, configDir }
}

/** A tiny run: 40 images of 32 px, a 1/16-width AlexNet. */
function tiny(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    name: 'tiny',
    seed: 3,
    backend: 'wasm',
    dataset: { kind: 'sample', perClass: 4, testPerClass: 2, size: 32, seed: 2 },
    backbone: { arch: 'alexnet32', width: 0.0625 },
    pretrain: { method: { method: 'rotnet' }, epochs: 3, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } },
    evaluation: { linear: { epochs: 3, batchSize: 16 }, knn: { k: 5 } },
    ...extra
  }
}

async function waitFor<T>(fn: () => Promise<T | undefined | null | false>, what: string, ms = 60_000): Promise<T> {
  const t0 = Date.now()
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

describe('runs', () => {
  it('runs pretrain -> fine-tune -> linear and kNN evaluation to done, recording accuracies', async () => {
    const { host, ws } = newHost()
    const run = await host.call('runs.create', {
      config: tiny({
        finetune: { enabled: true, epochs: 2, batchSize: 8, labelled: { kind: 'fraction', value: 0.5 }, schedule: { kind: 'constant', lr: 0.02 } }
      }),
      preset: null
    })
    expect(['queued', 'running']).toContain(run.status.state)
    const done = await host.runs.waitSettled(run.id)
    expect(done.status).toMatchObject({ state: 'done', backend: 'wasm', error: null })
    const detail = await host.call('runs.get', { id: run.id })
    const protocols = detail.evaluations.map((e) => e.protocol).sort()
    expect(protocols).toEqual(['finetune', 'knn', 'linear'])
    for (const e of detail.evaluations) {
      expect(e.accuracy).toBeGreaterThanOrEqual(0)
      expect(e.accuracy).toBeLessThanOrEqual(1)
      expect(e.confusion.flat().reduce((a, b) => a + b, 0)).toBe(20)
      expect(e.classNames).toHaveLength(10)
    }
    const runJson = JSON.parse(await fs.readFile(path.join(ws, 'runs', run.id, 'run.json'), 'utf8'))
    expect(runJson).toMatchObject({ id: run.id, seed: 3, configHash: expect.stringMatching(/^[0-9a-f]{16}$/), versions: { tfjs: '4.22.0' } })
    const records = await readMetrics(path.join(ws, 'runs', run.id, 'metrics.jsonl'))
    expect(records.filter((r) => r.stage === 'pretrain')).toHaveLength(12)
    expect(records.filter((r) => r.stage === 'finetune')).toHaveLength(6)
    // The linear probe's training curve: a record per epoch under the evaluation's id.
    const linearId = detail.evaluations.find((e) => e.protocol === 'linear')!.id
    const probe = records.filter((r) => r.stage === linearId)
    expect(probe.map((r) => [r.epoch, r.step])).toEqual([
      [0, 0],
      [1, 1],
      [2, 2]
    ])
    for (const r of probe) {
      expect(r.loss).toBeGreaterThan(0)
      expect(r.acc).toBeGreaterThanOrEqual(0)
      expect(r.acc).toBeLessThanOrEqual(1)
      expect(r.lr).toBeGreaterThan(0)
      expect(r.t).toBeGreaterThan(0)
    }

    // Summaries and the data the run saw, recorded with it.
    expect(detail.summaries['pretrain.loss']).toMatchObject({ count: 12 })
    expect(detail.summaries['pretrain.loss']!.best).toBe(detail.summaries['pretrain.loss']!.min)
    expect(detail.summaries['pretrain.acc_rot']!.best).toBe(detail.summaries['pretrain.acc_rot']!.max)
    expect(detail.dataFingerprints.map((f) => [f.split, f.images])).toEqual([
      ['train', 40],
      ['test', 20]
    ])
    expect(JSON.parse(await fs.readFile(path.join(ws, 'runs', run.id, 'run.json'), 'utf8')).dataFingerprints[0].sha256).toMatch(/^[0-9a-f]{64}$/)

    // Rotation previews from the finished model: four exact quarter turns, probabilities sum to 1.
    const preview = await host.call('runs.preview', { id: run.id, count: 3, split: 'test', seed: 4 })
    expect(preview.images).toHaveLength(3)
    for (const img of preview.images) {
      expect(img.views.map((v) => v.rotation)).toEqual([0, 1, 2, 3])
      for (const v of img.views) {
        expect(v.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)
        expect(Buffer.from(v.png.split(',')[1]!, 'base64').subarray(1, 4).toString()).toBe('PNG')
      }
      expect(new Set(img.views.map((v) => v.png)).size).toBe(4)
    }
  }, 120_000)

  it('previews predict at a chosen checkpoint, on picked images, and show the training views', async () => {
    const { host } = newHost()
    const run = await host.call('runs.create', {
      config: tiny({ checkpoint: { keep: 5 }, evaluation: { linear: { enabled: false }, knn: { enabled: false } } }),
      preset: null
    })
    // Training views need only the config: ask while the run trains.
    const simclr = await host.call('runs.create', {
      config: tiny({
        pretrain: { method: { method: 'simclr', minCropScale: 0.3, jitter: 0.8 }, epochs: 1, batchSize: 10 },
        evaluation: { linear: { enabled: false }, knn: { enabled: false } }
      }),
      preset: null
    })
    const aug = await host.call('runs.augmentations', { id: simclr.id, split: 'train', indices: [5, 1], views: 3, seed: 9 })
    expect(aug.method).toBe('simclr')
    expect(aug.description).toContain('area 0.3–1')
    expect(aug.images.map((i) => [i.index, i.className])).toEqual([
      [5, expect.any(String)],
      [1, expect.any(String)]
    ])
    for (const im of aug.images) {
      expect(im.views).toHaveLength(3)
      // Three random crops/jitters of one image are three different pictures, none the original.
      expect(new Set(im.views).size).toBe(3)
      expect(im.views).not.toContain(im.original)
    }
    const again = await host.call('runs.augmentations', { id: simclr.id, split: 'train', indices: [5, 1], views: 3, seed: 9 })
    expect(again.images[0]!.views).toEqual(aug.images[0]!.views)

    // Thumbnails of the split: a page, and by index.
    const page = await host.call('runs.images', { id: run.id, split: 'test', offset: 16, limit: 48 })
    expect(page).toMatchObject({ split: 'test', total: 20, size: 32 })
    expect(page.items.map((i) => i.index)).toEqual([16, 17, 18, 19])
    const byIndex = await host.call('runs.images', { id: run.id, split: 'test', indices: [17] })
    expect(byIndex.items[0]).toEqual(page.items[1])

    await host.runs.waitSettled(run.id)
    await host.runs.waitSettled(simclr.id)
    const detail = await host.call('runs.get', { id: run.id })
    const pre = detail.checkpoints.filter((c) => c.label.stage === 'pretrain')
    expect(pre.length).toBeGreaterThanOrEqual(2)
    const first = pre[0]!
    expect(first.label.epoch).toBeLessThan(3)
    const atFirst = await host.call('runs.preview', { id: run.id, split: 'test', indices: [3, 11], checkpoint: first.seq })
    expect(atFirst.checkpoint).toBe(first.seq)
    expect(atFirst.images.map((i) => i.index)).toEqual([3, 11])
    const final = await host.call('runs.preview', { id: run.id, split: 'test', indices: [3, 11], checkpoint: 'final' })
    expect(final.checkpoint).toBeNull()
    // The same views, other weights: other probabilities.
    expect(final.images[0]!.views[0]!.png).toBe(atFirst.images[0]!.views[0]!.png)
    expect(final.images[0]!.views[0]!.probs).not.toEqual(atFirst.images[0]!.views[0]!.probs)
    for (const v of atFirst.images.flatMap((i) => i.views)) expect(v.probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5)

    await expect(host.call('runs.preview', { id: run.id, split: 'test', indices: [20] })).rejects.toThrow(/Image #20 does not exist: this split has 20 images/)
    await expect(host.call('runs.preview', { id: run.id, checkpoint: 999 })).rejects.toThrow(/Checkpoint 999: checkpoint 999 is not on disk/)
    // The checkpoint between pretraining and evaluation holds no model.
    expect(detail.checkpoints.map((c) => c.label.stage)).toEqual(['pretrain', 'pretrain', 'pretrain', 'evaluate'])
    await expect(host.call('runs.preview', { id: run.id, checkpoint: detail.checkpoints[3]!.seq })).rejects.toThrow(
      /taken during evaluate, which has no rotation head/
    )
  }, 120_000)

  it('previews run in one long-lived worker process; a killed one fails its request with a message and the next starts afresh', async () => {
    const { host, ws } = newHost()
    const run = await host.call('runs.create', {
      config: tiny({
        pretrain: { method: { method: 'rotnet' }, epochs: 1, batchSize: 10 },
        evaluation: { linear: { enabled: false }, knn: { enabled: false } }
      }),
      preset: null
    })
    await host.runs.waitSettled(run.id)
    const children: WorkerHandle[] = []
    const launch = forkLauncher(WORKER)
    const analysis = new AnalysisWorker(() => {
      const w = launch()
      children.push(w)
      return w
    })
    try {
      const dir = { runDir: await host.runs.runDir(run.id), workspaceDir: ws }
      const a = (await analysis.call(dir, { kind: 'preview', options: { count: 2, split: 'test', seed: 1, checkpoint: 'final' } })) as { images: unknown[] }
      const b = (await analysis.call(dir, { kind: 'augment', options: { count: 1, split: 'train', seed: 1, views: 2 } })) as { images: { views: string[] }[] }
      expect(a.images).toHaveLength(2)
      expect(b.images[0]!.views).toHaveLength(2)
      expect(children).toHaveLength(1)
      const pending = analysis.call(dir, { kind: 'preview', options: { count: 16, split: 'test', seed: 2, checkpoint: 'final' } })
      children[0]!.kill('SIGKILL')
      await expect(pending).rejects.toThrow(/The preview worker stopped \(SIGKILL\) before answering; try again/)
      const c = (await analysis.call(dir, { kind: 'preview', options: { count: 1, split: 'test', seed: 3, checkpoint: 'final' } })) as { images: unknown[] }
      expect(c.images).toHaveLength(1)
      expect(children).toHaveLength(2)
      await expect(
        analysis.call(dir, { kind: 'preview', options: { indices: [99], split: 'test', count: 1, seed: 0, checkpoint: 'final' } })
      ).rejects.toMatchObject({ code: 'invalid-argument', message: expect.stringMatching(/Image #99 does not exist/) })
    } finally {
      analysis.stop()
    }
  }, 120_000)

  it('pause then resume gives the same final weights as an uninterrupted run', async () => {
    const { host, ws } = newHost()
    const a = await host.call('runs.create', { config: tiny({ evaluation: { linear: { enabled: false }, knn: { enabled: false } } }), preset: null })
    await host.runs.waitSettled(a.id)
    const b = await host.call('runs.create', { config: tiny({ evaluation: { linear: { enabled: false }, knn: { enabled: false } } }), preset: null })
    await waitFor(async () => (await host.call('runs.metrics', { id: b.id, maxPoints: 5000 })).length >= 2, 'first steps')
    await host.call('runs.pause', { id: b.id })
    const paused = await host.runs.waitSettled(b.id)
    expect(paused.status.state).toBe('paused')
    const stepsAtPause = (await host.call('runs.metrics', { id: b.id, maxPoints: 5000 })).length
    expect(stepsAtPause).toBeLessThan(12)
    await host.call('runs.resume', { id: b.id })
    expect((await host.runs.waitSettled(b.id)).status.state).toBe('done')
    const weights = (id: string): Promise<Buffer> => fs.readFile(path.join(ws, 'runs', id, 'artifacts', 'backbone-pretrain.bin'))
    expect((await weights(b.id)).equals(await weights(a.id))).toBe(true)
    const steps = (await host.call('runs.metrics', { id: b.id, maxPoints: 5000 })).map((r) => r.step)
    expect(steps).toEqual([...Array(12).keys()])
  }, 120_000)

  it('a worker killed with SIGKILL leaves the run interrupted; resume finishes without duplicated steps', async () => {
    const { host, ws } = newHost()
    const run = await host.call('runs.create', {
      config: tiny({ pretrain: { method: { method: 'rotnet' }, epochs: 4, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } } }),
      preset: null
    })
    const runDir = path.join(ws, 'runs', run.id)
    // Past the first epoch's checkpoint, mid-way through the second epoch.
    await waitFor(async () => (await readMetrics(path.join(runDir, 'metrics.jsonl'))).length >= 6, 'second epoch')
    const live = (host.runs as unknown as { runs: Map<string, { worker: { kill(s: string): void } | null }> }).runs.get(run.id)!
    live.worker!.kill('SIGKILL')
    const after = await host.runs.waitSettled(run.id)
    expect(after.status.state).toBe('interrupted')
    expect(after.status.error).toMatch(/stopped unexpectedly.*SIGKILL/)
    await host.call('runs.resume', { id: run.id })
    expect((await host.runs.waitSettled(run.id)).status.state).toBe('done')
    const steps = (await readMetrics(path.join(runDir, 'metrics.jsonl'))).filter((r) => r.stage === 'pretrain').map((r) => r.step)
    expect(steps).toEqual([...Array(16).keys()])
  }, 120_000)

  it('falls back to the previous checkpoint when the newest is damaged', async () => {
    const { host, ws } = newHost()
    const run = await host.call('runs.create', {
      config: tiny({ pretrain: { method: { method: 'rotnet' }, epochs: 4, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } } }),
      preset: null
    })
    const ckDir = path.join(ws, 'runs', run.id, 'checkpoints')
    await waitFor(async () => (await fs.readdir(ckDir).catch(() => [])).filter((n) => /^\d+$/.test(n)).length >= 2, 'two checkpoints')
    await host.call('runs.pause', { id: run.id })
    await host.runs.waitSettled(run.id)
    const seqs = (await fs.readdir(ckDir)).filter((n) => /^\d+$/.test(n)).sort()
    await fs.writeFile(path.join(ckDir, seqs.at(-1)!, 'state.bin'), 'garbage')
    await host.call('runs.resume', { id: run.id })
    expect((await host.runs.waitSettled(run.id)).status.state).toBe('done')
    const detail = await host.call('runs.get', { id: run.id })
    expect(detail.log.map((l) => l.message).join('\n')).toMatch(/Skipped a damaged checkpoint: checkpoint \d+: checksum mismatch/)
    const steps = (await host.call('runs.metrics', { id: run.id, maxPoints: 5000 })).filter((r) => r.stage === 'pretrain').map((r) => r.step)
    expect(steps).toEqual([...Array(16).keys()])
  }, 120_000)

  it('rejects an invalid config naming the field and its range, writing nothing', async () => {
    const { host, ws } = newHost()
    const r = await host.dispatch('runs.create', { config: tiny({ pretrain: { batchSize: 1 } }), preset: null })
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid-argument' } })
    if (!r.ok) expect(r.error.message).toMatch(/pretrain\.batchSize: batch size must be at least 2/)
    const unknown = await host.dispatch('runs.create', { config: {}, preset: 'no-such-preset' })
    if (!unknown.ok) expect(unknown.error.message).toMatch(/unknown preset/)
    expect((await fs.readdir(path.join(ws, 'runs'))).filter((n) => n !== 'queue.json')).toEqual([])
  })

  it('fingerprints every dataset and split a run reads, transfer datasets included, in run.json, the detail and the report', async () => {
    const { host, ws } = newHost()
    const transfer = { kind: 'sample', perClass: 3, testPerClass: 2, size: 32, seed: 9 }
    const run = await host.call('runs.create', {
      config: tiny({ pretrain: { enabled: false }, evaluation: { linear: { epochs: 1, batchSize: 16 }, knn: { k: 3 }, transfer: [transfer] } }),
      preset: null
    })
    expect((await host.runs.waitSettled(run.id)).status).toMatchObject({ state: 'done', error: null })
    const d = await host.call('runs.get', { id: run.id })
    const own = 'sample (10 classes, 32px, seed 2)'
    const other = 'sample (10 classes, 32px, seed 9)'
    expect(d.evaluations.filter((e) => e.transfer).map((e) => e.dataset)).toEqual([other, other])
    expect(d.dataFingerprints.map((f) => [f.label, f.split, f.images])).toEqual([
      [own, 'train', 40],
      [own, 'test', 20],
      [other, 'train', 30],
      [other, 'test', 20]
    ])
    for (const f of d.dataFingerprints) expect(f.sha256).toMatch(/^[0-9a-f]{64}$/)
    expect(new Set(d.dataFingerprints.map((f) => f.sha256)).size).toBe(4)
    const stored = JSON.parse(await fs.readFile(path.join(ws, 'runs', run.id, 'run.json'), 'utf8'))
    expect(stored.dataFingerprints).toEqual(d.dataFingerprints)
    const report = buildReport({
      title: 't',
      question: 'q',
      runs: [{ detail: d, metrics: [] }],
      baselineId: null,
      sections: ['configs'],
      generatedAt: 'now',
      appVersion: '0'
    })
    for (const f of d.dataFingerprints) {
      expect(report.html).toContain(`${f.label} ${f.split} (${f.images} images, sha256 ${f.sha256.slice(0, 16)}`)
      expect(report.markdown).toContain(f.sha256)
    }
  }, 120_000)
})

describe('runs on registered datasets', () => {
  it('a run naming the sample draws it first in a fresh workspace, and draws again one an older drawing made', async () => {
    const { host, ws } = newHost()
    const config = tiny({ dataset: { kind: 'dataset', id: 'sample' }, backbone: { arch: 'alexnet64', width: 0.0625 } })
    const first = await host.call('runs.create', { config, preset: null })
    await host.call('runs.cancel', { id: first.id })
    await host.runs.waitSettled(first.id)
    const d = await host.call('datasets.get', { id: 'sample' })
    expect(d).toMatchObject({ builtIn: true, status: 'ready', cacheReady: true })
    // The defaults: the same numbers as a run config's in-memory sample (200 and 50 per class, seed 1).
    expect(d.splits.map((s) => [s.name, s.count]).sort()).toEqual([
      ['test', 500],
      ['train', 2000]
    ])

    // A sample drawn before the current drawing (its record and marker say no drawing) is drawn again, with its own numbers.
    const { host: other, ws: ws2 } = newHost()
    await other.call('datasets.addSample', { perClass: 3, testPerClass: 1 })
    await other.datasets.waitForJob('sample')
    for (const f of [path.join(ws2, 'datasets', 'sample', 'dataset.json'), path.join(ws2, 'datasets', 'sample', 'source', 'sample.json')]) {
      const j = JSON.parse(await fs.readFile(f, 'utf8'))
      if (j.sample) delete j.sample.drawing
      else delete j.drawing
      await fs.writeFile(f, JSON.stringify(j))
    }
    const before = (await other.call('datasets.get', { id: 'sample' })).indexedAt
    const second = await other.call('runs.create', { config, preset: null })
    await other.call('runs.cancel', { id: second.id })
    await other.runs.waitSettled(second.id)
    const again = await other.call('datasets.get', { id: 'sample' })
    expect(again.indexedAt).not.toBe(before)
    expect(again.splits.map((s) => [s.name, s.count]).sort()).toEqual([
      ['test', 10],
      ['train', 30]
    ])
    expect(JSON.parse(await fs.readFile(path.join(ws2, 'datasets', 'sample', 'dataset.json'), 'utf8')).sample).toMatchObject({
      perClass: 3,
      testPerClass: 1,
      drawing: SAMPLE_DRAWING
    })
    expect(ws).not.toBe(ws2)
  }, 120_000)

  it('trains and evaluates on a dataset from the workspace cache, recording its fingerprint', async () => {
    const { host } = newHost()
    await host.call('datasets.addSample', { perClass: 10, seed: 5 })
    await waitFor(async () => {
      const d = await host.call('datasets.get', { id: 'sample' })
      return d.status === 'ready' && d.cacheReady && d.splits.length > 0
    }, 'sample cached')
    const ds = await host.call('datasets.get', { id: 'sample' })
    const splits = ds.splits.map((s) => s.name)
    expect(splits).toEqual(expect.arrayContaining(['train', 'test']))
    const testSplit = 'test'
    const run = await host.call('runs.create', {
      config: tiny({ dataset: { kind: 'dataset', id: 'sample', trainSplit: 'train', testSplit }, backbone: { arch: 'alexnet64', width: 0.0625 } }),
      preset: null
    })
    const end = await host.runs.waitSettled(run.id)
    expect(end.status.error).toBeNull()
    expect(end.status.state).toBe('done')
    const d = await host.call('runs.get', { id: run.id })
    expect(d.evaluations.map((e) => e.dataset)).toEqual(['sample', 'sample'])
    expect(d.dataFingerprints.map((f) => f.label)).toEqual(['sample', 'sample'])

    // Fine-tuning on a subset saved in the Datasets view: exactly its images.
    const sub = await host.call('datasets.createSubset', { id: 'sample', split: 'train', selection: { mode: 'firstN', count: 2 } })
    expect(sub.count).toBe(20)
    const ft = await host.call('runs.create', {
      config: tiny({
        dataset: { kind: 'dataset', id: 'sample', trainSplit: 'train', testSplit },
        backbone: { arch: 'alexnet64', width: 0.0625 },
        pretrain: { enabled: false },
        finetune: { enabled: true, epochs: 1, batchSize: 8, labelled: { kind: 'subset', id: sub.id } },
        evaluation: { linear: { enabled: false }, knn: { enabled: false } }
      }),
      preset: null
    })
    expect((await host.runs.waitSettled(ft.id)).status).toMatchObject({ state: 'done', error: null })
    const ftDetail = await host.call('runs.get', { id: ft.id })
    expect(ftDetail.log.map((l) => l.message)).toContain(`Fine-tuning on 20 labelled images (saved subset ${sub.id}).`)
    expect(ftDetail.evaluations.map((e) => [e.protocol, e.trainImages])).toEqual([['finetune', 20]])
    // A subset of another split, or one that does not exist, fails naming it.
    const wrong = await host.call('runs.create', {
      config: tiny({
        dataset: { kind: 'dataset', id: 'sample', trainSplit: 'train', testSplit },
        pretrain: { enabled: false },
        finetune: { enabled: true, labelled: { kind: 'subset', id: 'train-first-99' } }
      }),
      preset: null
    })
    expect((await host.runs.waitSettled(wrong.id)).status.error).toMatch(
      /subset "train-first-99" of dataset "sample" cannot be read: The dataset has no subset "train-first-99"/
    )
    await expect(
      host.call('runs.create', { config: tiny({ finetune: { enabled: true, labelled: { kind: 'subset', id: sub.id } } }), preset: null })
    ).rejects.toThrow(/finetune.labelled: a saved subset belongs to a registered dataset/)

    const bad = await host.call('runs.create', { config: tiny({ dataset: { kind: 'dataset', id: 'missing-set' } }), preset: null })
    const failed = await host.runs.waitSettled(bad.id)
    expect(failed.status.state).toBe('failed')
    expect(failed.status.error).toMatch(/dataset "missing-set".*cannot be read.*quarterturn dataset add/)
  }, 120_000)
})
