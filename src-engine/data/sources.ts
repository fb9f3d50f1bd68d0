// Resolves a run's dataset reference to decoded image sets (train and test splits).
import { generateSampleDataset, SAMPLE_CLASSES, sampleTestSeed } from '../../src-shared/sample-dataset'
import type { ImageSet } from '../../src-shared/image-set'
import type { DatasetRef, LabelledSubset } from '../../src-shared/config/run'
import { Rng } from '../../src-shared/rng'
import { datasetDirOf, openCacheSplit, readSubsetIndices } from '../../src-node/dataset-folder'

export interface Splits {
  label: string
  train: ImageSet
  test: ImageSet
}

/** Reader for datasets registered in the workspace (the datasets service provides it). */
export type RegisteredReader = (id: string, split: string) => Promise<ImageSet>

export async function loadSplits(ref: DatasetRef, readRegistered?: RegisteredReader): Promise<Splits> {
  switch (ref.kind) {
    case 'sample':
      return {
        label: `sample (${SAMPLE_CLASSES.length} classes, ${ref.size}px, seed ${ref.seed})`,
        train: generateSampleDataset({ perClass: ref.perClass, size: ref.size, seed: ref.seed }),
        test: generateSampleDataset({ perClass: ref.testPerClass, size: ref.size, seed: sampleTestSeed(ref.seed) })
      }
    case 'dataset': {
      if (!readRegistered) throw new Error(`dataset "${ref.id}" cannot be read here: no workspace datasets are available to this process`)
      return { label: ref.id, train: await readRegistered(ref.id, ref.trainSplit), test: await readRegistered(ref.id, ref.testSplit) }
    }
  }
}

/** Indices of a labelled subset of `set`, stratified by class and seeded (saved subsets are read with a SubsetReader). */
export function labelledSubset(set: ImageSet, spec: Exclude<LabelledSubset, { kind: 'subset' }>, seed: number): Int32Array {
  if (spec.kind === 'all') return Int32Array.from({ length: set.n }, (_, i) => i)
  const byClass = new Map<number, number[]>()
  for (let i = 0; i < set.n; i++) {
    const c = set.labels[i]!
    if (!byClass.has(c)) byClass.set(c, [])
    byClass.get(c)!.push(i)
  }
  const rng = new Rng(seed)
  const out: number[] = []
  for (const [, idx] of [...byClass].sort((a, b) => a[0] - b[0])) {
    if (spec.kind !== 'first-per-class') {
      for (let i = idx.length - 1; i > 0; i--) {
        const j = rng.int(i + 1)
        ;[idx[i], idx[j]] = [idx[j]!, idx[i]!]
      }
    }
    const take = spec.kind === 'fraction' ? Math.max(1, Math.round(idx.length * spec.value)) : Math.min(spec.value, idx.length)
    out.push(...idx.slice(0, take))
  }
  return Int32Array.from(out.sort((a, b) => a - b))
}

/**
 * Reader of the datasets registered in a workspace (datasets/<id>/cache/), for processes that
 * know the workspace folder: the training worker, previews, maps.
 */
export function workspaceReader(workspaceDir: string): RegisteredReader {
  return async (id, split) => {
    const dir = datasetDirOf(workspaceDir, id)
    try {
      return await openCacheSplit(dir, split)
    } catch (err) {
      throw new Error(
        `dataset "${id}" (split "${split}") cannot be read from the workspace: ${(err as Error).message}. Add it in the Datasets view or with \`quarterturn dataset add <folder>\`.`
      )
    }
  }
}

/** Reads a saved labelled subset of a registered dataset: its split and image positions in the current cache. */
export type SubsetReader = (datasetId: string, subsetId: string) => Promise<{ split: string; name: string; indices: Int32Array; missing: string[] }>

export function workspaceSubsetReader(workspaceDir: string): SubsetReader {
  return async (datasetId, subsetId) => {
    const dir = datasetDirOf(workspaceDir, datasetId)
    try {
      const { subset, indices, missing } = await readSubsetIndices(dir, subsetId)
      return { split: subset.split, name: subset.name, indices, missing }
    } catch (err) {
      throw new Error(`subset "${subsetId}" of dataset "${datasetId}" cannot be read: ${(err as Error).message} Make it again in the dataset's Subsets panel.`)
    }
  }
}
