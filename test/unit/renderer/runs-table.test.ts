// The runs table's model: one column per evaluation (protocol × dataset, pretraining dataset
// first), active runs (queued, running, paused) on top whatever the sort, missing values last,
// and filters by text, state, method and tag.
import { describe, expect, it } from 'vitest'
import type { RunSummary } from '../../../src-shared/contract'
import { evalKey, evaluationColumns, matches, parseTags, sortRuns } from '../../../src-renderer/src/lib/runs-table'
import { runStatus } from '../../helpers/run-status'

const LABEL = 'sample (10 classes, 32px, seed 1)'

function run(name: string, state: RunSummary['status']['state'], acc: Record<string, number>, extra: Partial<RunSummary> = {}): RunSummary {
  return {
    id: `id-${name}`,
    name,
    method: 'rotnet',
    preset: null,
    configHash: '',
    status: runStatus({ state, backend: null, createdAt: `2026-01-01T00:00:0${name.length}Z`, wallMs: 0 }),
    evaluations: Object.entries(acc).map(([k, accuracy]) => {
      const [protocol, dataset] = k.split('@') as ['linear' | 'knn', string]
      return {
        id: k,
        protocol,
        dataset,
        transfer: dataset !== LABEL,
        layer: 'conv5',
        accuracy,
        perClass: [],
        confusion: [],
        classNames: [],
        trainImages: 1,
        testImages: 1
      }
    }),
    ...extra
  }
}

describe('runs table', () => {
  it('has a column per protocol × dataset, the pretraining dataset first', () => {
    const cols = evaluationColumns([run('a', 'done', { [`knn@${LABEL}`]: 0.5, 'linear@cifar': 0.3 }), run('b', 'done', { [`linear@${LABEL}`]: 0.6 })])
    expect(cols.map((c) => c.label)).toEqual(['linear · sample', 'knn · sample', 'linear · cifar'])
    expect(cols[0]!.title).toBe(`linear on ${LABEL}`)
  })

  it('keeps queued, running and paused runs on top, and runs without the value last', () => {
    const key = evalKey('linear', LABEL)
    const runs = [
      run('done-low', 'done', { [`linear@${LABEL}`]: 0.2 }),
      run('paused', 'paused', {}),
      run('done-high', 'done', { [`linear@${LABEL}`]: 0.9 }),
      run('failed', 'failed', {}),
      run('running', 'running', { [`linear@${LABEL}`]: 0.1 })
    ]
    expect(sortRuns(runs, key, -1).map((r) => r.name)).toEqual(['running', 'paused', 'done-high', 'done-low', 'failed'])
    expect(sortRuns(runs, key, 1).map((r) => r.name)).toEqual(['running', 'paused', 'done-low', 'done-high', 'failed'])
  })

  it('filters by text (name, tags, notes), state, method and tag', () => {
    const a = run('alpha', 'done', {}, { tags: ['baseline'], notes: 'lr too high' })
    const b = run('bravo', 'failed', {}, { method: 'simclr' })
    const f = { text: '', state: '', method: '', tag: '' }
    expect([a, b].filter((r) => matches(r, { ...f, text: 'LR TOO' }))).toEqual([a])
    expect([a, b].filter((r) => matches(r, { ...f, text: 'basel' }))).toEqual([a])
    expect([a, b].filter((r) => matches(r, { ...f, state: 'failed' }))).toEqual([b])
    expect([a, b].filter((r) => matches(r, { ...f, method: 'simclr' }))).toEqual([b])
    expect([a, b].filter((r) => matches(r, { ...f, tag: 'baseline' }))).toEqual([a])
    expect(parseTags(' baseline, lr sweep,,baseline ')).toEqual(['baseline', 'lr sweep'])
  })
})
