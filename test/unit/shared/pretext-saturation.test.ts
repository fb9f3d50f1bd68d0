// A run whose rotation accuracy saturates within its first epoch is flagged (the pretext task may
// be solvable from a low-level cue); one that learns rotation over the epoch, or has one lucky
// batch, is not. The same check serves the pipeline's log, the run page and the report.
import { describe, expect, it } from 'vitest'
import { pretextSaturation, runPretextSaturation, saturationWarning } from '../../../src-shared/pretext-saturation'
import type { MetricRecord, RunDetail } from '../../../src-shared/contract/runs'
import { buildReport } from '../../../src-shared/report/report'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { selectBackend } from '../../../src-engine/backends'
import { runPipeline } from '../../../src-engine/pipeline'
import { parseRunConfig } from '../../../src-shared/config/run'
import { generateSampleDataset } from '../../../src-shared/sample-dataset'
import type { ImageSet } from '../../../src-shared/image-set'
import { cuedSample } from '../../helpers/cued-sample'
import { runStatus } from '../../helpers/run-status'

const STEPS = 60

/** Pretraining records: `acc(step in epoch, epoch)` for each step of `epochs` epochs. */
function records(acc: (i: number, epoch: number) => number, epochs = 2, metric = 'acc_rot'): MetricRecord[] {
  const out: MetricRecord[] = []
  for (let e = 0; e < epochs; e++)
    for (let i = 0; i < STEPS; i++) out.push({ stage: 'pretrain', epoch: e, step: e * STEPS + i + 1, loss: 1 - acc(i, e), [metric]: acc(i, e) })
  return out
}

// A cue: solved in three steps, as the old sample's ground band was.
const cue = (i: number): number => (i < 2 ? 0.25 + 0.3 * i : i === 2 ? 0.985 : 1)
// Learning from shape: from chance to about 0.95 over the first epoch, 0.99 in the second.
const learnt = (i: number, e: number): number => (e === 0 ? 0.25 + 0.7 * (i / (STEPS - 1)) : 0.99)

describe('pretext saturation', () => {
  it('flags a rotation accuracy that saturates within the first epoch', () => {
    const s = pretextSaturation(records(cue))
    expect(s).toMatchObject({ metric: 'acc_rot', firstStep: 3, steps: STEPS })
    expect(s!.accuracy).toBeGreaterThanOrEqual(0.98)
    expect(saturationWarning(s!)).toMatch(/the pretext task may be solvable from a low-level cue/)
    expect(saturationWarning(s!)).toMatch(/acc_rot.*100\.0%.*step 3/)
  })

  it('does not flag rotation learnt over the epoch, nor one lucky batch', () => {
    expect(pretextSaturation(records(learnt))).toBeNull()
    expect(pretextSaturation(records((i) => (i === 50 ? 1 : 0.8)))).toBeNull()
    // Saturating in the second epoch is ordinary learning.
    expect(pretextSaturation(records((i, e) => (e === 0 ? 0.7 : 1)))).toBeNull()
  })

  it('waits for the first epoch to end', () => {
    const firstOnly = records(cue, 1)
    expect(pretextSaturation(firstOnly.slice(0, 30))).toBeNull()
    expect(pretextSaturation(firstOnly)).toBeNull()
    expect(pretextSaturation(firstOnly, { epochOver: true })).not.toBeNull()
    // A recorded run knows its first epoch ended when it left pretraining or finished.
    expect(runPretextSaturation(firstOnly, { state: 'running', stage: 'pretrain' })).toBeNull()
    expect(runPretextSaturation(firstOnly, { state: 'paused', stage: 'pretrain' })).toBeNull()
    expect(runPretextSaturation(firstOnly, { state: 'running', stage: 'evaluate' })).not.toBeNull()
    expect(runPretextSaturation(firstOnly, { state: 'done', stage: null })).not.toBeNull()
  })

  it('reads thinned metrics, and ignores runs without a pretext accuracy', () => {
    const thinned = records(cue, 3).filter((_, k) => k % 7 === 0)
    expect(pretextSaturation(thinned)).toMatchObject({ metric: 'acc_rot' })
    expect(pretextSaturation(records(cue, 2, 'acc_contrastive'))).toBeNull()
    // Fine-tuning accuracy is not a pretext accuracy.
    expect(pretextSaturation(records(cue).map((r) => ({ ...r, stage: 'finetune' })))).toBeNull()
    expect(pretextSaturation([])).toBeNull()
  })
})

describe('the report', () => {
  const detail = (id: string, name: string): RunDetail =>
    ({
      id,
      name,
      method: 'rotnet',
      preset: null,
      configHash: 'abc123',
      status: runStatus(),
      evaluations: [],
      config: { name, seed: 1 },
      versions: {},
      datasets: [],
      checkpoints: [],
      log: [],
      summaries: {},
      dataFingerprints: []
    }) as RunDetail

  it('warns under a run whose pretext accuracy saturated in its first epoch, and only that run', () => {
    const out = buildReport({
      title: 't',
      question: 'q',
      runs: [
        { detail: detail('run-cue', 'on a cue'), metrics: records(cue, 1) },
        { detail: detail('run-shape', 'on shape'), metrics: records(learnt, 1) }
      ],
      baselineId: null,
      sections: ['tables'],
      generatedAt: 'now',
      appVersion: '0'
    })
    const item = (id: string): string => out.html.slice(out.html.indexOf(`<code>${id}</code>`)).split('</li>')[0]!
    expect(item('run-cue')).toMatch(/class="warn">Warning: Pretext accuracy \(acc_rot\).*the pretext task may be solvable from a low-level cue/)
    expect(item('run-shape')).not.toMatch(/warn/)
    expect(out.markdown).toMatch(/run-cue`: on a cue[^\n]*\n {2}- \*\*Warning: Pretext accuracy/)
    expect(out.markdown.match(/low-level cue/g)).toHaveLength(1)
  })
})

describe('the pipeline', () => {
  /** One pretraining epoch of 40 steps on `set`, no evaluation; the warnings it logged. */
  async function warnings(set: ImageSet): Promise<string[]> {
    await selectBackend('wasm')
    const config = parseRunConfig({
      backend: 'wasm',
      dataset: { kind: 'dataset', id: 'set' },
      backbone: { arch: 'alexnet32', width: 0.0625 },
      pretrain: { epochs: 1, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } },
      evaluation: { linear: { enabled: false }, knn: { enabled: false } }
    })
    const out: string[] = []
    const emit = (e: Parameters<Parameters<typeof runPipeline>[1]['emit']>[0]): void => void (e.type === 'log' && e.level === 'warn' && out.push(e.message))
    await runPipeline(config, { runDir: mkdtempSync(path.join(tmpdir(), 'qt-saturation-')), emit, control: () => null, readRegistered: async () => set })
    return out
  }

  it('logs the warning at the end of the first epoch when a border cue gives rotation away, and not on the sample', async () => {
    expect(await warnings(cuedSample({ perClass: 40, size: 32, seed: 4 }))).toEqual([
      expect.stringMatching(/^Pretext accuracy \(acc_rot\) was already .* the pretext task may be solvable from a low-level cue/)
    ])
    expect(await warnings(generateSampleDataset({ perClass: 40, size: 32, seed: 4 }))).toEqual([])
  }, 120_000)
})
