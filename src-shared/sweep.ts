// Grid sweeps: one or two numeric settings of a run config, each addressed by its path
// ("pretrain.method.lambdaMse") with a list of values, optionally crossed with seeds. A sweep is
// expanded here into one config per run, every one checked with the run config schema before any
// run exists, and the finished runs are folded back into one row per grid point (mean ± sd over
// its seeds). Pure: the host's runs.createSweep, `quarterturn sweep` and the New-run form share it.
import { closest, parseRunConfig, type RunConfig } from './config/run'
import { MAX_AXIS_VALUES, SweepAxisSchema, type RunSummary, type RunSweep, type SweepAxis } from './contract/runs'
import { buildResultsTable, type ResultsColumn } from './results-table'
import { mean, sampleSd } from './stats'

/** Most runs one sweep may create (grid points × seeds). */
export const MAX_SWEEP_RUNS = 64
export const MAX_SWEEP_AXES = 2
export { MAX_AXIS_VALUES }
export type { RunSweep, SweepAxis }

/** A list of numbers as typed: "0.5,1,2", "1e-3 3e-3"; or why it is not one. */
export function parseValueList(text: string): { values: number[] } | { error: string } {
  const parts = text
    .trim()
    .split(/[\s,;]+/)
    .filter(Boolean)
  if (!parts.length) return { error: 'give a list of numbers like 0.5,1,2' }
  const values: number[] = []
  for (const p of parts) {
    const v = Number(p)
    if (!Number.isFinite(v)) return { error: `“${p}” is not a number` }
    if (values.includes(v)) return { error: `${p} appears twice` }
    values.push(v)
  }
  if (values.length > MAX_AXIS_VALUES) return { error: `at most ${MAX_AXIS_VALUES} values, got ${values.length}` }
  return { values }
}

/** `--set path=v1,v2,...` as an axis, or why it is not one. */
export function parseSetArg(arg: string): { path: string; values: number[] } | { error: string } {
  const eq = arg.indexOf('=')
  if (eq <= 0) return { error: `--set ${arg}: write it as path=values, e.g. pretrain.method.lambdaMse=0.5,1,2` }
  const path = arg.slice(0, eq).trim()
  if (!SweepAxisSchema.shape.path.safeParse(path).success) return { error: `--set ${arg}: "${path}" is not a setting path like pretrain.method.lambdaMse` }
  const list = parseValueList(arg.slice(eq + 1))
  if ('error' in list) return { error: `--set ${path}: ${list.error}` }
  return { path, values: list.values }
}

/** The value at a dotted path of a config, or undefined. */
export function valueAt(obj: unknown, path: string): unknown {
  let cur = obj
  for (const k of path.split('.')) {
    if (!cur || typeof cur !== 'object' || Array.isArray(cur)) return undefined
    cur = (cur as Record<string, unknown>)[k]
  }
  return cur
}

/** The numeric settings of a resolved config a sweep may vary, as dotted paths in the config's order (not the seed, not list items). */
export function numericPaths(config: unknown, prefix = ''): string[] {
  if (!config || typeof config !== 'object' || Array.isArray(config)) return []
  return Object.entries(config).flatMap(([k, v]) => {
    const path = prefix ? `${prefix}.${k}` : k
    if (typeof v === 'number') return path === 'seed' ? [] : [path]
    return numericPaths(v, path)
  })
}

/** A copy of `obj` with the value at `path` replaced (the path's objects are copied, the rest shared). */
export function withValueAt<T>(obj: T, path: string, value: unknown): T {
  const [head, ...rest] = path.split('.')
  const o = (obj ?? {}) as Record<string, unknown>
  return { ...o, [head!]: rest.length ? withValueAt(o[head!], rest.join('.'), value) : value } as T
}

const shortNum = (v: number): string => String(+v.toPrecision(6))

/** What a sweep varies, in words (its group label). */
export function sweepLabel(axes: readonly SweepAxis[], seeds: readonly number[] | null): string {
  const parts = axes.map((a) => `${a.path} ∈ {${a.values.map(shortNum).join(', ')}}`)
  if (seeds && seeds.length > 1) parts.push(`seeds ${seeds.join(', ')}`)
  return parts.join(' × ')
}

/** Runs a sweep makes: grid points × seeds (one run per point without seeds). */
export function sweepRunCount(axes: readonly { values: readonly unknown[] }[], seeds: readonly number[] | null): number {
  return axes.reduce((n, a) => n * a.values.length, 1) * Math.max(1, seeds?.length ?? 1)
}

/** A sweep's shape problem (axes, count), or null when it is fine; the values themselves are checked by planSweep. */
export function sweepShapeError(axes: readonly SweepAxis[], seeds: readonly number[] | null): string | null {
  if (!axes.length) return 'Sweep: choose at least one setting to vary.'
  if (axes.length > MAX_SWEEP_AXES) return `Sweep: at most ${MAX_SWEEP_AXES} settings vary at once, got ${axes.length}.`
  const paths = axes.map((a) => a.path)
  const dup = paths.find((p, i) => paths.indexOf(p) !== i)
  if (dup) return `Sweep: ${dup} is named twice; give all its values in one list.`
  if (paths.includes('seed')) return 'Sweep: seeds are not a grid setting; give them as the seeds to repeat each point with.'
  if (seeds && new Set(seeds).size !== seeds.length) return `Sweep: each seed once, got ${seeds.join(', ')}.`
  const n = sweepRunCount(axes, seeds)
  if (n > MAX_SWEEP_RUNS)
    return `Sweep: ${axes.map((a) => a.values.length).join(' × ')}${seeds && seeds.length > 1 ? ` × ${seeds.length} seeds` : ''} = ${n} runs, more than the ${MAX_SWEEP_RUNS} one sweep may create; use fewer values or seeds.`
  return null
}

export interface PlannedRun {
  config: RunConfig
  /** The point's group of seeds (absent with one seed per point). */
  group?: string
  sweep: RunSweep
}

/**
 * Every run of a sweep over a resolved (complete) base config, each config checked with the run
 * config schema; or the problems (each naming the grid point and the field), in which case no run
 * is to be created. Points are in grid order (the first setting slowest), each point's seeds together.
 */
export function planSweep(
  base: RunConfig,
  axes: readonly SweepAxis[],
  seeds: readonly number[] | null,
  id: string
): { runs: PlannedRun[] } | { error: string } {
  const shape = sweepShapeError(axes, seeds)
  if (shape) return { error: shape }
  for (const a of axes) {
    const v = valueAt(base, a.path)
    if (v === undefined) {
      const parent = a.path.includes('.') ? valueAt(base, a.path.slice(0, a.path.lastIndexOf('.'))) : base
      const known = parent && typeof parent === 'object' ? Object.keys(parent) : []
      const near = closest(a.path.split('.').at(-1)!, known)
      return {
        error: `Sweep: ${a.path} is not a setting of this config${near ? `; did you mean ${a.path.replace(/[^.]+$/, near)}?` : known.length ? ` (settings there: ${known.join(', ')}).` : '.'}`
      }
    }
    if (typeof v !== 'number') return { error: `Sweep: ${a.path} is a ${Array.isArray(v) ? 'list' : typeof v} setting; a sweep varies numeric settings only.` }
  }
  let points: { path: string; value: number }[][] = [[]]
  for (const a of axes) points = points.flatMap((p) => a.values.map((value) => [...p, { path: a.path, value }]))
  const seedList = seeds && seeds.length ? [...seeds] : [base.seed]
  const label = sweepLabel(axes, seeds)
  const runs: PlannedRun[] = []
  const errors: string[] = []
  for (const [i, point] of points.entries()) {
    const where = point.map((p) => `${p.path}=${shortNum(p.value)}`).join(', ')
    let raw: unknown = base
    for (const p of point) raw = withValueAt(raw, p.path, p.value)
    for (const seed of seedList) {
      let config: RunConfig
      try {
        config = parseRunConfig({ ...(raw as object), seed })
      } catch (err) {
        errors.push(
          `grid point ${i + 1} of ${points.length} (${where}${seedList.length > 1 ? `, seed ${seed}` : ''}): ${(err as Error).message.replace(/^Invalid run config: /, '')}`
        )
        break
      }
      const sweep: RunSweep = { id, label, index: i + 1, points: points.length, point }
      runs.push({ config, sweep, ...(seedList.length > 1 ? { group: `${id}-p${i + 1}` } : {}) })
    }
  }
  if (errors.length)
    return { error: `Sweep: no runs created. ${errors.slice(0, 3).join('; ')}${errors.length > 3 ? `; and ${errors.length - 3} more points` : ''}.` }
  return { runs }
}

/** Mean ± sample sd (percent) of one column over a point's finished runs. */
export interface SweepCell {
  mean: number
  sd: number
  n: number
}

export interface SweepRow {
  index: number
  point: { path: string; value: number }[]
  /** Runs of the point, and how many have finished (done). */
  runs: number
  done: number
  /** Per column key; null where no run of the point has that evaluation yet. */
  cells: Record<string, SweepCell | null>
}

export interface SweepTable {
  id: string
  label: string
  axes: string[]
  columns: ResultsColumn[]
  rows: SweepRow[]
  /** Grid points of the sweep (rows are only those with a run still in the workspace). */
  points: number
}

/** Sweeps among the runs, newest first: id and label. */
export function sweepsOf(runs: readonly RunSummary[]): { id: string; label: string }[] {
  const out = new Map<string, string>()
  for (const r of runs) if (r.sweep && !out.has(r.sweep.id)) out.set(r.sweep.id, r.sweep.label)
  return [...out].map(([id, label]) => ({ id, label }))
}

/** One row per grid point of a sweep: its values and the mean ± sd over its finished runs' accuracies. */
export function sweepTable(all: readonly RunSummary[], id: string): SweepTable | null {
  const runs = all.filter((r) => r.sweep?.id === id)
  const first = runs[0]?.sweep
  if (!first) return null
  const columns = buildResultsTable([...runs], null, { groupSeeds: false }).columns
  const byPoint = new Map<number, RunSummary[]>()
  for (const r of runs) byPoint.set(r.sweep!.index, [...(byPoint.get(r.sweep!.index) ?? []), r])
  const rows = [...byPoint]
    .sort((a, b) => a[0] - b[0])
    .map(([index, members]): SweepRow => {
      const done = members.filter((m) => m.status.state === 'done')
      const cells: Record<string, SweepCell | null> = {}
      for (const c of columns) {
        const accs = done.flatMap((m) => m.evaluations.filter((e) => e.id === c.key).map((e) => e.accuracy * 100))
        cells[c.key] = accs.length ? { mean: mean(accs), sd: sampleSd(accs), n: accs.length } : null
      }
      return { index, point: members[0]!.sweep!.point, runs: members.length, done: done.length, cells }
    })
  return { id, label: first.label, axes: first.point.map((p) => p.path), columns, rows, points: first.points }
}

/** "65.80 ± 2.10" (one run: "65.80"); "—" before any run of the point has finished. */
export function sweepCellText(c: SweepCell | null): string {
  if (!c) return '—'
  return c.n > 1 ? `${c.mean.toFixed(2)} ± ${c.sd.toFixed(2)}` : c.mean.toFixed(2)
}

/** The table as aligned plain text (the CLI's). */
export function sweepTableText(t: SweepTable): string[] {
  const head = [...t.axes.map((a) => a.split('.').at(-1)!), 'runs', ...t.columns.map((c) => `${c.datasetShort} ${c.protocolLabel} %`)]
  const body = t.rows.map((r) => [
    ...r.point.map((p) => shortNum(p.value)),
    `${r.done}/${r.runs}`,
    ...t.columns.map((c) => sweepCellText(r.cells[c.key] ?? null))
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)))
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)]
}
