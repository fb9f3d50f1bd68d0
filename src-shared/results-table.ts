// Results tables shaped like the seed's Table 1 / Table 2: one row per run (model), one column
// per evaluation (protocol on a dataset), accuracies in percent, and an optional pinned baseline
// row against which every cell gets a relative improvement ("+31.3% relative"). Shared by the
// CLI export, the Compare view and the report, so all three print the same numbers.
import type { RunSummary } from './contract/runs'
import { csvCell, latexText, markdownText } from './report/escape'

export interface ResultsColumn {
  key: string
  protocol: string
  dataset: string
  transfer: boolean
  label: string
}

export interface ResultsRow {
  id: string
  name: string
  method: string
  /** Accuracy in percent per column key (null where the run has no such evaluation). */
  values: Record<string, number | null>
  /** Relative improvement over the baseline in percent, per column key. */
  relative: Record<string, number | null>
  isBaseline: boolean
}

export interface ResultsTable {
  columns: ResultsColumn[]
  rows: ResultsRow[]
}

const PROTOCOL_ORDER = ['finetune', 'linear', 'nonlinear', 'knn']
const PROTOCOL_LABEL: Record<string, string> = { finetune: 'fine-tuned', linear: 'linear', nonlinear: 'non-linear', knn: 'kNN' }

/** A run's name, with the end of its id when another run in the table has the same name. */
function uniqueName(r: RunSummary, runs: RunSummary[]): string {
  return runs.some((o) => o.id !== r.id && o.name === r.name) ? `${r.name} (${r.id.split('-').at(-1)})` : r.name
}

export function buildResultsTable(runs: RunSummary[], baselineId: string | null = null): ResultsTable {
  const cols = new Map<string, ResultsColumn>()
  for (const r of runs)
    for (const e of r.evaluations) {
      const key = `${e.protocol}:${e.dataset}`
      if (!cols.has(key)) cols.set(key, { key, protocol: e.protocol, dataset: e.dataset, transfer: e.transfer, label: `${e.dataset} ${PROTOCOL_LABEL[e.protocol] ?? e.protocol}` })
    }
  const columns = [...cols.values()].sort(
    (a, b) => Number(a.transfer) - Number(b.transfer) || a.dataset.localeCompare(b.dataset) || PROTOCOL_ORDER.indexOf(a.protocol) - PROTOCOL_ORDER.indexOf(b.protocol)
  )
  const valuesOf = (r: RunSummary): Record<string, number | null> =>
    Object.fromEntries(columns.map((c) => [c.key, (() => {
      const e = r.evaluations.find((x) => `${x.protocol}:${x.dataset}` === c.key)
      return e ? e.accuracy * 100 : null
    })()]))
  const base = runs.find((r) => r.id === baselineId)
  const baseValues = base ? valuesOf(base) : null
  const rows = runs.map((r) => {
    const values = valuesOf(r)
    const relative = Object.fromEntries(
      columns.map((c) => {
        const v = values[c.key]
        const b = baseValues?.[c.key]
        return [c.key, v != null && b != null && b > 0 && r.id !== baselineId ? ((v - b) / b) * 100 : null]
      })
    )
    return { id: r.id, name: uniqueName(r, runs), method: r.method, values, relative, isBaseline: r.id === baselineId }
  })
  return { columns, rows }
}

const pct = (v: number | null): string => (v == null ? '' : v.toFixed(2))
const rel = (v: number | null): string => (v == null ? '' : `${v >= 0 ? '+' : ''}${v.toFixed(1)}%`)

function cell(row: ResultsRow, key: string, withRelative: boolean): string {
  const v = pct(row.values[key] ?? null)
  const r = rel(row.relative[key] ?? null)
  return withRelative && r ? `${v} (${r})` : v
}

export function tableToCsv(t: ResultsTable): string {
  const head = ['run', 'method', ...t.columns.flatMap((c) => [c.label, `${c.label} relative %`])]
  const lines = [head.map((h) => csvCell(h)).join(',')]
  for (const r of t.rows) {
    // Numbers go in as numbers: a negative relative difference is data, not text to defuse.
    const vals = t.columns.flatMap((c) => [csvCell(r.values[c.key], 2), csvCell(r.relative[c.key], 2)])
    lines.push([csvCell(r.name + (r.isBaseline ? ' (baseline)' : '')), csvCell(r.method), ...vals].join(','))
  }
  return lines.join('\n') + '\n'
}

// The numeric cells (cell() above) are digits, '.', '+', '-', '%', parentheses and spaces, which
// mean nothing inside a Markdown table cell, so only the names and labels are escaped.
export function tableToMarkdown(t: ResultsTable): string {
  const head = `| model | ${t.columns.map((c) => markdownText(c.label)).join(' | ')} |`
  const sep = `|---|${t.columns.map(() => '---:').join('|')}|`
  const body = t.rows.map((r) => `| ${markdownText(r.name)}${r.isBaseline ? ' (baseline)' : ''} | ${t.columns.map((c) => cell(r, c.key, true)).join(' | ')} |`)
  return [head, sep, ...body].join('\n') + '\n'
}

export function tableToLatex(t: ResultsTable): string {
  const lines = [
    `\\begin{tabular}{l${'r'.repeat(t.columns.length)}}`,
    '\\hline',
    `Model & ${t.columns.map((c) => latexText(c.label)).join(' & ')} \\\\`,
    '\\hline',
    ...t.rows.map((r) => `${latexText(r.name)}${r.isBaseline ? ' (baseline)' : ''} & ${t.columns.map((c) => latexText(cell(r, c.key, true))).join(' & ')} \\\\`),
    '\\hline',
    '\\end{tabular}'
  ]
  return lines.join('\n') + '\n'
}
