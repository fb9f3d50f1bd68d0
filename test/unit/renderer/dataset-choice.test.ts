// One sample: the run form, the presets and a config without a dataset name the registered
// sample, offered before it exists with the size it will have; a dataset's "Train on this
// dataset" fills the form with it.
import { describe, expect, it } from 'vitest'
import { reactive } from 'vue'
import { PRESETS, RunConfigSchema, parseRunConfig } from '../../../src-shared/config/run'
import { runSizes } from '../../../src-shared/estimate'
import { SAMPLE_ID } from '../../../src-shared/sample-dataset'
import { datasetIdChoices, defaultSplits, splitChoices, withDataset } from '../../../src-renderer/src/lib/dataset-choice'
import { planOf } from '../../../src-renderer/src/lib/run-plan'

const split = (name: 'train' | 'val' | 'test', count: number, labelled = true) => ({ name, count, labelled, origin: 'dataset' as const, detail: '' })
const listed = (id: string, splits: ReturnType<typeof split>[]) => ({
  id,
  name: id.toUpperCase(),
  images: splits.reduce((a, s) => a + s.count, 0),
  classes: 10,
  cacheReady: true,
  status: 'ready' as const,
  splits
})

describe('the sample in the run form', () => {
  it('is the default dataset and the presets’ dataset, offered before it is registered', () => {
    expect(RunConfigSchema.parse({}).dataset).toEqual({ kind: 'dataset', id: SAMPLE_ID, trainSplit: 'train', testSplit: 'test' })
    for (const p of PRESETS.filter((x) => x.name.startsWith('fast-')))
      expect(parseRunConfig(p.config).dataset).toMatchObject({ kind: 'dataset', id: SAMPLE_ID })
    expect(datasetIdChoices([])).toEqual([{ value: SAMPLE_ID, label: expect.stringContaining('2500 images, drawn when the run is created') }])
    expect(splitChoices(SAMPLE_ID, [])?.map((c) => c.value)).toEqual(['train', 'test'])
    // Registered, it is listed once, as any dataset.
    const sample = listed(SAMPLE_ID, [split('train', 40), split('test', 20)])
    expect(datasetIdChoices([sample, listed('cifar', [split('train', 50)])]).map((c) => c.value)).toEqual([SAMPLE_ID, 'cifar'])
    expect(splitChoices(SAMPLE_ID, [sample])?.map((c) => c.label)).toEqual(['train (40)', 'test (20)'])
    expect(splitChoices('nothing', [])).toBeNull()
  })

  it('has a size before its first run: the plan and the estimate count its steps', () => {
    const config = parseRunConfig({})
    expect(runSizes(config, () => undefined)).toEqual({ train: 2000, test: 500, labelled: 400 })
    const plan = planOf(config, new Map())
    expect(plan.find((s) => s.id === 'pretrain')!.lines[0]).toMatch(/^5 epochs × 32 steps = 160 steps/)
    expect(plan.find((s) => s.id === 'evaluate')!.lines.join(' ')).toMatch(/the sample \(train \/ test\), drawn when the run is created/)
  })
})

describe('train on this dataset', () => {
  it('sets the draft’s dataset and splits, keeps the rest, and drops a subset of another dataset', () => {
    const draft = structuredClone(
      RunConfigSchema.parse({ name: 'mine', pretrain: { epochs: 7 }, finetune: { enabled: true, labelled: { kind: 'subset', id: 'sub-1' } } })
    ) as unknown as Record<string, unknown>
    // The form's draft is reactive: a proxy structuredClone would refuse.
    const next = withDataset(reactive(draft), listed('places', [split('train', 90), split('val', 10)]))
    const c = parseRunConfig(next)
    expect(c.dataset).toEqual({ kind: 'dataset', id: 'places', trainSplit: 'train', testSplit: 'val' })
    expect(c).toMatchObject({ name: 'mine', pretrain: { epochs: 7 }, finetune: { enabled: true, labelled: { kind: 'fraction', value: 0.2 } } })
    expect((draft.dataset as { id: string }).id).toBe(SAMPLE_ID)
  })

  it('picks labelled splits: test, else val, else the training split', () => {
    expect(defaultSplits({ splits: [split('train', 5), split('val', 2), split('test', 2)] })).toEqual({ trainSplit: 'train', testSplit: 'test' })
    expect(defaultSplits({ splits: [split('train', 5), split('test', 0), split('val', 2)] })).toEqual({ trainSplit: 'train', testSplit: 'val' })
    expect(defaultSplits({ splits: [split('train', 5), split('test', 3, false)] })).toEqual({ trainSplit: 'train', testSplit: 'train' })
  })
})
