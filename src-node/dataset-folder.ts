// The layout of a dataset folder, workspace/datasets/<id>/, and the only code that names its
// files or checks a dataset id (DatasetIdSchema: a lower-case slug, so an id can never name a
// path outside datasets/):
//
//   datasets/<id>/dataset.json              the registration: source folder, layout, classes, splits, fingerprint
//   datasets/<id>/problems.json             what indexing found wrong, per file
//   datasets/<id>/source/                   the built-in sample's drawn images (a user's folder stays where it is)
//   datasets/<id>/cache/index.json          the commit point: working size, classes, and per split
//                                            the cache file name, its SHA-256 and one column per
//                                            image (relative path, label, original size, ...)
//   datasets/<id>/cache/<split>-<gen>.u8     uint8 RGB, [count, size, size, 3] row-major (NHWC)
//   datasets/<id>/subsets/<subset>.json      saved labelled subsets
//
// Written by the host's dataset service and indexer (src-host/datasets/), read by them and by the
// run workers. A training batch is a slice of a cache file, never a decode. Node has no mmap, so
// `openCacheSplit` reads the whole split into memory: fine up to a few GiB (a typed array tops out
// at 4 GiB; 64x64 images take 12 KiB each, so ~350 000 of them; 224x224 take 147 KiB, ~29 000).
// For larger splits, `CacheSplitFile` reads batches from disk with positional reads instead.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import type { ImageSet } from '../src-shared/image-set'
import { DatasetIdSchema, SubsetIdSchema } from '../src-shared/contract/datasets'

// ---- where things are --------------------------------------------------------------------------

/** The folder of every registered dataset of a workspace. */
export const datasetsDirOf = (workspaceDir: string): string => path.join(workspaceDir, 'datasets')

export const isDatasetId = (id: string): boolean => DatasetIdSchema.safeParse(id).success

/** datasets/<id> of a workspace; throws for anything that is not a dataset id. */
export function datasetDirOf(workspaceDir: string, id: string): string {
  if (!isDatasetId(id)) throw new Error(`"${id}" is not a dataset id`)
  return path.join(datasetsDirOf(workspaceDir), id)
}

const CACHE_DIR = 'cache'
const CACHE_INDEX = 'index.json'

/** Every file and folder of one dataset folder. */
export function datasetPaths(datasetDir: string) {
  const cache = path.join(datasetDir, CACHE_DIR)
  return {
    dir: datasetDir,
    record: path.join(datasetDir, 'dataset.json'),
    problems: path.join(datasetDir, 'problems.json'),
    /** Where the built-in sample's images are drawn. */
    sampleSource: path.join(datasetDir, 'source'),
    cache,
    cacheIndex: path.join(cache, CACHE_INDEX),
    subsets: path.join(datasetDir, 'subsets')
  }
}

/** A cache file of the folder, by the name its index records. */
export const cacheFileOf = (datasetDir: string, name: string): string => path.join(datasetDir, CACHE_DIR, name)

/** A split's cache file name: one generation of one split. */
export const cacheFileName = (split: string, generation: string): string => `${split}-${generation}.u8`
const CACHE_FILE_NAME = /^[a-z]+-[0-9a-f]+\.u8$/
/** Whether a file in cache/ is a split file (the rest of a generation's leftovers are not touched). */
export const isCacheFileName = (name: string): boolean => CACHE_FILE_NAME.test(name)

export const isSubsetId = (id: string): boolean => SubsetIdSchema.safeParse(id).success
/** subsets/<id>.json of a dataset folder; throws for anything that is not a subset id. */
export function subsetFileOf(datasetDir: string, subsetId: string): string {
  if (!isSubsetId(subsetId)) throw new Error(`"${subsetId}" is not a subset id.`)
  return path.join(datasetPaths(datasetDir).subsets, `${subsetId}.json`)
}

// ---- the cache -----------------------------------------------------------------------------------

export const CACHE_FORMAT = 1
/** The resize policy, recorded in every index so a cache made another way is never reused. */
export const RESIZE_POLICY =
  'shorter side to the working size (antialiased bilinear), centre crop = Resize(S) + CenterCrop(S); EXIF orientation applied; alpha dropped'

const SplitColumnsSchema = z.object({
  file: z.string().regex(CACHE_FILE_NAME),
  count: z.number().int().nonnegative(),
  sha256: z.string().length(64),
  labelled: z.boolean(),
  /** Relative to the dataset source folder; `file.bin#k` for the k-th record of a CIFAR batch. */
  paths: z.array(z.string()),
  /** Class index, -1 for unlabelled images. */
  labels: z.array(z.number().int().min(-1)),
  widths: z.array(z.number().int().nonnegative()),
  heights: z.array(z.number().int().nonnegative()),
  /** Source file size and mtime (ms) and SHA-1 of the bytes: what re-indexing compares. */
  bytes: z.array(z.number().int().nonnegative()),
  mtimes: z.array(z.number().int()),
  hashes: z.array(z.string())
})
export type SplitColumns = z.infer<typeof SplitColumnsSchema>

export const CacheIndexSchema = z.object({
  format: z.literal(CACHE_FORMAT),
  createdAt: z.string(),
  size: z.number().int().positive(),
  resize: z.string(),
  classIds: z.array(z.string()),
  classNames: z.array(z.string()),
  splits: z.partialRecord(z.enum(['train', 'val', 'test', 'unlabelled']), SplitColumnsSchema)
})
export type CacheIndex = z.infer<typeof CacheIndexSchema>
export type CacheSplitName = keyof CacheIndex['splits']

/** Read and check `cache/index.json` of a dataset folder (datasets/<id>). */
export async function readCacheIndex(datasetDir: string): Promise<CacheIndex> {
  const file = datasetPaths(datasetDir).cacheIndex
  let text: string
  try {
    text = await fs.readFile(file, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`The dataset has no cache yet (${file} is missing): index it first.`)
    throw new Error(`Cannot read the dataset cache index ${file}: ${(err as Error).message}`)
  }
  let parsed: CacheIndex
  try {
    parsed = CacheIndexSchema.parse(JSON.parse(text))
  } catch (err) {
    throw new Error(`The dataset cache index ${file} is damaged (${(err as Error).message.split('\n')[0]}): re-index the dataset.`)
  }
  for (const [name, s] of Object.entries(parsed.splits)) {
    const cols = [s.paths, s.labels, s.widths, s.heights, s.bytes, s.mtimes, s.hashes]
    if (cols.some((c) => c.length !== s.count))
      throw new Error(`The dataset cache index ${file} is damaged (split ${name} has columns of unequal length): re-index the dataset.`)
  }
  return parsed
}

function splitOf(index: CacheIndex, split: string, datasetDir: string): SplitColumns {
  const s = index.splits[split as CacheSplitName]
  if (!s) {
    const have = Object.keys(index.splits).join(', ') || 'none'
    throw new Error(`The dataset at ${datasetDir} has no "${split}" split (it has: ${have}).`)
  }
  return s
}

/** One split loaded into memory: an ImageSet the trainer takes as is, plus batch slicing. */
export interface CacheSplit extends ImageSet {
  split: string
  paths: string[]
  /** SHA-256 of the cache file, for run records. */
  sha256: string
  /** Copy of the images at `indices`, [indices.length, size, size, 3]. */
  readBatch(indices: ArrayLike<number>): Uint8Array
}

/** Load one split of a cached dataset into memory (see the header for the size limit). */
export async function openCacheSplit(datasetDir: string, split: string): Promise<CacheSplit> {
  const index = await readCacheIndex(datasetDir)
  const s = splitOf(index, split, datasetDir)
  const file = cacheFileOf(datasetDir, s.file)
  const px = index.size * index.size * 3
  const expected = s.count * px
  const buf = await fs.readFile(file).catch((err: Error) => {
    throw new Error(`Cannot read the dataset cache file ${file}: ${err.message}. Re-index the dataset.`)
  })
  if (buf.byteLength !== expected) {
    throw new Error(`The dataset cache file ${file} has ${buf.byteLength} bytes, expected ${expected}: re-index the dataset.`)
  }
  const images = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
  const labels = Int32Array.from(s.labels)
  return {
    images,
    labels,
    n: s.count,
    size: index.size,
    classNames: [...index.classNames],
    split,
    paths: s.paths,
    sha256: s.sha256,
    readBatch: (indices) => sliceImages(images, px, s.count, indices)
  }
}

function sliceImages(images: Uint8Array, px: number, n: number, indices: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(indices.length * px)
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`image index ${i} is outside 0..${n - 1}`)
    out.set(images.subarray(i * px, (i + 1) * px), k * px)
  }
  return out
}

/** The images at `indices` of a set as a new ImageSet (e.g. a labelled subset). */
export function selectImages(set: ImageSet, indices: ArrayLike<number>): ImageSet {
  const px = set.size * set.size * 3
  const labels = new Int32Array(indices.length)
  for (let k = 0; k < indices.length; k++) labels[k] = set.labels[indices[k]!]!
  return { images: sliceImages(set.images, px, set.n, indices), labels, n: indices.length, size: set.size, classNames: [...set.classNames] }
}

/** A split read from disk batch by batch (for splits too large to hold in memory). */
export class CacheSplitFile {
  private constructor(
    private readonly handle: fs.FileHandle,
    readonly split: string,
    readonly size: number,
    readonly n: number,
    readonly labels: Int32Array,
    readonly paths: string[],
    readonly classNames: string[],
    readonly columns: SplitColumns
  ) {}

  static async open(datasetDir: string, split: string, index?: CacheIndex): Promise<CacheSplitFile> {
    const idx = index ?? (await readCacheIndex(datasetDir))
    const s = splitOf(idx, split, datasetDir)
    const file = cacheFileOf(datasetDir, s.file)
    const handle = await fs.open(file, 'r').catch((err: Error) => {
      throw new Error(`Cannot open the dataset cache file ${file}: ${err.message}. Re-index the dataset.`)
    })
    const st = await handle.stat()
    const expected = s.count * idx.size * idx.size * 3
    if (st.size !== expected) {
      await handle.close()
      throw new Error(`The dataset cache file ${file} has ${st.size} bytes, expected ${expected}: re-index the dataset.`)
    }
    return new CacheSplitFile(handle, split, idx.size, s.count, Int32Array.from(s.labels), s.paths, idx.classNames, s)
  }

  /** Images at `indices`, [indices.length, size, size, 3]; runs of consecutive indices are one read. */
  async readBatch(indices: ArrayLike<number>): Promise<Uint8Array> {
    const px = this.size * this.size * 3
    const out = new Uint8Array(indices.length * px)
    let k = 0
    while (k < indices.length) {
      const first = indices[k]!
      if (!Number.isInteger(first) || first < 0 || first >= this.n) throw new RangeError(`image index ${first} is outside 0..${this.n - 1}`)
      let run = 1
      while (k + run < indices.length && indices[k + run] === first + run && first + run < this.n) run++
      const { bytesRead } = await this.handle.read(out, k * px, run * px, first * px)
      if (bytesRead !== run * px) throw new Error(`The dataset cache file for split ${this.split} is shorter than its index: re-index the dataset.`)
      k += run
    }
    return out
  }

  async close(): Promise<void> {
    await this.handle.close()
  }
}

// ---- labelled subsets, written by the host's dataset service -----------------------------------

export const SubsetFileSchema = z.object({
  format: z.literal(1),
  id: z.string(),
  datasetId: z.string(),
  name: z.string(),
  split: z.string(),
  selection: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  fingerprintId: z.string(),
  count: z.number().int().nonnegative(),
  perClass: z.array(z.number().int().nonnegative()),
  /** SHA-256 of the split's cache file the indices refer to. */
  cacheSha256: z.string(),
  /** The truth: relative paths of the chosen images. */
  paths: z.array(z.string()),
  /** Their positions in the split when the subset was made (valid while cacheSha256 matches). */
  indices: z.array(z.number().int().nonnegative())
})
export type SubsetFile = z.infer<typeof SubsetFileSchema>

/**
 * Positions of a subset's images in the current cache of its split. After a re-index the
 * positions are found again by path; images no longer in the cache are listed in `missing`.
 */
export async function readSubsetIndices(
  datasetDir: string,
  subsetId: string,
  index?: CacheIndex
): Promise<{ subset: SubsetFile; indices: Int32Array; missing: string[] }> {
  const file = subsetFileOf(datasetDir, subsetId)
  const text = await fs.readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    throw new Error(err.code === 'ENOENT' ? `The dataset has no subset "${subsetId}" (${file} is missing).` : `Cannot read the subset ${file}: ${err.message}`)
  })
  const subset = SubsetFileSchema.parse(JSON.parse(text))
  const idx = index ?? (await readCacheIndex(datasetDir))
  const s = splitOf(idx, subset.split, datasetDir)
  if (s.sha256 === subset.cacheSha256) return { subset, indices: Int32Array.from(subset.indices), missing: [] }
  const pos = new Map(s.paths.map((p, i) => [p, i]))
  const found: number[] = []
  const missing: string[] = []
  for (const p of subset.paths) {
    const i = pos.get(p)
    if (i === undefined) missing.push(p)
    else found.push(i)
  }
  return { subset, indices: Int32Array.from(found.sort((a, b) => a - b)), missing }
}
