// Which datasets the run form offers, and the draft a dataset's "Train on this dataset" opens.
// There is one sample: the registered dataset "sample", offered first even before it exists (the
// host draws it when a run naming it is created). The form's other sample variant draws the same
// images in memory at another size or count (quick tiny runs, 32 px), as older configs do.
import type { Choice } from '../components/form-context'
import type { DatasetSummary } from '../../../src-shared/contract'
import { SAMPLE_ID } from '../../../src-shared/sample-dataset'
import { SAMPLE_STAND_IN } from '../../../src-shared/estimate'

type Listed = Pick<DatasetSummary, 'id' | 'name' | 'images' | 'classes' | 'cacheReady' | 'status' | 'splits'>

/** Dataset ids a run can name: the registered datasets that are cached or being cached, and the sample before its first run. */
export function datasetIdChoices(registered: readonly Listed[]): Choice[] {
  const ready = registered.filter((d) => d.cacheReady || d.status === 'indexing')
  const out = ready.map((d) => ({ value: d.id, label: `${d.name} — ${d.images} images, ${d.classes} classes${d.cacheReady ? '' : ' (indexing)'}` }))
  if (!registered.some((d) => d.id === SAMPLE_ID)) {
    const images = SAMPLE_STAND_IN.splits.reduce((a, s) => a + s.count, 0)
    out.unshift({ value: SAMPLE_ID, label: `Sample: ten drawn classes — ${images} images, drawn when the run is created` })
  }
  return out
}

/** Splits of the dataset `id`, or null when it is not known. */
export function splitChoices(id: string, registered: readonly Listed[]): Choice[] | null {
  const d = registered.find((x) => x.id === id)
  const splits: { name: string; count: number; labelled: boolean }[] | undefined =
    d?.splits ?? (id === SAMPLE_ID ? SAMPLE_STAND_IN.splits.map((s) => ({ ...s, labelled: true })) : undefined)
  return splits ? splits.map((s) => ({ value: s.name, label: `${s.name} (${s.count}${s.labelled ? '' : ', unlabelled'})` })) : null
}

/** The training and test splits a run on `d` should use: train, and test, else val, else train again. */
export function defaultSplits(d: Pick<DatasetSummary, 'splits'>): { trainSplit: string; testSplit: string } {
  const labelled = d.splits.filter((s) => s.labelled && s.count > 0).map((s) => s.name as string)
  const trainSplit = labelled.includes('train') ? 'train' : (labelled[0] ?? 'train')
  const testSplit = ['test', 'val'].find((n) => labelled.includes(n) && n !== trainSplit) ?? trainSplit
  return { trainSplit, testSplit }
}

/**
 * The draft with its pretraining dataset set to `d`, the rest kept. A saved subset belongs to the
 * dataset it was drawn from, so fine-tuning on one goes back to the default fraction.
 */
export function withDataset(draft: Record<string, unknown>, d: Pick<DatasetSummary, 'id' | 'splits'>): Record<string, unknown> {
  // The draft is reactive (a proxy), which structuredClone refuses; it is plain JSON underneath.
  const next = JSON.parse(JSON.stringify(draft)) as Record<string, unknown>
  next.dataset = { kind: 'dataset', id: d.id, ...defaultSplits(d) }
  const finetune = next.finetune as { labelled?: Record<string, unknown> } | undefined
  if (finetune?.labelled?.kind === 'subset') finetune.labelled = { kind: 'fraction', value: 0.2 }
  return next
}
