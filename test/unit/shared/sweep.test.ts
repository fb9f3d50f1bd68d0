// Grid sweeps (src-shared/sweep.ts): parsing `--set path=values`, expanding a grid over a resolved
// config into one checked config per run (grid order, seeds together), the problems that stop a
// sweep before any run exists (each naming the point and the field), the cap on runs, and the
// table that folds finished runs back into one row per point with mean ± sd.
import { describe, expect, it } from 'vitest'
import { parseRunConfig } from '../../../src-shared/config/run'
import type { RunSummary } from '../../../src-shared/contract/runs'
import { buildResultsTable } from '../../../src-shared/results-table'
import { mean, sampleSd } from '../../../src-shared/stats'
import {
  MAX_SWEEP_RUNS,
  parseSetArg,
  parseValueList,
  planSweep,
  sweepLabel,
  sweepRunCount,
  sweepShapeError,
  sweepTable,
  sweepTableText,
  valueAt,
  withValueAt,
  type PlannedRun
} from '../../../src-shared/sweep'
import { runStatus } from '../../helpers/run-status'

const rfd = parseRunConfig({ name: 'rfd-sweep', seed: 4, pretrain: { method: { method: 'rfd' }, schedule: { kind: 'constant', lr: 0.05 } } })
const runsOf = (plan: ReturnType<typeof planSweep>): PlannedRun[] => {
  if ('error' in plan) throw new Error(plan.error)
  return plan.runs
}

describe('parsing', () => {
  it('reads value lists and --set arguments, and says what is wrong otherwise', () => {
    expect(parseValueList('0.5,1,2')).toEqual({ values: [0.5, 1, 2] })
    expect(parseValueList(' 1e-3 3e-3; 0.01 ')).toEqual({ values: [0.001, 0.003, 0.01] })
    expect(parseValueList('1,x')).toEqual({ error: '“x” is not a number' })
    expect(parseValueList('1,1.0')).toEqual({ error: '1.0 appears twice' })
    expect(parseValueList('')).toMatchObject({ error: expect.stringMatching(/list of numbers/) })
    expect(parseSetArg('pretrain.method.lambdaMse=0.5,1,2')).toEqual({ path: 'pretrain.method.lambdaMse', values: [0.5, 1, 2] })
    expect(parseSetArg('seed=0,1')).toEqual({ path: 'seed', values: [0, 1] })
    expect(parseSetArg('lambda')).toMatchObject({ error: expect.stringMatching(/path=values/) })
    expect(parseSetArg('a..b=1')).toMatchObject({ error: expect.stringMatching(/not a setting path/) })
    expect(parseSetArg('pretrain.batchSize=8,big')).toEqual({ error: '--set pretrain.batchSize: “big” is not a number' })
  })

  it('reads and replaces values at a path without touching the original', () => {
    const o = { a: { b: 1, c: { d: 2 } }, e: 3 }
    const p = withValueAt(o, 'a.c.d', 9)
    expect(valueAt(p, 'a.c.d')).toBe(9)
    expect(valueAt(o, 'a.c.d')).toBe(2)
    expect(p.a.b).toBe(1)
    expect(p.e).toBe(3)
    expect(valueAt(o, 'a.x.y')).toBeUndefined()
  })
})

describe('planSweep', () => {
  it('expands a 2 × 3 grid crossed with two seeds in grid order, each config checked and otherwise the base', () => {
    const axes = [
      { path: 'pretrain.method.lambdaMse', values: [0.5, 2] },
      { path: 'pretrain.schedule.lr', values: [0.01, 0.03, 0.1] }
    ]
    const runs = runsOf(planSweep(rfd, axes, [0, 7], 's-1'))
    expect(runs).toHaveLength(12)
    expect(sweepRunCount(axes, [0, 7])).toBe(12)
    expect(runs.map((r) => [r.sweep.index, r.config.seed])).toEqual([1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6].map((p, i) => [p, i % 2 ? 7 : 0]))
    const at = (i: number): PlannedRun => runs[i]!
    expect(at(0).sweep.point).toEqual([
      { path: 'pretrain.method.lambdaMse', value: 0.5 },
      { path: 'pretrain.schedule.lr', value: 0.01 }
    ])
    expect(at(11).sweep.point.map((p) => p.value)).toEqual([2, 0.1])
    for (const r of runs) {
      const [l, lr] = r.sweep.point.map((p) => p.value)
      expect(r.config.pretrain.method).toMatchObject({ method: 'rfd', lambdaMse: l })
      expect(r.config.pretrain.schedule).toEqual({ kind: 'constant', lr })
      // Everything else is the base config's.
      expect({ ...r.config, seed: 4, pretrain: rfd.pretrain }).toEqual(rfd)
      expect(r.sweep).toMatchObject({
        id: 's-1',
        points: 6,
        label: 'pretrain.method.lambdaMse ∈ {0.5, 2} × pretrain.schedule.lr ∈ {0.01, 0.03, 0.1} × seeds 0, 7'
      })
      // A point's seeds share a group (their mean ± sd is the point's row).
      expect(r.group).toBe(`s-1-p${r.sweep.index}`)
    }
    // The base is not changed.
    expect(rfd.pretrain.method).toMatchObject({ lambdaMse: 1 })
  })

  it('keeps the base seed and makes no groups without seeds', () => {
    const runs = runsOf(planSweep(rfd, [{ path: 'pretrain.batchSize', values: [8, 16] }], null, 's-2'))
    expect(runs.map((r) => [r.config.pretrain.batchSize, r.config.seed, r.group])).toEqual([
      [8, 4, undefined],
      [16, 4, undefined]
    ])
    expect(runs[0]!.sweep.label).toBe('pretrain.batchSize ∈ {8, 16}')
  })

  it('names the grid point and the field of a value the schema refuses, and creates nothing', () => {
    const plan = planSweep(
      rfd,
      [
        { path: 'pretrain.method.lambdaMse', values: [1, -1] },
        { path: 'pretrain.batchSize', values: [8, 1] }
      ],
      null,
      's-3'
    )
    expect('runs' in plan).toBe(false)
    const error = (plan as { error: string }).error
    expect(error).toMatch(/^Sweep: no runs created\. /)
    expect(error).toContain('grid point 2 of 4 (pretrain.method.lambdaMse=1, pretrain.batchSize=1): pretrain.batchSize:')
    expect(error).toContain('grid point 3 of 4 (pretrain.method.lambdaMse=-1, pretrain.batchSize=8): pretrain.method.lambdaMse:')
    expect(error).toContain('grid point 4 of 4')
    expect(error).not.toContain('grid point 1 ')
  })

  it('refuses settings that are not numeric settings of the config, with a suggestion', () => {
    expect(planSweep(rfd, [{ path: 'pretrain.method.lambdaMSE', values: [1] }], null, 's')).toEqual({
      error: 'Sweep: pretrain.method.lambdaMSE is not a setting of this config; did you mean pretrain.method.lambdaMse?'
    })
    // tau belongs to SimCLR, not to this RFD config.
    expect(planSweep(rfd, [{ path: 'pretrain.method.tau', values: [0.1] }], null, 's')).toMatchObject({
      error: expect.stringMatching(/not a setting of this config/)
    })
    expect(planSweep(rfd, [{ path: 'name', values: [1] }], null, 's')).toEqual({
      error: 'Sweep: name is a string setting; a sweep varies numeric settings only.'
    })
    expect(planSweep(rfd, [{ path: 'pretrain.hflip', values: [1] }], null, 's')).toMatchObject({ error: expect.stringMatching(/boolean setting/) })
  })

  it('caps the number of runs and checks the shape of the grid', () => {
    const many = Array.from({ length: 9 }, (_, i) => i + 1)
    const axes = [
      { path: 'pretrain.batchSize', values: many.map((v) => v * 8) },
      { path: 'pretrain.schedule.lr', values: many.map((v) => v / 100) }
    ]
    expect(sweepRunCount(axes, null)).toBe(81)
    expect(planSweep(rfd, axes, null, 's')).toEqual({
      error: `Sweep: 9 × 9 = 81 runs, more than the ${MAX_SWEEP_RUNS} one sweep may create; use fewer values or seeds.`
    })
    expect(sweepShapeError([axes[0]!], [0, 1, 2, 3, 4, 5, 6, 7])).toMatch(/9 × 8 seeds = 72 runs/)
    expect(sweepShapeError([axes[0]!], [0, 1, 2, 3, 4, 5, 6])).toBeNull()
    expect(sweepShapeError([], null)).toMatch(/at least one setting/)
    expect(sweepShapeError([axes[0]!, axes[1]!, { path: 'seed', values: [1] }], null)).toMatch(/at most 2 settings/)
    expect(sweepShapeError([axes[0]!, axes[0]!], null)).toMatch(/pretrain.batchSize is named twice/)
    expect(sweepShapeError([{ path: 'seed', values: [1, 2] }], null)).toMatch(/seeds are not a grid setting/)
    expect(sweepShapeError([axes[0]!], [1, 1])).toMatch(/each seed once/)
    expect(sweepLabel([{ path: 'x', values: [1 / 3] }], [5])).toBe('x ∈ {0.333333}')
  })
})

describe('sweepTable', () => {
  it('folds finished runs into one row per point with mean ± sd over seeds, and fills in as runs finish', () => {
    const runs = runsOf(
      planSweep(
        rfd,
        [
          { path: 'pretrain.method.lambdaMse', values: [0.5, 2] },
          { path: 'pretrain.schedule.lr', values: [0.01, 0.1] }
        ],
        [0, 1, 2],
        's-9'
      )
    )
    const acc = (i: number): number => 0.3 + i * 0.01
    const summaries: RunSummary[] = runs.map((r, i) => ({
      id: `r${i}`,
      name: 'rfd-sweep',
      method: 'rfd',
      preset: null,
      configHash: 'h',
      // The last point's last seed is still running; its second seed failed.
      status: runStatus({ state: i === 11 ? 'running' : i === 10 ? 'failed' : 'done' }),
      evaluations:
        i >= 10
          ? []
          : [
              {
                id: 'linear:sample',
                protocol: 'linear',
                dataset: 'sample',
                transfer: false,
                layer: 'conv4',
                accuracy: acc(i),
                perClass: [],
                confusion: [],
                classNames: [],
                trainImages: 100,
                testImages: 50
              }
            ],
      group: r.group ?? null,
      seed: r.config.seed,
      sweep: r.sweep
    }))
    const other: RunSummary = { ...summaries[0]!, id: 'x', sweep: { ...summaries[0]!.sweep!, id: 's-other' } }
    const t = sweepTable([other, ...summaries], 's-9')!
    expect(t.axes).toEqual(['pretrain.method.lambdaMse', 'pretrain.schedule.lr'])
    expect(t.columns.map((c) => c.key)).toEqual(['linear:sample'])
    expect(t.rows.map((r) => [r.index, r.point.map((p) => p.value), r.runs, r.done])).toEqual([
      [1, [0.5, 0.01], 3, 3],
      [2, [0.5, 0.1], 3, 3],
      [3, [2, 0.01], 3, 3],
      [4, [2, 0.1], 3, 1]
    ])
    const pts = [0, 1, 2].map((i) => acc(3 + i) * 100)
    expect(t.rows[1]!.cells['linear:sample']!.mean).toBeCloseTo(mean(pts), 10)
    expect(t.rows[1]!.cells['linear:sample']!.sd).toBeCloseTo(sampleSd(pts), 10)
    expect(t.rows[3]!.cells['linear:sample']).toEqual({ mean: acc(9) * 100, sd: 0, n: 1 })
    const text = sweepTableText(t)
    expect(text[0]).toMatch(/^lambdaMse +lr +runs +sample linear %$/)
    expect(text[3]).toMatch(/^0\.5 +0\.1 +3\/3 +34\.00 ± 1\.00$/)
    expect(text[5]).toMatch(/^2 +0\.1 +1\/3 +39\.00$/)
    expect(sweepTable(summaries, 'nope')).toBeNull()
    // Results tables (Compare, export) name a point's row by its values.
    expect(buildResultsTable(summaries).rows.map((r) => [r.name, r.members.length])).toEqual([
      ['rfd-sweep lambdaMse=0.5 lr=0.01', 3],
      ['rfd-sweep lambdaMse=0.5 lr=0.1', 3],
      ['rfd-sweep lambdaMse=2 lr=0.01', 3],
      ['rfd-sweep lambdaMse=2 lr=0.1', 3]
    ])
  })
})
