// Seeded stratified splits and labelled subsets. Both work per class, and put the images of a
// class in a seeded random order that is a *ranking by a hash of (seed, relative path)*: it
// depends only on the file names and the seed (never on the order the file system lists them
// in), and it is stable when files come and go. Adding an image to a class inserts it into the
// ranking without reshuffling the others, so a re-index moves at most the images at a split's
// boundary, and train images stay in train: subsets and runs keep meaning the same images.
import { createHash } from 'node:crypto'
import type { SplitOptions, SubsetSelection } from '../../src-shared/contract/datasets'
import type { Detected, Item } from './layout'

const byPath = (a: { rel: string }, b: { rel: string }): number => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0)

/** Seeded random order of relative paths, stable under insertions and removals. */
export function seededOrder<T>(list: T[], seed: number, relOf: (x: T) => string): T[] {
  const keyed = list.map((x) => ({
    x,
    k: createHash('sha1')
      .update(`${seed}\0${relOf(x)}`)
      .digest('hex')
  }))
  keyed.sort((a, b) => (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))
  return keyed.map((e) => e.x)
}

/** The test fraction in force: the option, else 0.2 when carving Tiny-ImageNet's train (the reference), else 0.1. */
export function testFractionOf(d: Pick<Detected, 'needsSplit'>, opts: SplitOptions): number {
  return opts.testFraction ?? (d.needsSplit === 'carve-test' ? 0.2 : 0.1)
}

/**
 * Make the splits the dataset lacks, in place: 'all' divides the labelled train images of each
 * class into train/val/test; 'carve-test' moves a share of each class of train into test (the
 * reference's Tiny-ImageNet protocol: 400 train + 100 test of the 500 per class, val kept).
 */
export function assignSplits(d: Detected, opts: SplitOptions): void {
  if (!d.needsSplit) return
  const testFrac = testFractionOf(d, opts)
  const valFrac = d.needsSplit === 'all' ? opts.valFraction : 0
  const perClass = new Map<number, Item[]>()
  for (const it of d.items) {
    if (it.split !== 'train' || it.label < 0) continue
    let list = perClass.get(it.label)
    if (!list) perClass.set(it.label, (list = []))
    list.push(it)
  }
  let nVal = 0
  let nTest = 0
  for (const label of [...perClass.keys()].sort((a, b) => a - b)) {
    const list = seededOrder(perClass.get(label)!.sort(byPath), opts.seed, (it) => it.rel)
    // Test first, then val, then train: growing a class moves images towards train, never out of it.
    const t = Math.round(list.length * testFrac)
    const v = Math.round(list.length * valFrac)
    for (let i = 0; i < list.length; i++) list[i]!.split = i < t ? 'test' : i < t + v ? 'val' : 'train'
    nTest += t
    nVal += v
  }
  const pct = (f: number): string => `${Math.round(f * 1000) / 10}%`
  const from = d.splitOrigins.train?.detail ?? 'the class folders'
  if (d.needsSplit === 'all') {
    d.splitOrigins.train = { origin: 'generated', detail: `${from}: the rest after val and test, per class (seed ${opts.seed})` }
    if (nVal) d.splitOrigins.val = { origin: 'generated', detail: `${pct(valFrac)} of each class of ${from}, seed ${opts.seed}` }
    if (nTest) d.splitOrigins.test = { origin: 'generated', detail: `${pct(testFrac)} of each class of ${from}, seed ${opts.seed}` }
  } else {
    d.splitOrigins.train = { origin: 'generated', detail: `${from} less the test share (${pct(1 - testFrac)} per class, seed ${opts.seed})` }
    if (nTest)
      d.splitOrigins.test = { origin: 'generated', detail: `${pct(testFrac)} of each class of ${from}, seed ${opts.seed} (the reference's 80/20 split)` }
  }
}

/**
 * Indices (ascending) of a labelled subset of one split, given its paths and labels:
 *   fraction  round(fraction * n) of each class (at least 1 of a non-empty class), seeded
 *   perClass  `count` of each class (all of a smaller class), seeded
 *   firstN    the first `count` of each class in sorted path order: the reference took "the first
 *             100 files in glob order", which is the file system's order and not reproducible;
 *             sorted order is the reproducible stand-in.
 */
export function selectSubset(paths: readonly string[], labels: readonly number[], selection: SubsetSelection): number[] {
  const perClass = new Map<number, number[]>()
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!
    if (l < 0) continue
    let list = perClass.get(l)
    if (!list) perClass.set(l, (list = []))
    list.push(i)
  }
  const out: number[] = []
  for (const label of [...perClass.keys()].sort((a, b) => a - b)) {
    let list = perClass.get(label)!.sort((a, b) => (paths[a]! < paths[b]! ? -1 : paths[a]! > paths[b]! ? 1 : 0))
    let take: number
    if (selection.mode === 'fraction') take = Math.max(1, Math.round(list.length * selection.fraction))
    else take = Math.min(list.length, selection.count)
    if (selection.mode !== 'firstN') list = seededOrder(list, selection.seed, (i) => paths[i]!)
    for (let i = 0; i < take; i++) out.push(list[i]!)
  }
  return out.sort((a, b) => a - b)
}

/** A readable, stable id for a selection: the same selection twice gives the same subset. */
export function subsetIdOf(split: string, selection: SubsetSelection): string {
  switch (selection.mode) {
    case 'fraction':
      return `${split}-fraction-${selection.fraction}-seed${selection.seed}`
    case 'perClass':
      return `${split}-per-class-${selection.count}-seed${selection.seed}`
    case 'firstN':
      return `${split}-first-${selection.count}`
  }
}
