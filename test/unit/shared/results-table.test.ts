// The results table every export shares: columns per protocol and dataset (grouped by dataset),
// the baseline's relative improvements and differences in points, rows a reader can tell apart
// when two runs share a name, uncertainty (n, Wilson interval; mean ± sd over a group of seeds),
// differences inside the noise marked, and paper-ready LaTeX (booktabs, best in bold).
import { describe, expect, it } from 'vitest'
import { buildResultsTable, tableToCsv, tableToLatex, tableToMarkdown, withinNoise } from '../../../src-shared/results-table'
import type { RunSummary } from '../../../src-shared/contract/runs'

const run = (id: string, name: string, acc: Record<string, number>, extra: { group?: string; seed?: number; n?: number } = {}): RunSummary =>
  ({
    id,
    name,
    method: 'rotnet',
    group: extra.group ?? null,
    seed: extra.seed ?? null,
    evaluations: Object.entries(acc).map(([key, accuracy]) => {
      const [protocol, dataset] = key.split(':')
      return { id: key, protocol, dataset, transfer: dataset !== 'tiny', accuracy, testImages: extra.n ?? 500 }
    })
  }) as unknown as RunSummary

describe('results table', () => {
  const runs = [
    run('20261128-040000-rotnet-aa11', 'RotNet', { 'linear:tiny': 0.3, 'knn:tiny': 0.2 }),
    run('20261128-050000-rotnet-bb22', 'RotNet', { 'linear:tiny': 0.36, 'knn:tiny': 0.2, 'linear:places': 0.25 }),
    run('20261128-060000-rfd-cc33', 'RFD & co_1', { 'linear:tiny': 0.4 })
  ]
  const t = buildResultsTable(runs, runs[0]!.id)

  it('puts the pretraining dataset first, protocols in order, and computes relative improvements and points', () => {
    expect(t.columns.map((c) => c.key)).toEqual(['linear:tiny', 'knn:tiny', 'linear:places'])
    expect(t.groups.map((g) => [g.dataset, g.keys.length])).toEqual([
      ['tiny', 2],
      ['places', 1]
    ])
    expect(t.rows[1]!.relative['linear:tiny']).toBeCloseTo(20, 9)
    expect(t.rows[1]!.delta['linear:tiny']).toBeCloseTo(6, 9)
    expect(t.rows[1]!.relative['knn:tiny']).toBeCloseTo(0, 9)
    expect(t.rows[0]!.relative['linear:tiny']).toBeNull()
    expect(t.rows[2]!.values['knn:tiny']).toBeNull()
  })

  it('gives every accuracy its n and 95 % Wilson interval', () => {
    const c = t.rows[0]!.cells['linear:tiny']!
    expect(c.n).toBe(500)
    // 150 of 500: centre (0.3 + z²/1000) / (1 + z²/500) = 0.30155, half-width 0.04004 (z = 1.96)
    expect(c.ciLow).toBeCloseTo(26.15, 1)
    expect(c.ciHigh).toBeCloseTo(34.16, 1)
    expect(c.sd).toBeNull()
  })

  it('marks differences inside the noise against the baseline', () => {
    // 40 % vs 30 % of 500: [35.8, 44.4] and [26.2, 34.2] do not overlap; 36 % ([31.9, 40.3]) and 20 % vs 20 % do.
    expect(t.rows[2]!.noise['linear:tiny']).toBe(false)
    expect(t.rows[1]!.noise['linear:tiny']).toBe(true)
    expect(t.rows[1]!.noise['knn:tiny']).toBe(true)
    expect(t.rows[0]!.noise['linear:tiny']).toBeNull()
    // With 9 test images, 100 % and 78 % are within each other's noise.
    const small = buildResultsTable([run('a-1', 'a', { 'linear:tiny': 1 }, { n: 9 }), run('b-2', 'b', { 'linear:tiny': 7 / 9 }, { n: 9 })])
    expect(small.reference).toBe('best')
    expect(small.rows[1]!.noise['linear:tiny']).toBe(true)
  })

  it('tells runs of the same name apart by the end of their id, in every format', () => {
    expect(t.rows.map((r) => r.name)).toEqual(['RotNet (aa11)', 'RotNet (bb22)', 'RFD & co_1'])
    const csv = tableToCsv(t).split('\n')
    expect(csv[1]).toMatch(/^RotNet \(aa11\) \(baseline\),rotnet,30\.00,500,26\.\d\d,34\.\d\d,,1,,,,20\.00,500,/)
    expect(csv[2]).toMatch(/^RotNet \(bb22\),rotnet,36\.00,500,31\.\d\d,40\.\d\d,,1,20\.00,6\.00,1,20\.00,500,16\.\d\d,23\.\d\d,,1,0\.00,0\.00,1,25\.00,500,/)
    expect(tableToMarkdown(t)).toMatch(
      /\| RotNet \(bb22\) \| ≈ 36\.0 \[31\.\d, 40\.\d\] \(\+20\.0 % rel\.\) \| ≈ \*\*20\.0\*\* \[16\.\d, 23\.\d\] \(\+0\.0 % rel\.\) \| 25\.0 \[21\.\d, 29\.\d\] \|/
    )
    expect(tableToLatex(t)).toMatch(/RFD \\& co\\_1 & \\textbf\{40\.0\} \{\[\}35\.\d, 44\.\d\{\]\} \(\+33\.3\\,\\% rel\.\) & {2}& {2}\\\\/)
  })

  it('labels the difference as relative, or gives points on request', () => {
    const md = tableToMarkdown(t)
    expect(md).toContain('rel.: relative improvement over the baseline')
    expect(md).not.toMatch(/\+20\.0%/)
    const pts = tableToMarkdown(t, { diff: 'pts' })
    expect(pts).toMatch(/36\.0 \[31\.\d, 40\.\d\] \(\+6\.0 pts\)/)
    expect(pts).toContain('pts: difference to the baseline in percentage points')
    expect(tableToLatex(t, { diff: 'pts' })).toMatch(/\(\+6\.0 pts\)/)
  })

  it('writes LaTeX with booktabs rules, a grouped dataset header and the best value per column in bold', () => {
    const tex = tableToLatex(t).split('\n')
    expect(tex).toContain('\\toprule')
    expect(tex).toContain('\\midrule')
    expect(tex).toContain('\\bottomrule')
    expect(tex).not.toContain('\\hline')
    expect(tex).toContain(' & \\multicolumn{2}{c}{tiny} & \\multicolumn{1}{c}{places (transfer)} \\\\')
    expect(tex).toContain('\\cmidrule(lr){2-3} \\cmidrule(lr){4-4}')
    expect(tex).toContain('Model & linear & kNN & linear \\\\')
    // 40 % is the best linear:tiny; 20 % ties for kNN, so both rows are bold there.
    const rows = tex.filter((l) => l.endsWith(' \\\\') && !l.startsWith(' &') && !l.startsWith('Model'))
    expect(rows).toHaveLength(3)
    expect(rows.map((l) => (l.match(/\\textbf\{/g) ?? []).length)).toEqual([1, 1, 1])
    expect(rows[2]).toContain('\\textbf{40.0}')
    expect(tex.join('\n')).toMatch(/\\footnotesize .*Welch t-test gives p \\textgreater\{\} 0\.05/)
  })

  it('folds a group of seeds into one row with mean ± sd, and compares groups with Welch’s test', () => {
    const seeds = [0.6, 0.62, 0.64].map((a, i) => run(`2026-r-s${i}`, 'RotNet', { 'linear:tiny': a }, { group: 'g-1', seed: i }))
    const other = [0.5, 0.52, 0.54].map((a, i) => run(`2026-x-s${i}`, 'random', { 'linear:tiny': a }, { group: 'g-2', seed: i }))
    const single = run('2026-one-1', 'one run', { 'linear:tiny': 0.61 })
    const g = buildResultsTable([...seeds, single, ...other], 'g-2')
    expect(g.rows.map((r) => [r.id, r.members.length])).toEqual([
      ['g-1', 3],
      ['2026-one-1', 1],
      ['g-2', 3]
    ])
    const c = g.rows[0]!.cells['linear:tiny']!
    expect(c.value).toBeCloseTo(62, 9)
    expect(c.sd).toBeCloseTo(2, 9)
    expect(c.seeds).toBe(3)
    // mean ± t(0.975, 2) · sd / √3 = 62 ± 4.303 · 2 / 1.732
    expect(c.ciLow).toBeCloseTo(62 - 4.968, 2)
    // Welch: t = 10 / √(8/3) = 6.12 on 4 df, p = 0.0036: a real difference.
    expect(g.rows[0]!.noise['linear:tiny']).toBe(false)
    // One run of 61 % on 500 against 50–54 %: its Wilson interval [56.6, 65.2] misses mean ± sd [50, 54].
    expect(g.rows[1]!.noise['linear:tiny']).toBe(false)
    expect(g.rows[2]!.isBaseline).toBe(true)
    const md = tableToMarkdown(g)
    expect(md).toContain('| RotNet (3 seeds) | **62.0** ± 2.0 (+19.2 % rel.) |')
    expect(md).toContain('| random (3 seeds) (baseline) | 52.0 ± 2.0 |')
    const csv = tableToCsv(g).split('\n')
    expect(csv[1]).toMatch(/^RotNet,rotnet,62\.00,500,57\.03,66\.97,2\.00,3,19\.23,10\.00,0$/)
    // The runs of the group, one row each, when asked for.
    expect(buildResultsTable(seeds, null, { groupSeeds: false }).rows).toHaveLength(3)
  })

  it('withinNoise: two groups whose spread covers the gap', () => {
    const cell = (samples: number[]) => ({
      value: samples.reduce((a, b) => a + b) / samples.length,
      n: 500,
      ciLow: 0,
      ciHigh: 100,
      sd: 1,
      seeds: samples.length,
      samples
    })
    expect(withinNoise(cell([60, 62, 64]), cell([59, 61, 66]))).toBe(true)
  })
})
