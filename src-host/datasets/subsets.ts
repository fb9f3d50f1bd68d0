// Labelled subsets of a dataset (datasets/<id>/subsets/<subset>.json): a chosen part of one
// split's labelled images, saved by id so a run that trains or evaluates on "10% of each class"
// names the same images every time. The id is derived from the split and the selection, so
// asking for the same subset twice returns the saved one.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { z } from 'zod'
import { CreateSubsetArgSchema, SubsetInfoSchema, type SubsetInfo } from '../../src-shared/contract/datasets'
import { SubsetFileSchema, datasetPaths, subsetFileOf, type SubsetFile } from '../../src-node/dataset-folder'
import { writeFileAtomic } from '../../src-node/fsutil'
import { describeFsError } from '../errors'
import { DatasetError } from './dataset-error'
import type { CacheReader } from './cache-reader'
import type { DatasetRegistry } from './registry'
import { selectSubset, subsetIdOf } from './splits'

export class Subsets {
  constructor(
    private readonly registry: DatasetRegistry,
    private readonly cache: CacheReader
  ) {}

  /** Save the subset the selection picks (or return the one saved already). */
  async create(arg: z.input<typeof CreateSubsetArgSchema>): Promise<SubsetInfo> {
    const a = CreateSubsetArgSchema.parse(arg)
    const rec = await this.registry.readRecord(a.id)
    const { dir, index } = await this.cache.open(a.id)
    const s = this.cache.splitColumns(index, a.id, a.split)
    const id = subsetIdOf(a.split, a.selection)
    const file = subsetFileOf(dir, id)
    const existing = await fs.readFile(file, 'utf8').then(
      (t) => SubsetFileSchema.parse(JSON.parse(t)),
      () => null
    )
    if (existing) return this.subsetInfo(existing)
    const indices = selectSubset(s.paths, s.labels, a.selection)
    if (indices.length === 0)
      throw new DatasetError(`Split "${a.split}" of "${rec.name}" has no labelled images to choose from.`, 'not-found', 'invalid-argument')
    const perClass = index.classIds.map(() => 0)
    for (const i of indices) perClass[s.labels[i]!]!++
    const sub: SubsetFile = {
      format: 1,
      id,
      datasetId: a.id,
      name: a.name ?? describeSelection(a.split, a.selection),
      split: a.split,
      selection: a.selection,
      createdAt: new Date().toISOString(),
      fingerprintId: rec.fingerprint?.id ?? '',
      count: indices.length,
      perClass,
      cacheSha256: s.sha256,
      paths: indices.map((i) => s.paths[i]!),
      indices
    }
    try {
      await fs.mkdir(path.dirname(file), { recursive: true })
      await writeFileAtomic(file, JSON.stringify(sub))
    } catch (err) {
      throw new DatasetError(describeFsError(err, path.dirname(file), 'save the subset in'), 'fs')
    }
    return this.subsetInfo(sub)
  }

  private subsetInfo(s: SubsetFile): SubsetInfo {
    return SubsetInfoSchema.parse({
      id: s.id,
      datasetId: s.datasetId,
      name: s.name,
      split: s.split,
      selection: s.selection,
      count: s.count,
      perClass: s.perClass,
      createdAt: s.createdAt,
      fingerprintId: s.fingerprintId
    })
  }

  async list(id: string): Promise<SubsetInfo[]> {
    await this.registry.readRecord(id)
    const dir = datasetPaths(await this.registry.dirOf(id)).subsets
    const names = await fs.readdir(dir).catch(() => [] as string[])
    const out: SubsetInfo[] = []
    for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
      const s = await fs.readFile(path.join(dir, n), 'utf8').then(
        (t) => SubsetFileSchema.parse(JSON.parse(t)),
        () => null
      )
      if (s) out.push(this.subsetInfo(s))
    }
    return out
  }
}

function describeSelection(split: string, s: z.infer<typeof CreateSubsetArgSchema>['selection']): string {
  switch (s.mode) {
    case 'fraction':
      return `${Math.round(s.fraction * 1000) / 10}% of each class of ${split} (seed ${s.seed})`
    case 'perClass':
      return `${s.count} per class of ${split} (seed ${s.seed})`
    case 'firstN':
      return `first ${s.count} per class of ${split}, sorted by path`
  }
}
