// Browsing a dataset, served from its cache only (never the source folder, which may be gone):
// pages of thumbnails, one image at full working size, a whole split for training, and the
// problems indexing found. The parsed cache index is kept per dataset and read again when
// cache/index.json changes (its mtime and size), so a re-index is picked up without a restart.
import { promises as fs } from 'node:fs'
import { z } from 'zod'
import {
  ProblemSchema,
  ProblemsArgSchema,
  ThumbnailsArgSchema,
  type ImageResult,
  type Problem,
  type SplitName,
  type ThumbnailsResult
} from '../../src-shared/contract/datasets'
import { CacheSplitFile, datasetPaths, openCacheSplit, readCacheIndex, type CacheIndex, type CacheSplit } from '../../src-node/dataset-folder'
import { rgbToPngDataUrl } from './decode'
import { DatasetError } from './dataset-error'
import type { DatasetRegistry } from './registry'

export class CacheReader {
  private readonly indexCache = new Map<string, { key: string; index: CacheIndex }>()

  constructor(private readonly registry: DatasetRegistry) {}

  /** Drop what is kept for a dataset (its cache was rewritten or removed). */
  forget(id: string): void {
    this.indexCache.delete(id)
  }

  /** The dataset folder and its parsed cache index; fails when it has no cache yet. */
  async open(id: string): Promise<{ dir: string; index: CacheIndex }> {
    await this.registry.readRecord(id)
    const dir = await this.registry.dirOf(id)
    const file = datasetPaths(dir).cacheIndex
    const st = await fs.stat(file).catch(() => null)
    if (!st) throw new DatasetError(`Dataset "${id}" has no cache yet: wait for indexing to finish, or re-index it.`, 'not-found')
    const key = `${st.mtimeMs}:${st.size}`
    const hit = this.indexCache.get(id)
    if (hit && hit.key === key) return { dir, index: hit.index }
    try {
      const index = await readCacheIndex(dir)
      this.indexCache.set(id, { key, index })
      return { dir, index }
    } catch (err) {
      throw new DatasetError(`${(err as Error).message}`, 'fs')
    }
  }

  /** One split of the index, or an error that names the splits there are. */
  splitColumns(index: CacheIndex, id: string, split: SplitName) {
    const s = index.splits[split]
    if (!s)
      throw new DatasetError(`Dataset "${id}" has no "${split}" split (it has: ${Object.keys(index.splits).join(', ')}).`, 'not-found', 'invalid-argument')
    return s
  }

  private async readImages(dir: string, index: CacheIndex, split: SplitName, positions: number[]): Promise<Uint8Array> {
    const file = await CacheSplitFile.open(dir, split, index).catch((err: Error) => {
      throw new DatasetError(err.message, 'fs')
    })
    try {
      return await file.readBatch(positions)
    } finally {
      await file.close()
    }
  }

  async thumbnails(arg: z.input<typeof ThumbnailsArgSchema>): Promise<ThumbnailsResult> {
    const a = ThumbnailsArgSchema.parse(arg)
    const { dir, index } = await this.open(a.id)
    const s = this.splitColumns(index, a.id, a.split)
    let positions: number[]
    if (a.classIndex === undefined || a.classIndex === null) positions = Array.from({ length: s.count }, (_, i) => i)
    else {
      if (a.classIndex >= index.classIds.length)
        throw new DatasetError(`Dataset "${a.id}" has ${index.classIds.length} classes; there is no class ${a.classIndex}.`, 'not-found', 'invalid-argument')
      positions = []
      for (let i = 0; i < s.count; i++) if (s.labels[i] === a.classIndex) positions.push(i)
    }
    const page = positions.slice(a.offset, a.offset + a.limit)
    const px = index.size * index.size * 3
    const pixels = page.length ? await this.readImages(dir, index, a.split, page) : new Uint8Array(0)
    const thumb = Math.min(a.size, index.size)
    const items = page.map((pos, k) => {
      const label = s.labels[pos]!
      return {
        index: pos,
        label,
        className: label >= 0 ? (index.classNames[label] ?? null) : null,
        path: s.paths[pos]!,
        dataUrl: rgbToPngDataUrl(pixels.subarray(k * px, (k + 1) * px), index.size, thumb)
      }
    })
    return { total: positions.length, offset: a.offset, items }
  }

  async image(arg: { id: string; split: SplitName; index: number }): Promise<ImageResult> {
    const { dir, index } = await this.open(arg.id)
    const s = this.splitColumns(index, arg.id, arg.split)
    if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index >= s.count) {
      throw new DatasetError(`Split "${arg.split}" of "${arg.id}" has ${s.count} images; there is no image ${arg.index}.`, 'not-found', 'invalid-argument')
    }
    const rgb = await this.readImages(dir, index, arg.split, [arg.index])
    const label = s.labels[arg.index]!
    return {
      index: arg.index,
      label,
      className: label >= 0 ? (index.classNames[label] ?? null) : null,
      path: s.paths[arg.index]!,
      dataUrl: rgbToPngDataUrl(rgb, index.size),
      size: index.size,
      originalWidth: s.widths[arg.index]!,
      originalHeight: s.heights[arg.index]!
    }
  }

  /**
   * The folder of a registered dataset (datasets/<id>), for code that reads its cache directly
   * (a run's worker: `openCacheSplit(dir, split)`, `readSubsetIndices(dir, subsetId)`).

  /** One split of a registered dataset as an ImageSet the trainer takes (loaded into memory). */
  async readSplit(id: string, split: string): Promise<CacheSplit> {
    const { dir } = await this.open(id)
    return openCacheSplit(dir, split).catch((err: Error) => {
      throw new DatasetError(`Dataset "${id}": ${err.message}`, 'not-found', 'invalid-argument')
    })
  }

  /** One page of the problems list, optionally of one kind. */
  async problems(arg: z.input<typeof ProblemsArgSchema>): Promise<{ total: number; offset: number; items: Problem[] }> {
    const a = ProblemsArgSchema.parse(arg)
    await this.registry.readRecord(a.id)
    const file = datasetPaths(await this.registry.dirOf(a.id)).problems
    const all = await fs
      .readFile(file, 'utf8')
      .then((t) => z.array(ProblemSchema).parse(JSON.parse(t)))
      .catch(() => [] as Problem[])
    const list = a.kind ? all.filter((p) => p.kind === a.kind) : all
    return { total: list.length, offset: a.offset, items: list.slice(a.offset, a.offset + a.limit) }
  }
}
