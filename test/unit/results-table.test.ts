// The results table every export shares: columns per protocol and dataset, the baseline's
// relative improvements, and rows a reader can tell apart when two runs share a name.
import { describe, expect, it } from 'vitest'
import { buildResultsTable, tableToCsv, tableToLatex, tableToMarkdown } from '../../src-shared/results-table'
import type { RunSummary } from '../../src-shared/contract/runs'

const run = (id: string, name: string, acc: Record<string, number>): RunSummary =>
  ({
    id,
    name,
    method: 'rotnet',
    evaluations: Object.entries(acc).map(([key, accuracy]) => {
      const [protocol, dataset] = key.split(':')
      return { id: key, protocol, dataset, transfer: dataset !== 'tiny', accuracy }
    })
  }) as unknown as RunSummary

describe('results table', () => {
  const runs = [
    run('20261128-040000-rotnet-aa11', 'RotNet', { 'linear:tiny': 0.3, 'knn:tiny': 0.2 }),
    run('20261128-050000-rotnet-bb22', 'RotNet', { 'linear:tiny': 0.36, 'knn:tiny': 0.2, 'linear:places': 0.25 }),
    run('20261128-060000-rfd-cc33', 'RFD & co_1', { 'linear:tiny': 0.4 })
  ]
  const t = buildResultsTable(runs, runs[0]!.id)

  it('puts the pretraining dataset first, protocols in order, and computes relative improvements', () => {
    expect(t.columns.map((c) => c.key)).toEqual(['linear:tiny', 'knn:tiny', 'linear:places'])
    expect(t.rows[1]!.relative['linear:tiny']).toBeCloseTo(20, 9)
    expect(t.rows[1]!.relative['knn:tiny']).toBeCloseTo(0, 9)
    expect(t.rows[0]!.relative['linear:tiny']).toBeNull()
    expect(t.rows[2]!.values['knn:tiny']).toBeNull()
  })

  it('tells runs of the same name apart by the end of their id, in every format', () => {
    expect(t.rows.map((r) => r.name)).toEqual(['RotNet (aa11)', 'RotNet (bb22)', 'RFD & co_1'])
    const csv = tableToCsv(t).split('\n')
    expect(csv[1]).toMatch(/^RotNet \(aa11\) \(baseline\),rotnet,30\.00,,20\.00,/)
    expect(csv[2]).toMatch(/^RotNet \(bb22\),rotnet,36\.00,20\.00,20\.00,0\.00,25\.00,$/)
    expect(tableToMarkdown(t)).toContain('| RotNet (bb22) | 36.00 (+20.0%) | 20.00 (+0.0%) | 25.00 |')
    expect(tableToLatex(t)).toContain('RFD \\& co\\_1 & 40.00 (+33.3\\%) &  &  \\\\')
  })
})
