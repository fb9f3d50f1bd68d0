// Indexing into the cache: pixels, labels and order in the uint8 split files, the reader API the
// trainer uses, fingerprints, re-indexing only what changed, every planted problem reported
// (and the good images kept), cancelling, and the worker thread giving the same result.
import { afterEach, describe, expect, it } from 'vitest'
import { promises as fs, mkdirSync, symlinkSync, utimesSync, writeFileSync, readdirSync, copyFileSync } from 'node:fs'
import path from 'node:path'
import { runIndex, NoUsableImagesError, type IndexJob } from '../../../src-host/datasets/indexer'
import { startIndexJob, JobFailed } from '../../../src-host/datasets/jobs'
import { IndexOptionsSchema, type IndexOptionsInput } from '../../../src-shared/contract/datasets'
import { CacheSplitFile, openCacheSplit, readCacheIndex, selectImages } from '../../../src-node/dataset-folder'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { imageFolderRgb, makeCifar, makeImageFolder } from '../../helpers/datasets'
import { blockyRgb, jpegRgb, pngRgb } from '../../helpers/images'

afterEach(cleanupTmp)

const noHooks = { progress: () => {}, isCancelled: () => false }
function job(source: string, datasetDir: string, options: IndexOptionsInput = {}): IndexJob {
  return { mode: 'index', source, datasetDir, options: IndexOptionsSchema.parse(options) }
}

describe('dataset cache', () => {
  it('stores each split as uint8 [N, S, S, 3] in sorted order, read back as an ImageSet', async () => {
    const src = tmpDir()
    const ds = tmpDir()
    makeImageFolder(src, { cat: 4, dog: 4 }, { splitDir: 'train' })
    makeImageFolder(src, { cat: 1, dog: 2 }, { splitDir: 'test' })
    const o = await runIndex(job(src, ds), noHooks)
    expect(o.workingSize).toBe(32)
    expect(o.workingSizeReason).toMatch(/every sampled image is 32x32/)
    expect(o.usable).toBe(11)
    const train = await openCacheSplit(ds, 'train')
    expect([train.n, train.size, train.images.length]).toEqual([8, 32, 8 * 32 * 32 * 3])
    expect(train.classNames).toEqual(['cat', 'dog'])
    expect([...train.labels]).toEqual([0, 0, 0, 0, 1, 1, 1, 1])
    expect(train.paths[0]).toBe('train/cat/cat_000.png')
    // PNG at the native size: the cache holds the exact pixels (class 1, image 2 of makeImageFolder).
    expect(Buffer.from(train.images.subarray(6 * 3072, 7 * 3072)).equals(Buffer.from(imageFolderRgb(1, 2, 32, 'train')))).toBe(true)
    // readBatch slices without decoding; the file reader gives the same bytes.
    const batch = train.readBatch([6, 1])
    expect(Buffer.from(batch.subarray(0, 3072)).equals(Buffer.from(train.images.subarray(6 * 3072, 7 * 3072)))).toBe(true)
    const file = await CacheSplitFile.open(ds, 'train')
    expect(Buffer.from(await file.readBatch([6, 1])).equals(Buffer.from(batch))).toBe(true)
    expect(Buffer.from(await file.readBatch([2, 3, 4])).equals(Buffer.from(train.readBatch([2, 3, 4])))).toBe(true)
    await expect(file.readBatch([8])).rejects.toThrow(/outside 0..7/)
    await file.close()
    expect(() => train.readBatch([-1])).toThrow(RangeError)
    const sub = selectImages(train, [5, 0])
    expect([sub.n, ...sub.labels]).toEqual([2, 1, 0])
    const test = await openCacheSplit(ds, 'test')
    expect([...test.labels]).toEqual([0, 1, 1])
    await expect(openCacheSplit(ds, 'val')).rejects.toThrow(/no "val" split \(it has: train, test\)/)
  })

  it('resizes to a chosen working size and records the original sizes', async () => {
    const src = tmpDir()
    const ds = tmpDir()
    mkdirSync(path.join(src, 'a'))
    mkdirSync(path.join(src, 'b'))
    writeFileSync(path.join(src, 'a', 'wide.jpg'), jpegRgb(blockyRgb(96, 48, 1), 96, 48))
    writeFileSync(path.join(src, 'b', 'tall.png'), pngRgb(blockyRgb(40, 80, 2), 40, 80))
    const o = await runIndex(job(src, ds, { workingSize: 24, split: { valFraction: 0, testFraction: 0 } }), noHooks)
    expect(o.workingSize).toBe(24)
    const idx = await readCacheIndex(ds)
    expect(idx.size).toBe(24)
    expect(idx.splits.train!.widths).toEqual([96, 40])
    expect(idx.splits.train!.heights).toEqual([48, 80])
    expect(o.sizeStats).toMatchObject({ minWidth: 40, maxWidth: 96, minHeight: 48, maxHeight: 80 })
    expect((await openCacheSplit(ds, 'train')).images.length).toBe(2 * 24 * 24 * 3)
  })

  it('CIFAR-10 records are cached at 32x32 without decoding, label from the record', async () => {
    const src = tmpDir()
    const ds = tmpDir()
    const recs = makeCifar(src, { perBatch: 2, test: 3 })
    await runIndex(job(src, ds), noHooks)
    const test = await openCacheSplit(ds, 'test')
    expect([...test.labels]).toEqual(recs.get('test_batch.bin')!.map((r) => r.label))
    expect(Buffer.from(test.images.subarray(3072, 6144)).equals(Buffer.from(recs.get('test_batch.bin')![1]!.rgb))).toBe(true)
    expect(test.paths[2]).toBe('cifar-10-batches-bin/test_batch.bin#2')
    const train = await openCacheSplit(ds, 'train')
    expect(train.n).toBe(10)
    expect(Buffer.from(train.images.subarray(0, 3072)).equals(Buffer.from(recs.get('data_batch_1.bin')![0]!.rgb))).toBe(true)
  })

  it('fingerprints the data; re-indexing reuses unchanged images and redoes only what changed', async () => {
    const src = tmpDir()
    const ds = tmpDir()
    makeImageFolder(src, { cat: 5, dog: 5 }, { format: 'jpg' })
    const first = await runIndex(job(src, ds), noHooks)
    expect(first.decoded).toBe(10)
    expect(first.fingerprint!.files).toBe(10)
    const again = await runIndex(job(src, ds), noHooks)
    expect([again.decoded, again.reused]).toEqual([0, 10])
    expect(again.fingerprint).toEqual(first.fingerprint)
    // Only one cache generation is left on disk.
    const files = readdirSync(path.join(ds, 'cache')).sort()
    expect(files).toHaveLength(4)
    expect(files.slice(1).map((f) => f.replace(/-[0-9a-f]+\.u8$/, ''))).toEqual(['test', 'train', 'val'])

    // Touching a file (same bytes, new mtime) reuses the pixels by content hash; new content is decoded.
    const touched = path.join(src, 'cat', 'cat_001.jpg')
    utimesSync(touched, new Date(), new Date(Date.now() + 5000))
    const changed = path.join(src, 'dog', 'dog_002.jpg')
    writeFileSync(changed, jpegRgb(blockyRgb(32, 32, 4242), 32, 32))
    utimesSync(changed, new Date(), new Date(Date.now() + 5000))
    const third = await runIndex(job(src, ds), noHooks)
    expect([third.decoded, third.reused]).toEqual([1, 9])
    expect(third.fingerprint!.listSha256).not.toBe(first.fingerprint!.listSha256)
    expect(third.fingerprint!.cacheSha256).not.toBe(first.fingerprint!.cacheSha256)
    expect(third.fingerprint!.id).not.toBe(first.fingerprint!.id)

    // Another working size cannot reuse anything.
    const resized = await runIndex(job(src, ds, { workingSize: 16 }), noHooks)
    expect([resized.decoded, resized.reused]).toEqual([10, 0])
  })

  it('collects every kind of problem, keeps the good images, and counts them', async () => {
    const src = tmpDir()
    const ds = tmpDir()
    makeImageFolder(src, { cat: 4, dog: 4 }, { splitDir: 'train' })
    makeImageFolder(src, { cat: 2, dog: 2 }, { splitDir: 'val' })
    const cat = path.join(src, 'train', 'cat')
    const good = pngRgb(blockyRgb(32, 32, 31337), 32, 32)
    const jpg = jpegRgb(blockyRgb(32, 32, 99), 32, 32)
    writeFileSync(path.join(cat, 'truncated.jpg'), jpg.subarray(0, jpg.length >> 1))
    writeFileSync(path.join(cat, 'empty.png'), '')
    writeFileSync(path.join(cat, 'fake.jpg'), 'this is not a picture')
    writeFileSync(path.join(cat, 'notes.txt'), 'labels were checked by hand')
    const corrupt = Buffer.from(good)
    corrupt.fill(0x5a, 41, corrupt.length - 12) // IHDR intact, IDAT garbage
    writeFileSync(path.join(cat, 'corrupt.png'), corrupt)
    writeFileSync(path.join(cat, 'tiny.png'), pngRgb(blockyRgb(8, 8, 3), 8, 8))
    copyFileSync(path.join(cat, 'cat_000.png'), path.join(cat, 'copy_of_0.png'))
    copyFileSync(path.join(src, 'train', 'dog', 'dog_001.png'), path.join(src, 'val', 'dog', 'leak.png'))
    symlinkSync(path.join(src, 'nowhere.png'), path.join(cat, 'gone.png'))
    symlinkSync('self.png', path.join(cat, 'self.png'))
    symlinkSync('..', path.join(cat, 'up'))
    mkdirSync(path.join(src, 'train', 'owl'))
    writeFileSync(path.join(src, 'train', 'owl', 'readme.md'), 'no owls yet')
    const unreadable = path.join(cat, 'locked.png')
    writeFileSync(unreadable, good)
    await fs.chmod(unreadable, 0)
    const asRoot = process.getuid?.() === 0

    const o = await runIndex(job(src, ds), noHooks)
    const byPath = new Map(o.problems.map((p) => [p.path, p]))
    const expectProblem = (rel: string, kind: string, reason: RegExp, skipped = true): void => {
      expect(byPath.get(rel), rel).toMatchObject({ kind, skipped })
      expect(byPath.get(rel)!.reason, rel).toMatch(reason)
    }
    expectProblem('train/cat/truncated.jpg', 'truncated', /end-of-image marker/)
    expectProblem('train/cat/empty.png', 'empty-file', /0 bytes/)
    expectProblem('train/cat/fake.jpg', 'not-an-image', /starts with the text/)
    expectProblem('train/cat/notes.txt', 'not-an-image', /extension ".txt"/)
    expect(['corrupt', 'truncated']).toContain(byPath.get('train/cat/corrupt.png')!.kind)
    expectProblem('train/cat/tiny.png', 'too-small', /8x8 is below the minimum side of 16/)
    expectProblem('train/cat/copy_of_0.png', 'duplicate', /same content as train\/cat\/cat_000.png: left out/)
    expectProblem('val/dog/leak.png', 'duplicate', /in the train split: kept in both/, false)
    expectProblem('train/cat/gone.png', 'unreadable', /broken symbolic link/)
    expectProblem('train/cat/self.png', 'symlink-loop', /loop/)
    expectProblem('train/cat/up', 'symlink-loop', /contains it/)
    expectProblem('train/owl/readme.md', 'not-an-image', /extension ".md"/)
    expectProblem('owl', 'empty-class', /"owl" has no usable images/, false)
    if (!asRoot) expectProblem('train/cat/locked.png', 'unreadable', /permission denied/)

    // The dataset opens with the good images: 4 + 1 (locked, readable by root) cats...
    const train = await openCacheSplit(ds, 'train')
    expect(train.classNames).toEqual(['cat', 'dog', 'owl'])
    expect(train.paths.filter((p) => p.startsWith('train/cat/'))).toEqual(
      [...(asRoot ? ['train/cat/locked.png'] : []), 'train/cat/cat_000.png', 'train/cat/cat_001.png', 'train/cat/cat_002.png', 'train/cat/cat_003.png'].sort()
    )
    expect(o.classes.map((c) => c.counts)).toEqual([{ train: asRoot ? 5 : 4, val: 2 }, { train: 4, val: 3 }, {}])
    expect(o.problemCounts).toMatchObject({
      truncated: 1,
      'empty-file': 1,
      'not-an-image': 3,
      'too-small': 1,
      duplicate: 2,
      'symlink-loop': 2,
      'empty-class': 1
    })
    expect(o.skipped).toBe(o.problems.filter((p) => p.skipped).length)
  })

  it('a failed re-index keeps the previous cache in force and leaves no stray files', async () => {
    const src = tmpDir()
    const ds = tmpDir()
    makeImageFolder(src, { a: 3, b: 3 })
    const first = await runIndex(job(src, ds), noHooks)
    const before = readdirSync(path.join(ds, 'cache')).sort()
    for (const d of ['a', 'b']) for (const f of readdirSync(path.join(src, d))) writeFileSync(path.join(src, d, f), 'broken')
    const err = await runIndex(job(src, ds), noHooks).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NoUsableImagesError)
    expect((err as Error).message).toMatch(/No usable images in .*6 not-an-image/)
    expect(readdirSync(path.join(ds, 'cache')).sort()).toEqual(before)
    expect((await openCacheSplit(ds, 'train')).n).toBe(first.splits.find((s) => s.name === 'train')!.count)
    await fs.rm(src, { recursive: true })
    await expect(runIndex(job(src, ds), noHooks)).rejects.toThrow(/does not exist: it was moved, renamed or deleted/)
  })
})

describe('indexing worker', () => {
  it('runs in a worker thread with progress, and gives the in-process result', async () => {
    const src = tmpDir()
    makeImageFolder(src, { a: 6, b: 6 }, { format: 'jpg' })
    const seen: string[] = []
    const w = startIndexJob(job(src, tmpDir()), (p) => seen.push(p.phase))
    expect(w.runner).toBe('worker')
    const viaWorker = await w.promise
    const inProc = startIndexJob(job(src, tmpDir()), () => {}, { inProcess: true })
    expect(inProc.runner).toBe('in-process')
    const direct = await inProc.promise
    expect(viaWorker.fingerprint).toEqual(direct.fingerprint)
    expect(seen[0]).toBe('scanning')
    expect(seen).toContain('decoding')
    expect(seen.at(-1)).toBe('finishing')
  })

  it('cancels mid-way, keeping the previous cache', async () => {
    const src = tmpDir()
    const ds = tmpDir()
    makeImageFolder(src, { a: 3, b: 3 })
    await runIndex(job(src, ds), noHooks)
    const before = readdirSync(path.join(ds, 'cache')).sort()
    makeImageFolder(src, { c: 60 }, { format: 'jpg' })
    let handle: ReturnType<typeof startIndexJob> | null = null
    handle = startIndexJob({ ...job(src, ds), concurrency: 1 }, (p) => {
      if (p.phase === 'decoding') handle?.cancel()
    })
    const err = await handle.promise.catch((e: unknown) => e)
    expect(err).toBeInstanceOf(JobFailed)
    expect((err as JobFailed).failure.kind).toBe('cancelled')
    expect(readdirSync(path.join(ds, 'cache')).sort()).toEqual(before)
    expect((await openCacheSplit(ds, 'train')).paths.some((p) => p.startsWith('c/'))).toBe(false)
  })
})
