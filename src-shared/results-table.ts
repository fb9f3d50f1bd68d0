// Results tables shaped like the seed's Table 1 / Table 2: one row per run (model) or per group
// of runs repeated with different seeds, one column per evaluation (protocol on a dataset, the
// columns grouped by dataset), accuracies in percent with their uncertainty, and an optional
// pinned baseline row against which every cell gets a relative improvement and a difference in
// points. Shared by the CLI export, the Compare view and the report, so all three print the
// same numbers.
//
// Uncertainty: a single run's accuracy carries its number of test images n and a 95 % Wilson
// score interval; a group carries mean ± sample sd over its seeds and a 95 % t interval of the
// mean. Every cell is compared with a reference (the baseline when one is pinned, else the best
// row of its column) and marked "within noise" by NOISE_RULE.
import type { RunSummary } from './contract/runs'
import { csvCell, latexText, markdownText } from './report/escape'
import { mean, sampleSd, studentTwoSidedP, welch, wilson } from './stats'

export interface ResultsColumn {
  key: string
  protocol: string
  /** The dataset's full label (e.g. "sample (10 classes, 64px, seed 1)"). */
  dataset: string
  /** The label up to its first parenthesis ("sample"): headers show it, tooltips the full one. */
  datasetShort: string
  transfer: boolean
  /** "linear", "kNN", … */
  protocolLabel: string
  /** Dataset and protocol in one: CSV headers. */
  label: string
}

/** Columns of one dataset, for a grouped header (dataset → linear / kNN). */
export interface ResultsColumnGroup {
  dataset: string
  datasetShort: string
  transfer: boolean
  keys: string[]
}

/** One accuracy with its uncertainty, in percent. */
export interface ResultsCell {
  /** The run's accuracy, or the mean over a group's runs. */
  value: number
  /** Test images of one run (the largest where a group's runs differ). */
  n: number
  /** 95 % interval: Wilson for a run, the t interval of the mean for a group. */
  ciLow: number
  ciHigh: number
  /** Sample standard deviation over the group's runs; null for a single run. */
  sd: number | null
  /** Runs behind the value (1 for a single run). */
  seeds: number
  /** Each run's accuracy. */
  samples: number[]
}

export interface ResultsMember {
  id: string
  name: string
  seed: number | null
}

export interface ResultsRow {
  /** The run's id, or the group's id for a group of seeds. */
  id: string
  name: string
  method: string
  /** The group's id where the row stands for several runs. */
  group: string | null
  /** The runs behind the row (one for a single run). */
  members: ResultsMember[]
  /** Accuracy (mean for a group) in percent per column key (null where there is no such evaluation). */
  values: Record<string, number | null>
  cells: Record<string, ResultsCell | null>
  /** Relative improvement over the baseline in percent, per column key. */
  relative: Record<string, number | null>
  /** Difference to the baseline in percentage points, per column key. */
  delta: Record<string, number | null>
  /** Whether the difference to the column's reference row is inside the noise (null for the reference itself). */
  noise: Record<string, boolean | null>
  /** Whether the row has the highest value of the column. */
  best: Record<string, boolean>
  isBaseline: boolean
}

export interface ResultsTable {
  columns: ResultsColumn[]
  groups: ResultsColumnGroup[]
  rows: ResultsRow[]
  /** What "within noise" compares with: the pinned baseline, or each column's best row. */
  reference: 'baseline' | 'best'
}

export interface ResultsTableOptions {
  /** Fold runs that share a group id into one row (default true). */
  groupSeeds?: boolean
}

/** The rule behind ResultsRow.noise, in words for legends and footnotes. */
export const NOISE_RULE =
  '≈ marks a difference inside the noise: for two single runs, their 95 % Wilson intervals overlap; for two groups of seeds, a Welch t-test gives p > 0.05; for a group against a single run, the run’s Wilson interval overlaps the group’s mean ± sd.'

const PROTOCOL_ORDER = ['finetune', 'linear', 'nonlinear', 'knn']
const PROTOCOL_LABEL: Record<string, string> = { finetune: 'fine-tuned', linear: 'linear', nonlinear: 'non-linear', knn: 'kNN' }

export const shortDatasetLabel = (label: string): string => label.replace(/\s+\(.*$/, '').trim() || label

type Summary = RunSummary & { group?: string | null; seed?: number | null }

/** 97.5 % quantile of Student's t with `df` degrees of freedom, by bisection on the p-value. */
function t975(df: number): number {
  let lo = 0
  let hi = 1000
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2
    if (studentTwoSidedP(mid, df) > 0.05) lo = mid
    else hi = mid
  }
  return (lo + hi) / 2
}

function cellOf(evals: { accuracy: number; testImages: number }[]): ResultsCell | null {
  if (!evals.length) return null
  const samples = evals.map((e) => e.accuracy * 100)
  const n = Math.max(...evals.map((e) => e.testImages))
  if (evals.length === 1) {
    const w = wilson(evals[0]!.accuracy, evals[0]!.testImages)
    return { value: samples[0]!, n, ciLow: w.low * 100, ciHigh: w.high * 100, sd: null, seeds: 1, samples }
  }
  const m = mean(samples)
  const sd = sampleSd(samples)
  const half = (t975(samples.length - 1) * sd) / Math.sqrt(samples.length)
  return { value: m, n, ciLow: Math.max(0, m - half), ciHigh: Math.min(100, m + half), sd, seeds: samples.length, samples }
}

/** Whether two cells differ by less than their noise (NOISE_RULE). */
export function withinNoise(a: ResultsCell, b: ResultsCell): boolean {
  if (a.seeds > 1 && b.seeds > 1) return welch(a.samples, b.samples).p > 0.05
  const range = (c: ResultsCell): [number, number] => (c.seeds > 1 ? [c.value - c.sd!, c.value + c.sd!] : [c.ciLow, c.ciHigh])
  const [al, ah] = range(a)
  const [bl, bh] = range(b)
  return al <= bh && bl <= ah
}

/** A row's name, with the end of its id when another row in the table has the same name. */
function uniqueNames(rows: { id: string; name: string }[]): string[] {
  return rows.map((r) => (rows.some((o) => o.id !== r.id && o.name === r.name) ? `${r.name} (${r.id.split('-').at(-1)})` : r.name))
}

export function buildResultsTable(runs: Summary[], baselineId: string | null = null, opts: ResultsTableOptions = {}): ResultsTable {
  const cols = new Map<string, ResultsColumn>()
  for (const r of runs)
    for (const e of r.evaluations) {
      const key = `${e.protocol}:${e.dataset}`
      const protocolLabel = PROTOCOL_LABEL[e.protocol] ?? e.protocol
      if (!cols.has(key))
        cols.set(key, {
          key,
          protocol: e.protocol,
          dataset: e.dataset,
          datasetShort: shortDatasetLabel(e.dataset),
          transfer: e.transfer,
          protocolLabel,
          label: `${e.dataset} ${protocolLabel}`
        })
    }
  const columns = [...cols.values()].sort(
    (a, b) =>
      Number(a.transfer) - Number(b.transfer) || a.dataset.localeCompare(b.dataset) || PROTOCOL_ORDER.indexOf(a.protocol) - PROTOCOL_ORDER.indexOf(b.protocol)
  )
  const groups: ResultsColumnGroup[] = []
  for (const c of columns) {
    const last = groups.at(-1)
    if (last && last.dataset === c.dataset && last.transfer === c.transfer) last.keys.push(c.key)
    else groups.push({ dataset: c.dataset, datasetShort: c.datasetShort, transfer: c.transfer, keys: [c.key] })
  }

  // Runs of one group (two or more of them here) become one row, placed where the first one was.
  const units: { id: string; group: string | null; runs: Summary[] }[] = []
  for (const r of runs) {
    const g = opts.groupSeeds === false ? null : (r.group ?? null)
    const same = g ? units.find((u) => u.group === g) : undefined
    if (same) same.runs.push(r)
    else units.push({ id: r.id, group: g, runs: [r] })
  }
  for (const u of units) if (u.group && u.runs.length > 1) u.id = u.group
  for (const u of units) if (u.runs.length === 1) u.group = null

  // A sweep's points are told apart by their values ("rfd lambdaMse=0.5"), not by id tails.
  const pointText = (r: Summary): string => (r.sweep ? r.sweep.point.map((p) => ` ${p.path.split('.').at(-1)}=${+p.value.toPrecision(6)}`).join('') : '')
  const names = uniqueNames(units.map((u) => ({ id: u.id, name: u.runs[0]!.name + pointText(u.runs[0]!) })))
  const rows: ResultsRow[] = units.map((u, i) => {
    const cells: Record<string, ResultsCell | null> = {}
    for (const c of columns) cells[c.key] = cellOf(u.runs.flatMap((r) => r.evaluations.filter((x) => `${x.protocol}:${x.dataset}` === c.key)))
    return {
      id: u.id,
      name: names[i]!,
      method: u.runs[0]!.method,
      group: u.group,
      members: u.runs.map((r) => ({ id: r.id, name: r.name, seed: r.seed ?? null })),
      values: Object.fromEntries(columns.map((c) => [c.key, cells[c.key]?.value ?? null])),
      cells,
      relative: {},
      delta: {},
      noise: {},
      best: {},
      isBaseline: u.id === baselineId
    }
  })

  const base = rows.find((r) => r.isBaseline)
  for (const c of columns) {
    const present = rows.filter((r) => r.cells[c.key])
    const top = Math.max(...present.map((r) => r.values[c.key]!))
    const reference = base ?? present.find((r) => r.values[c.key] === top)
    for (const r of rows) {
      const v = r.values[c.key]
      const b = base?.values[c.key]
      r.relative[c.key] = v != null && b != null && b > 0 && !r.isBaseline ? ((v - b) / b) * 100 : null
      r.delta[c.key] = v != null && b != null && !r.isBaseline ? v - b : null
      r.best[c.key] = v != null && present.length > 1 && v === top
      const rc = reference?.cells[c.key]
      r.noise[c.key] = r.cells[c.key] && rc && r !== reference ? withinNoise(r.cells[c.key]!, rc) : null
    }
  }
  return { columns, groups, rows, reference: base ? 'baseline' : 'best' }
}

// ---- text exports ---------------------------------------------------------------------------

export interface ExportOptions {
  /** How a row's difference to the baseline reads: relative gain in percent, or percentage points. */
  diff?: 'rel' | 'pts'
}

const f1 = (v: number): string => v.toFixed(1)
const signed = (v: number): string => `${v >= 0 ? '+' : '-'}${f1(Math.abs(v))}`

/** "+4.4 % rel." or "+2.9 pts": what a cell's difference to the baseline says, and in which unit. */
export function diffText(row: ResultsRow, key: string, diff: 'rel' | 'pts'): string {
  const v = diff === 'rel' ? row.relative[key] : row.delta[key]
  return v == null ? '' : diff === 'rel' ? `${signed(v)} % rel.` : `${signed(v)} pts`
}

/** "65.8 [61.5, 69.8]" for a run (95 % Wilson), "65.8 ± 2.1" for a group (sd over seeds). */
export function uncertaintyText(c: ResultsCell): string {
  return c.sd != null ? `± ${f1(c.sd)}` : `[${f1(c.ciLow)}, ${f1(c.ciHigh)}]`
}

/** Test images per column's dataset, for the footnote ("n = 500", or "n = 9–500" where runs differ). */
function testImagesByDataset(t: ResultsTable): string[] {
  return t.groups.map((g) => {
    const ns = t.rows.flatMap((r) => g.keys.map((k) => r.cells[k]?.n).filter((n): n is number => n != null))
    const lo = Math.min(...ns)
    const hi = Math.max(...ns)
    return `${g.dataset}${g.datasetShort !== g.dataset ? ` (“${g.datasetShort}”)` : ''}: n = ${lo === hi ? lo : `${lo}–${hi}`} test images`
  })
}

/** The footnote under a Markdown or LaTeX table: units, intervals, the noise rule, the datasets. */
export function tableFootnote(t: ResultsTable, o: ExportOptions = {}): string {
  const diff = o.diff ?? 'rel'
  const parts = [
    'Top-1 accuracy (%). [a, b]: 95 % Wilson score interval of a single run; ± : standard deviation over the seeds of a group (its number of seeds in parentheses).',
    t.rows.some((r) => r.isBaseline)
      ? diff === 'rel'
        ? 'rel.: relative improvement over the baseline, in percent of its accuracy.'
        : 'pts: difference to the baseline in percentage points.'
      : '',
    `${NOISE_RULE} Compared with ${t.reference === 'baseline' ? 'the baseline' : 'the best row of each column'}.`,
    'Bold: best per column.',
    `Datasets: ${testImagesByDataset(t).join('; ')}.`
  ]
  return parts.filter(Boolean).join(' ')
}

export function tableToCsv(t: ResultsTable): string {
  const head = [
    'run',
    'method',
    ...t.columns.flatMap((c) => [
      c.label,
      `${c.label} n`,
      `${c.label} ci_low`,
      `${c.label} ci_high`,
      `${c.label} sd`,
      `${c.label} seeds`,
      `${c.label} relative %`,
      `${c.label} delta pts`,
      `${c.label} within noise`
    ])
  ]
  const lines = [head.map((h) => csvCell(h)).join(',')]
  for (const r of t.rows) {
    // Numbers go in as numbers: a negative relative difference is data, not text to defuse.
    const vals = t.columns.flatMap((c) => {
      const cell = r.cells[c.key]
      const noise = r.noise[c.key]
      return [
        csvCell(cell?.value, 2),
        csvCell(cell?.n),
        csvCell(cell?.ciLow, 2),
        csvCell(cell?.ciHigh, 2),
        csvCell(cell?.sd ?? null, 2),
        csvCell(cell?.seeds),
        csvCell(r.relative[c.key], 2),
        csvCell(r.delta[c.key], 2),
        csvCell(noise == null ? null : Number(noise))
      ]
    })
    lines.push([csvCell(r.name + (r.isBaseline ? ' (baseline)' : '')), csvCell(r.method), ...vals].join(','))
  }
  return lines.join('\n') + '\n'
}

/** A row's name as an export shows it: "(baseline)", and a group's number of seeds. */
function rowLabel(r: ResultsRow): string {
  return `${r.name}${r.group ? ` (${r.members.length} seeds)` : ''}${r.isBaseline ? ' (baseline)' : ''}`
}

// The numeric cells are digits, '.', '+', '−', '±', '%', '≈', brackets, commas and spaces, which
// mean nothing inside a Markdown table cell (no '|'), so only names and labels are escaped.
export function tableToMarkdown(t: ResultsTable, o: ExportOptions = {}): string {
  const diff = o.diff ?? 'rel'
  const cell = (r: ResultsRow, key: string): string => {
    const c = r.cells[key]
    if (!c) return ''
    const v = r.best[key] ? `**${f1(c.value)}**` : f1(c.value)
    const d = diffText(r, key, diff)
    return `${r.noise[key] ? '≈ ' : ''}${v} ${uncertaintyText(c)}${d ? ` (${d})` : ''}`
  }
  // Markdown has one header row: each column names its dataset (short) and protocol.
  const head = `| model | ${t.columns.map((c) => markdownText(`${c.datasetShort}: ${c.protocolLabel}`)).join(' | ')} |`
  const sep = `|---|${t.columns.map(() => '---:').join('|')}|`
  const body = t.rows.map((r) => `| ${markdownText(rowLabel(r))} | ${t.columns.map((c) => cell(r, c.key)).join(' | ')} |`)
  return [head, sep, ...body, '', markdownText(tableFootnote(t, o))].join('\n') + '\n'
}

/**
 * A booktabs table (\usepackage{booktabs}): a dataset header row spanning its protocols with a
 * \cmidrule under each, the best value per column in bold, and the footnote below.
 */
export function tableToLatex(t: ResultsTable, o: ExportOptions = {}): string {
  const diff = o.diff ?? 'rel'
  const cell = (r: ResultsRow, key: string): string => {
    const c = r.cells[key]
    if (!c) return ''
    const v = r.best[key] ? `\\textbf{${f1(c.value)}}` : f1(c.value)
    const u = c.sd != null ? `$\\pm$ ${f1(c.sd)}` : `{[}${f1(c.ciLow)}, ${f1(c.ciHigh)}{]}`
    const d = r[diff === 'rel' ? 'relative' : 'delta'][key]
    const dt = d == null ? '' : ` (${d >= 0 ? '+' : '$-$'}${f1(Math.abs(d))}${diff === 'rel' ? '\\,\\% rel.' : ' pts'})`
    return `${r.noise[key] ? '$\\approx$ ' : ''}${v} ${u}${dt}`
  }
  let at = 2
  const spans = t.groups.map((g) => {
    const from = at
    at += g.keys.length
    return { g, from, to: at - 1 }
  })
  const lines = [
    '% Requires \\usepackage{booktabs}.',
    `\\begin{tabular}{l${'r'.repeat(t.columns.length)}}`,
    '\\toprule',
    ` & ${spans.map((s) => `\\multicolumn{${s.g.keys.length}}{c}{${latexText(s.g.datasetShort)}${s.g.transfer ? ' (transfer)' : ''}}`).join(' & ')} \\\\`,
    spans.map((s) => `\\cmidrule(lr){${s.from}-${s.to}}`).join(' '),
    `Model & ${t.columns.map((c) => latexText(c.protocolLabel)).join(' & ')} \\\\`,
    '\\midrule',
    ...t.rows.map((r) => `${latexText(rowLabel(r))} & ${t.columns.map((c) => cell(r, c.key)).join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}',
    `{\\footnotesize ${latexText(tableFootnote(t, o)).replace(/±/g, '$\\pm$').replace(/≈/g, '$\\approx$')}\\par}`
  ]
  return lines.join('\n') + '\n'
}
