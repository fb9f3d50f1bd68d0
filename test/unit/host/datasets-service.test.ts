// The dataset service through the contract (Host.dispatch / call, as the renderer and the web
// host use it) and the `quarterturn dataset` commands: the sample, add with progress events,
// browsing from the cache, subsets, re-index, remove, and datasets whose folder goes away.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { existsSync, promises as fs, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Transformer } from '@napi-rs/image'
import { Host } from '../../../src-host/host'
import { createSettingsStore, APP_VERSION } from '../../../src-host/headless'
import { main } from '../../../src-host/cli'
import { generateSampleDataset, SAMPLE_CLASSES } from '../../../src-shared/sample-dataset'
import { openCacheSplit, readSubsetIndices } from '../../../src-node/dataset-folder'
import { loadSplits } from '../../../src-engine/data/sources'
import type { EventName } from '../../../src-shared/contract'
import { events as eventSchemas } from '../../../src-shared/contract'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { makeImageFolder } from '../../helpers/datasets'
import { blockyRgb, pngRgb } from '../../helpers/images'

afterEach(() => {
  cleanupTmp()
  vi.unstubAllEnvs()
})

function newHost(opts: { indexInProcess?: boolean } = {}) {
  const ws = path.join(tmpDir(), 'ws')
  const host = new Host({ store: createSettingsStore(tmpDir()), shell: 'web', version: APP_VERSION, defaultWorkspace: ws, logError: () => {}, ...opts })
  const seen: { name: EventName; payload: unknown }[] = []
  host.onEvent((name, payload) => {
    // Every pushed event satisfies its contract schema.
    eventSchemas[name].parse(payload)
    seen.push({ name, payload })
  })
  return { host, ws, seen }
}

/** Width of a PNG data URL. */
function pngWidth(dataUrl: string): number {
  return new Transformer(Buffer.from(dataUrl.split(',')[1]!, 'base64')).metadataSync().width
}

describe('datasets through the contract', () => {
  it("the sample: drawn as PNG split and class folders, cached exactly as a run config's in-memory sample draws it, browsable", async () => {
    const { host, ws, seen } = newHost()
    const started = await host.call('datasets.addSample', { perClass: 4, testPerClass: 2 })
    expect(started).toMatchObject({ id: 'sample', builtIn: true, status: 'indexing' })
    const { summary } = await host.datasets.waitForJob('sample')
    expect(summary).toMatchObject({
      status: 'ready',
      layout: 'imagefolder-splits',
      images: 60,
      classes: 10,
      workingSize: 64,
      cacheReady: true,
      sourceAvailable: true
    })
    expect(summary.source).toBe(path.join(ws, 'datasets', 'sample', 'source'))
    expect(
      readdirSync(summary.source)
        .filter((f) => !f.endsWith('.json'))
        .sort()
    ).toEqual(['test', 'train'])
    expect(readdirSync(path.join(summary.source, 'train')).sort()).toEqual([...SAMPLE_CLASSES].sort())
    expect(summary.splits.map((s) => [s.name, s.count])).toEqual([
      ['train', 40],
      ['test', 20]
    ])

    // One sample: the registered splits are, image for image, what `dataset: { kind: 'sample' }` draws in memory with the same numbers.
    const inMemory = await loadSplits({ kind: 'sample', perClass: 4, testPerClass: 2, size: 64, seed: 1 })
    const px = 64 * 64 * 3
    let compared = 0
    for (const split of ['train', 'test'] as const) {
      const ref = inMemory[split]
      const set = await openCacheSplit(path.join(ws, 'datasets', 'sample'), split)
      expect(set.n).toBe(ref.n)
      set.paths.forEach((p, k) => {
        const [cls, num] = path.basename(p, '.png').split('-') as [string, string]
        const i = Number(num) * 10 + SAMPLE_CLASSES.indexOf(cls as never)
        expect(set.classNames[set.labels[k]!]).toBe(cls)
        expect(Buffer.from(set.images.subarray(k * px, (k + 1) * px)).equals(Buffer.from(ref.images.subarray(i * px, (i + 1) * px)))).toBe(true)
        compared++
      })
    }
    expect(compared).toBe(60)
    expect(generateSampleDataset({ perClass: 4, seed: 1 }).images).toEqual(inMemory.train.images)
    // Progress events carried the dataset id, and the end was announced.
    const progress = seen.filter((e) => e.name === 'datasets.progress').map((e) => e.payload as { datasetId: string; phase: string })
    expect(progress.every((p) => p.datasetId === 'sample')).toBe(true)
    expect(progress.at(-1)!.phase).toBe('done')
    expect(seen.filter((e) => e.name === 'datasets.changed').map((e) => (e.payload as { dataset: { status: string } }).dataset.status)).toEqual([
      'indexing',
      'ready'
    ])
    // Asking again with the same parameters is instant: the registered sample is returned.
    expect((await host.call('datasets.addSample', { perClass: 4, testPerClass: 2 })).status).toBe('ready')

    const list = await host.call('datasets.list', {})
    expect(list.map((d) => d.id)).toEqual(['sample'])
    const detail = await host.call('datasets.get', { id: 'sample' })
    expect(detail.classList.map((c) => c.name)).toEqual([...SAMPLE_CLASSES].sort()) // ImageFolder order
    expect(detail.classList.reduce((a, c) => a + (c.counts.train ?? 0) + (c.counts.val ?? 0) + (c.counts.test ?? 0), 0)).toBe(60)
    expect(detail.evidence.join(' ')).toMatch(/split folders test\/, train\/ with class folders inside/)
    expect(detail.resizePolicy).toMatch(/working size 64.*centre 64x64 crop/)
    expect(detail.cacheBytes).toBe(60 * px)

    const page = await host.call('datasets.thumbnails', { id: 'sample', split: 'train', classIndex: 2, limit: 2, size: 32 })
    expect(page.total).toBe(detail.classList[2]!.counts.train)
    expect(page.items).toHaveLength(2)
    for (const t of page.items) {
      expect(t).toMatchObject({ label: 2, className: 'goblet' })
      expect(pngWidth(t.dataUrl)).toBe(32)
    }
    // What a run's worker reads: the split as an ImageSet.
    const set = await host.datasets.readSplit('sample', 'train')
    expect([set.n, set.size, set.classNames.length]).toEqual([detail.classList.reduce((a, c) => a + (c.counts.train ?? 0), 0), 64, 10])
    await expect(host.datasets.readSplit('sample', 'holdout')).rejects.toThrow(/no "holdout" split/)
    const img = await host.call('datasets.image', { id: 'sample', split: 'train', index: page.items[1]!.index })
    expect(img).toMatchObject({ size: 64, originalWidth: 64, originalHeight: 64, path: page.items[1]!.path })
    expect(pngWidth(img.dataUrl)).toBe(64)
    await host.shutdown()
  })

  it('adds a folder with progress, lists its problems, makes reusable subsets, re-indexes and removes', async () => {
    const { host, ws, seen } = newHost({ indexInProcess: true })
    const src = tmpDir()
    makeImageFolder(src, { cat: 10, dog: 10 })
    writeFileSync(path.join(src, 'cat', 'broken.png'), 'nope')
    writeFileSync(path.join(src, 'dog', 'small.png'), pngRgb(blockyRgb(8, 8, 1), 8, 8))
    const started = await host.call('datasets.add', { path: src, name: 'Pets', options: { split: { seed: 2, valFraction: 0.2, testFraction: 0.2 } } })
    expect(started).toMatchObject({
      name: 'Pets',
      status: 'indexing',
      id: path
        .basename(src)
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
    })
    const id = started.id
    const { summary } = await host.datasets.waitForJob(id)
    expect(summary).toMatchObject({ status: 'ready', images: 20, classes: 2, problems: 2, workingSize: 32 })
    expect(summary.splits.map((s) => [s.name, s.count])).toEqual([
      ['train', 12],
      ['val', 4],
      ['test', 4]
    ])
    expect(seen.some((e) => e.name === 'datasets.progress' && (e.payload as { phase: string }).phase === 'decoding')).toBe(true)
    expect((await host.call('settings.get', {})).recentFolders[0]).toBe(src)

    const probs = await host.call('datasets.problems', { id, limit: 1 })
    expect(probs.total).toBe(2)
    expect(probs.items).toHaveLength(1)
    expect(await host.call('datasets.problems', { id, kind: 'too-small' })).toMatchObject({ total: 1, items: [{ path: 'dog/small.png', kind: 'too-small' }] })

    // Subsets: the reference's "first N per class", a seeded per-class draw, a fraction; reused by id.
    const first = await host.call('datasets.createSubset', { id, selection: { mode: 'firstN', count: 3 } })
    expect(first).toMatchObject({ id: 'train-first-3', count: 6, perClass: [3, 3], split: 'train' })
    const again = await host.call('datasets.createSubset', { id, selection: { mode: 'firstN', count: 3 }, name: 'other name' })
    expect(again).toEqual(first)
    const per = await host.call('datasets.createSubset', { id, selection: { mode: 'perClass', count: 2, seed: 5 } })
    const frac = await host.call('datasets.createSubset', { id, split: 'val', selection: { mode: 'fraction', fraction: 0.5 } })
    expect([per.count, frac.count, frac.split]).toEqual([4, 2, 'val'])
    expect((await host.call('datasets.listSubsets', { id })).map((s) => s.id)).toEqual(['train-first-3', 'train-per-class-2-seed5', 'val-fraction-0.5-seed0'])
    const dsDir = path.join(ws, 'datasets', id)
    const { indices } = await readSubsetIndices(dsDir, 'train-first-3')
    const train = await openCacheSplit(dsDir, 'train')
    const chosen = [...indices].map((i) => train.paths[i]!)
    for (const cls of ['cat', 'dog']) {
      const all = train.paths.filter((p) => p.startsWith(cls + '/')).sort()
      expect(chosen.filter((p) => p.startsWith(cls + '/'))).toEqual(all.slice(0, 3))
    }

    // Re-index after a new image: only it is decoded; the subset still resolves by path.
    writeFileSync(path.join(src, 'dog', 'new.png'), pngRgb(blockyRgb(32, 32, 777), 32, 32))
    await host.call('datasets.reindex', { id })
    const re = await host.datasets.waitForJob(id)
    expect(re.summary.images).toBe(21)
    expect(re.summary.fingerprint!.id).not.toBe(summary.fingerprint!.id)
    const rec = JSON.parse(await fs.readFile(path.join(dsDir, 'dataset.json'), 'utf8'))
    expect(rec.lastJob).toMatchObject({ decoded: 1, reused: 20, runner: 'in-process' })
    const after = await readSubsetIndices(dsDir, 'train-first-3')
    expect(after.missing).toEqual([])
    const train2 = await openCacheSplit(dsDir, 'train')
    expect([...after.indices].map((i) => train2.paths[i]).sort()).toEqual(chosen.sort())

    // Remove: the workspace copy goes, the user's folder stays.
    expect(await host.call('datasets.remove', { id })).toEqual({ removed: true })
    expect(existsSync(dsDir)).toBe(false)
    expect(existsSync(path.join(src, 'cat', 'cat_000.png'))).toBe(true)
    expect(await host.call('datasets.list', {})).toEqual([])
    expect(seen.filter((e) => e.name === 'datasets.changed').at(-1)!.payload).toEqual({ id, dataset: null })
    await host.shutdown()
  })

  it('never reads outside a registered dataset: unknown ids, bad ids and out-of-range images are refused', async () => {
    const { host } = newHost({ indexInProcess: true })
    for (const [name, arg] of [
      ['datasets.thumbnails', { id: 'not-registered', split: 'train' }],
      ['datasets.image', { id: 'not-registered', split: 'train', index: 0 }],
      ['datasets.get', { id: 'not-registered' }],
      ['datasets.remove', { id: 'not-registered' }]
    ] as const) {
      const r = await host.dispatch(name, arg)
      expect(r).toMatchObject({ ok: false, error: { code: 'invalid-argument', message: expect.stringMatching(/No dataset "not-registered" is registered/) } })
    }
    for (const id of ['../../../etc', 'a/b', '..', 'UPPER']) {
      expect(await host.dispatch('datasets.thumbnails', { id, split: 'train' })).toMatchObject({ ok: false, error: { code: 'invalid-argument' } })
    }
    await host.call('datasets.addSample', { perClass: 2 })
    await host.datasets.waitForJob('sample')
    expect(await host.dispatch('datasets.image', { id: 'sample', split: 'train', index: 999 })).toMatchObject({
      ok: false,
      error: { code: 'invalid-argument', message: expect.stringMatching(/no image 999/) }
    })
    expect(await host.dispatch('datasets.thumbnails', { id: 'sample', split: 'unlabelled' })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/no "unlabelled" split/) }
    })
    // Paths: relative, missing, a file, the workspace's own caches.
    expect(await host.dispatch('datasets.add', { path: 'data/x' })).toMatchObject({ ok: false, error: { code: 'invalid-argument' } })
    const missing = path.join(tmpDir(), 'gone')
    expect(await host.dispatch('datasets.add', { path: missing })).toMatchObject({
      ok: false,
      error: { message: expect.stringContaining(`${missing} does not exist`) }
    })
    const file = path.join(tmpDir(), 'f.png')
    writeFileSync(file, 'x')
    expect(await host.dispatch('datasets.inspect', { path: file })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/is a file, not a folder/) }
    })
    const ws = (await host.call('workspace.get', {})).path
    expect(await host.dispatch('datasets.add', { path: path.join(ws, 'datasets', 'sample', 'source') })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/inside the workspace's datasets folder/) }
    })
    await host.shutdown()
  })

  it('inspect writes nothing, in the folder or the workspace', async () => {
    const { host, ws } = newHost()
    const src = tmpDir()
    makeImageFolder(src, { a: 3, b: 3 })
    const before = JSON.stringify(readdirSync(src, { recursive: true }).sort())
    const r = await host.call('datasets.inspect', { path: src, jobId: 'ui-7' })
    expect(r).toMatchObject({ layout: 'imagefolder', usableImages: 6, suggestedWorkingSize: 32 })
    expect(JSON.stringify(readdirSync(src, { recursive: true }).sort())).toBe(before)
    expect(existsSync(ws)).toBe(false)
    await host.shutdown()
  })

  it('a dataset whose folder disappears: listed with a clear message, browsing from the cache still works, re-index says why not', async () => {
    const { host } = newHost({ indexInProcess: true })
    const src = path.join(tmpDir(), 'photos')
    makeImageFolder(src, { a: 3, b: 3 })
    const { id } = await host.call('datasets.add', { path: src })
    await host.datasets.waitForJob(id)
    await fs.rm(src, { recursive: true })
    const [d] = await host.call('datasets.list', {})
    expect(d).toMatchObject({ id, status: 'ready', sourceAvailable: false, cacheReady: true })
    expect(d!.statusMessage).toMatch(new RegExp(`${src} is missing or unreadable.*can still be browsed`))
    expect((await host.call('datasets.thumbnails', { id, split: 'train' })).items.length).toBeGreaterThan(0)
    const r = await host.dispatch('datasets.reindex', { id })
    expect(r).toMatchObject({
      ok: false,
      error: { code: 'failed', message: expect.stringMatching(/Cannot re-index "photos": The folder .* does not exist.*cached images stay usable/) }
    })
    // The cache itself deleted by hand: a clear error, and the app keeps answering.
    const ws = (await host.call('workspace.get', {})).path
    await fs.rm(path.join(ws, 'datasets', id, 'cache'), { recursive: true })
    expect(await host.dispatch('datasets.thumbnails', { id, split: 'train' })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/has no cache yet/) }
    })
    expect((await host.call('datasets.get', { id })).cacheReady).toBe(false)
    // A damaged record is listed as failed, not hidden, and does not break the list.
    writeFileSync(path.join(ws, 'datasets', id, 'dataset.json'), '{ not json')
    const list = await host.call('datasets.list', {})
    expect(list).toMatchObject([{ id, status: 'failed', statusMessage: expect.stringMatching(/damaged/) }])
    expect((await host.call('app.info', {})).name).toBe('Quarterturn')
    await host.shutdown()
  })

  it('a folder with no usable images fails with the reason, keeping the app usable', async () => {
    const { host } = newHost({ indexInProcess: true })
    const src = tmpDir()
    makeImageFolder(src, { a: 2, b: 2 })
    for (const c of ['a', 'b']) for (const f of readdirSync(path.join(src, c))) writeFileSync(path.join(src, c, f), '')
    const { id } = await host.call('datasets.add', { path: src })
    const r = await host.datasets.waitForJob(id)
    expect(r.failureKind).toBe('no-usable-images')
    expect(r.summary).toMatchObject({ status: 'failed', cacheReady: false, statusMessage: expect.stringMatching(/No usable images .*4 empty-file/) })
    await host.shutdown()
  })
})

describe('quarterturn dataset', () => {
  // The worker path is covered above and in datasets-index; here it would only add start-up time.
  beforeEach(() => vi.stubEnv('QUARTERTURN_INDEX_IN_PROCESS', '1'))
  async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
    const out: string[] = []
    const err: string[] = []
    const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
    return { code, out: out.join('\n'), err: err.join('\n') }
  }

  it('inspect prints layout, classes, sizes and problems without writing; exit 3 when nothing is usable, 2 for a bad argument', async () => {
    const src = tmpDir()
    makeImageFolder(src, { cat: 3, dog: 2 })
    writeFileSync(path.join(src, 'dog', 'junk.jpg'), 'not an image')
    const ws = path.join(tmpDir(), 'ws')
    vi.stubEnv('QUARTERTURN_WORKSPACE', ws)
    const r = await run(['dataset', 'inspect', src, '--config-dir', tmpDir()])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/Layout: imagefolder/)
    expect(r.out).toMatch(/cat .*train \d+/)
    expect(r.out).toMatch(/5 usable images of 6 files; sizes 32–32 x 32–32/)
    expect(r.out).toMatch(/not-an-image\s+dog\/junk.jpg: not a JPEG/)
    expect(existsSync(ws)).toBe(false)
    const j = JSON.parse((await run(['dataset', 'inspect', src, '--json', '--config-dir', tmpDir()])).out)
    expect(j).toMatchObject({ layout: 'imagefolder', usableImages: 5, problemCounts: { 'not-an-image': 1 } })

    const empty = tmpDir()
    writeFileSync(path.join(empty, 'readme.txt'), 'hi')
    expect(await run(['dataset', 'inspect', empty, '--config-dir', tmpDir()])).toMatchObject({ code: 3, err: expect.stringMatching(/No dataset recognised/) })
    expect(await run(['dataset', 'inspect', path.join(empty, 'nope'), '--config-dir', tmpDir()])).toMatchObject({
      code: 2,
      err: expect.stringMatching(/does not exist/)
    })
    expect(await run(['dataset', 'inspect', src, '--size', 'big'])).toMatchObject({ code: 2, err: expect.stringMatching(/--size must be a whole number/) })
    expect(await run(['dataset', 'frob'])).toMatchObject({ code: 2 })
    expect(await run(['dataset', 'inspect'])).toMatchObject({ code: 2 })
  })

  it('add caches a folder with progress and a summary; list shows it; --help documents the exit codes', async () => {
    const src = tmpDir()
    makeImageFolder(src, { a: 4, b: 4 })
    const ws = path.join(tmpDir(), 'ws')
    vi.stubEnv('QUARTERTURN_WORKSPACE', ws)
    const cfg = tmpDir()
    const r = await run(['dataset', 'add', src, '--id', 'pets', '--size', '16', '--config-dir', cfg])
    expect(r.code).toBe(0)
    expect(r.out).toMatch(/Added ".*" as pets: imagefolder, 8 images in 2 classes at 16x16/)
    expect(r.out).toMatch(/Fingerprint: [0-9a-f]{16}/)
    expect(existsSync(path.join(ws, 'datasets', 'pets', 'cache', 'index.json'))).toBe(true)
    const l = await run(['dataset', 'list', '--config-dir', cfg])
    expect(l.out).toMatch(/^pets .*\[ready\].*imagefolder.*8 images.*16px/m)
    expect(JSON.parse((await run(['dataset', 'list', '--json', '--config-dir', cfg])).out)[0].id).toBe('pets')

    const bad = tmpDir()
    makeImageFolder(bad, { a: 1, b: 1 })
    for (const c of ['a', 'b']) for (const f of readdirSync(path.join(bad, c))) writeFileSync(path.join(bad, c, f), 'x')
    expect(await run(['dataset', 'add', bad, '--config-dir', cfg])).toMatchObject({ code: 3, err: expect.stringMatching(/No usable images/) })

    const help = await run(['--help'])
    expect(help.out).toMatch(/dataset inspect <folder>/)
    expect(help.out).toMatch(/3 no usable images/)
  })
})
