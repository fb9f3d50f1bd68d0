// A run's dataset split as images for people to look at: decoded once per process and kept for
// the last two splits asked about (a preview, a page of thumbnails and a map hover all read the
// same split within seconds of each other), image picking (by hand or seeded), and thumbnails.
// Tensor-free, but it runs in the analysis worker like the previews: decoding a split is a job
// for a worker, not the host.
import type { RunConfig } from '../../src-shared/config/run'
import type { RunImages, RunImagesOptions } from '../../src-shared/contract/runs'
import { loadSplits, type RegisteredReader } from './sources'
import type { ImageSet } from '../../src-shared/image-set'
import { Rng } from '../../src-shared/rng'
import { pngDataUrl } from '../util/png'

export type SplitName = 'train' | 'test'

/** A request that names something that is not there (an image index): the caller's mistake. */
export class PreviewInputError extends Error {
  readonly code = 'invalid-argument'
}

const cache = new Map<string, Promise<ImageSet>>()
const KEEP = 2

/** The decoded split of a run's dataset. */
export function runSplit(config: RunConfig, split: SplitName, reader?: RegisteredReader): Promise<ImageSet> {
  const key = `${JSON.stringify(config.dataset)}|${split}`
  let p = cache.get(key)
  if (p) {
    cache.delete(key) // re-inserted below: most recently used last
  } else {
    p = loadSplits(config.dataset, reader).then((s) => (split === 'train' ? s.train : s.test))
    p.catch(() => cache.delete(key))
  }
  cache.set(key, p)
  while (cache.size > KEEP) cache.delete(cache.keys().next().value!)
  return p
}

/** Indices of the images to show: the picked ones (checked against the split), else `count` drawn with `seed`. */
export function pickImages(set: ImageSet, o: { count: number; seed: number; indices?: number[] }): Int32Array {
  if (o.indices) {
    const bad = o.indices.find((i) => i >= set.n)
    if (bad !== undefined) throw new PreviewInputError(`Image #${bad} does not exist: this split has ${set.n} images (0–${set.n - 1}).`)
    return Int32Array.from(new Set(o.indices))
  }
  const rng = new Rng(o.seed)
  const picked = new Set<number>()
  while (picked.size < Math.min(o.count, set.n)) picked.add(rng.int(set.n))
  return Int32Array.from([...picked].sort((a, b) => a - b))
}

export function imageRgb(set: ImageSet, index: number): Uint8Array {
  const px = set.size * set.size * 3
  return set.images.subarray(index * px, (index + 1) * px)
}

export const classNameOf = (set: ImageSet, label: number): string => set.classNames[label] ?? String(label)

/** Thumbnails (the cached pixels, as PNG) of a page of the split or of given indices. */
export async function runImages(config: RunConfig, o: RunImagesOptions, reader?: RegisteredReader): Promise<RunImages> {
  const set = await runSplit(config, o.split, reader)
  const idx = o.indices
    ? pickImages(set, { count: 0, seed: 0, indices: o.indices })
    : Int32Array.from({ length: Math.max(0, Math.min(o.limit, set.n - o.offset)) }, (_, k) => o.offset + k)
  return {
    split: o.split,
    total: set.n,
    size: set.size,
    classNames: set.classNames,
    items: Array.from(idx, (index) => ({ index, label: set.labels[index]!, png: pngDataUrl(imageRgb(set, index), set.size, set.size) }))
  }
}
