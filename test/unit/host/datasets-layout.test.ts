// Layout detection and splits on small datasets written in each real on-disk format: the
// detected layout and its evidence, class names, labels, counts per split, seeded splits.
import { afterEach, describe, expect, it } from 'vitest'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { runIndex, NoUsableImagesError, type IndexJob } from '../../../src-host/datasets/indexer'
import { IndexOptionsSchema, type IndexOptionsInput } from '../../../src-shared/contract/datasets'
import { selectSubset } from '../../../src-host/datasets/splits'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { CIFAR_NAMES, makeCifar, makeImageFolder, makeMiniPlaces, makeTinyImageNet } from '../../helpers/datasets'
import { pngRgb, blockyRgb } from '../../helpers/images'

afterEach(cleanupTmp)

const noHooks = { progress: () => {}, isCancelled: () => false }
function inspect(source: string, options: IndexOptionsInput = {}) {
  const job: IndexJob = { mode: 'inspect', source, datasetDir: null, options: IndexOptionsSchema.parse(options) }
  return runIndex(job, noHooks)
}
const countOf = (r: Awaited<ReturnType<typeof inspect>>, split: string): number => r.splits.find((s) => s.name === split)?.count ?? 0

describe('layout detection', () => {
  it('Tiny-ImageNet: wnids, words, train/<wnid>/images, annotated val, unlabelled test, 80/20 train/test per class', async () => {
    const root = path.join(tmpDir(), 'tiny-imagenet-200')
    const wnids = ['n02', 'n01', 'n03']
    makeTinyImageNet(root, { wnids, train: 10, val: 2, test: 3, size: 64 })
    const r = await inspect(root)
    expect(r.layout).toBe('tiny-imagenet')
    expect(r.evidence.join('\n')).toMatch(/wnids.txt lists 3 WordNet ids/)
    expect(r.evidence.join('\n')).toMatch(/val_annotations.txt labels 6 images/)
    // Sorted wnid order (ImageFolder's), names from words.txt (first synonym).
    expect(r.classes.map((c) => c.id)).toEqual(['n01', 'n02', 'n03'])
    expect(r.classes.map((c) => c.name)).toEqual(['thing1', 'thing0', 'thing2'])
    expect(r.classes.map((c) => c.counts)).toEqual([
      { train: 8, val: 2, test: 2 },
      { train: 8, val: 2, test: 2 },
      { train: 8, val: 2, test: 2 }
    ])
    expect(r.splits.map((s) => [s.name, s.count, s.origin])).toEqual([
      ['train', 24, 'generated'],
      ['val', 6, 'dataset'],
      ['test', 6, 'generated'],
      ['unlabelled', 3, 'dataset']
    ])
    expect(r.splits.find((s) => s.name === 'test')!.detail).toMatch(/20% of each class.*seed 0/)
    expect(r.workingSize).toBe(64)
    // <wnid>_boxes.txt files are part of the layout, not problems.
    expect(r.problems).toEqual([])
  })

  it('Tiny-ImageNet val images missing from, or absent in, the annotations are reported', async () => {
    const root = tmpDir()
    makeTinyImageNet(root, { wnids: ['n01', 'n02'], train: 4, val: 2, test: 0, size: 64 })
    writeFileSync(path.join(root, 'val', 'images', 'stray.JPEG'), pngRgb(blockyRgb(64, 64, 77), 64, 64))
    writeFileSync(
      path.join(root, 'val', 'val_annotations.txt'),
      'val_0.JPEG\tn01\t0\t0\t1\t1\nval_1.JPEG\tn01\nval_2.JPEG\tn02\nval_3.JPEG\tn02\nghost.JPEG\tn02\n'
    )
    const r = await inspect(root)
    expect(r.problems.filter((p) => p.kind === 'no-label').map((p) => p.path)).toEqual(['val/images/stray.JPEG'])
    expect(r.problems.filter((p) => p.kind === 'missing-file').map((p) => p.path)).toEqual(['val/images/ghost.JPEG'])
    expect(countOf(r, 'val')).toBe(4)
  })

  it('MiniPlaces: images/{train,val,test} with data/{train,val}.txt and categories.txt', async () => {
    const root = tmpDir()
    makeMiniPlaces(root, { categories: ['abbey', 'bamboo_forest'], train: 3, val: 2, test: 2, size: 32 })
    const r = await inspect(root)
    expect(r.layout).toBe('miniplaces')
    expect(r.classes.map((c) => [c.id, c.name])).toEqual([
      ['abbey', 'abbey'],
      ['bamboo_forest', 'bamboo forest']
    ])
    expect(r.splits.map((s) => [s.name, s.count, s.labelled])).toEqual([
      ['train', 6, true],
      ['val', 4, true],
      ['unlabelled', 2, false]
    ])
    expect(r.classes[1]!.counts).toEqual({ train: 3, val: 2 })
    expect(r.workingSize).toBe(128)
  })

  it('CIFAR-10 binary: batches, labels from the record byte, names from batches.meta.txt', async () => {
    const root = tmpDir()
    makeCifar(root, { perBatch: 4, test: 5 })
    const r = await inspect(root)
    expect(r.layout).toBe('cifar10-binary')
    expect(r.evidence[0]).toMatch(/found cifar-10-batches-bin/)
    expect(r.classes.map((c) => c.name)).toEqual(CIFAR_NAMES)
    expect(r.splits.map((s) => [s.name, s.count])).toEqual([
      ['train', 20],
      ['test', 5]
    ])
    // Batch b, record k has label (b + k) % 10: data_batch_1 gives labels 1..4, data_batch_5 5..8, test 0..4.
    expect(r.classes[1]!.counts).toEqual({ train: 1, test: 1 })
    expect(r.classes[5]!.counts).toEqual({ train: 4 })
    expect(r.classes[0]!.counts).toEqual({ test: 1 })
    expect(r.sizeStats.common).toEqual([{ width: 32, height: 32, count: 25 }])
    expect(r.workingSize).toBe(32)
  })

  it('CIFAR-10: a batch cut short is reported as truncated; a bad label byte as corrupt', async () => {
    const root = tmpDir()
    makeCifar(root, { perBatch: 3, test: 2 })
    const dir = path.join(root, 'cifar-10-batches-bin')
    const { readFileSync } = await import('node:fs')
    const b1 = readFileSync(path.join(dir, 'data_batch_1.bin'))
    writeFileSync(path.join(dir, 'data_batch_1.bin'), b1.subarray(0, 3073 * 2 + 100))
    const t = readFileSync(path.join(dir, 'test_batch.bin'))
    t[0] = 42
    writeFileSync(path.join(dir, 'test_batch.bin'), t)
    const r = await inspect(dir)
    expect(r.problems.find((p) => p.kind === 'truncated')).toMatchObject({ path: 'data_batch_1.bin' })
    expect(r.problems.find((p) => p.kind === 'corrupt')).toMatchObject({ path: 'test_batch.bin#0', reason: expect.stringMatching(/label byte 42/) })
    expect(countOf(r, 'train')).toBe(2 + 4 * 3)
    expect(countOf(r, 'test')).toBe(1)
  })

  it('ImageFolder: class folders get a seeded stratified train/val/test split', async () => {
    const root = tmpDir()
    makeImageFolder(root, { cat: 10, dog: 10, emu: 10 })
    const a = await inspect(root, { split: { seed: 1, valFraction: 0.2, testFraction: 0.1 } })
    expect(a.layout).toBe('imagefolder')
    expect(a.classes.map((c) => c.counts)).toEqual(Array(3).fill({ train: 7, val: 2, test: 1 }))
    expect(a.splits.every((s) => s.origin === 'generated')).toBe(true)
    expect(a.sizeStats).toMatchObject({ images: 30, minWidth: 32, maxWidth: 32, medianHeight: 32 })
    expect(a.workingSize).toBe(32)
  })

  it('ImageFolder with split folders keeps its splits; a test/ of bare images is the unlabelled split', async () => {
    const root = tmpDir()
    makeImageFolder(root, { cat: 3, dog: 2 }, { splitDir: 'train' })
    makeImageFolder(root, { cat: 1, dog: 1 }, { splitDir: 'valid' })
    mkdirSync(path.join(root, 'test'))
    for (let i = 0; i < 2; i++) writeFileSync(path.join(root, 'test', `t${i}.png`), pngRgb(blockyRgb(32, 32, 4000 + i), 32, 32))
    const r = await inspect(root)
    expect(r.layout).toBe('imagefolder-splits')
    expect(r.splits.map((s) => [s.name, s.count, s.origin])).toEqual([
      ['train', 5, 'dataset'],
      ['val', 2, 'dataset'],
      ['unlabelled', 2, 'dataset']
    ])
    expect(r.classes.map((c) => c.name)).toEqual(['cat', 'dog'])
  })

  it('a flat folder of images is unlabelled; a folder wrapping one folder is looked into', async () => {
    const flat = tmpDir()
    for (let i = 0; i < 3; i++) writeFileSync(path.join(flat, `img${i}.png`), pngRgb(blockyRgb(32, 32, 5000 + i), 32, 32))
    const f = await inspect(flat)
    expect(f.layout).toBe('flat-unlabelled')
    expect(f.classes).toEqual([])
    expect(f.splits.map((s) => [s.name, s.count, s.labelled])).toEqual([['unlabelled', 3, false]])

    const outer = tmpDir()
    makeImageFolder(path.join(outer, 'photos'), { a: 2, b: 2 })
    const n = await inspect(outer)
    expect(n.layout).toBe('imagefolder')
    expect(n.evidence[0]).toMatch(/only photos\/, so looked inside/)
    expect(n.classes.map((c) => c.name)).toEqual(['a', 'b'])
  })

  it('anything else fails with what was looked for and what was found', async () => {
    const root = tmpDir()
    writeFileSync(path.join(root, 'notes.txt'), 'hello')
    writeFileSync(path.join(root, 'table.csv'), 'a,b')
    mkdirSync(path.join(root, 'docs'))
    writeFileSync(path.join(root, 'docs', 'readme.md'), '# x')
    const err = await inspect(root).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NoUsableImagesError)
    const msg = (err as Error).message
    expect(msg).toContain(root)
    expect(msg).toMatch(/found 2 files \(notes.txt, table.csv\) and 1 folder \(docs\/\)/)
    expect(msg).toMatch(/Looked for Tiny-ImageNet .*MiniPlaces .*CIFAR-10 .*class folders/)
    expect(((await inspect(tmpDir()).catch((e: unknown) => e)) as Error).message).toMatch(/the folder is empty/)
  })
})

describe('labelled subsets', () => {
  const paths = ['c/3', 'a/1', 'b/2', 'a/0', 'c/1', 'b/0', 'a/2', 'b/1', 'c/2', 'c/0']
  const labels = [2, 0, 1, 0, 2, 1, 0, 1, 2, 2]

  it('firstN takes the first N of each class in sorted path order', () => {
    const idx = selectSubset(paths, labels, { mode: 'firstN', count: 2 })
    expect(idx.map((i) => paths[i]).sort()).toEqual(['a/0', 'a/1', 'b/0', 'b/1', 'c/0', 'c/1'])
  })

  it('perClass and fraction are stratified, seeded and reproducible', () => {
    const a = selectSubset(paths, labels, { mode: 'perClass', count: 2, seed: 4 })
    expect(a).toEqual(selectSubset(paths, labels, { mode: 'perClass', count: 2, seed: 4 }))
    expect(a.map((i) => labels[i]).sort()).toEqual([0, 0, 1, 1, 2, 2])
    const seeds = new Set([0, 1, 2, 3, 4, 5, 6, 7].map((seed) => selectSubset(paths, labels, { mode: 'perClass', count: 2, seed }).join()))
    expect(seeds.size).toBeGreaterThan(1)
    const f = selectSubset(paths, labels, { mode: 'fraction', fraction: 0.5, seed: 0 })
    // round(3 * .5) = 2 of a, 2 of b, round(4 * .5) = 2 of c
    expect(f.map((i) => labels[i]).sort()).toEqual([0, 0, 1, 1, 2, 2])
    expect(selectSubset(paths, labels, { mode: 'fraction', fraction: 0.01, seed: 0 })).toHaveLength(3)
  })
})
