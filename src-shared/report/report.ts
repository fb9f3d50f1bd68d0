// The exported results report: one self-contained HTML file (inline CSS, SVG charts, PNG data
// URLs; no scripts and no external requests), a Markdown file with its images beside it, and
// the tables as CSV and JSON. Pure functions over data the host gathers, so the app, the web
// host and `quarterturn export --report` produce the same report.
import type { RunDetail, MetricRecord } from '../contract/runs'
import { buildResultsTable, diffText, tableFootnote, tableToCsv, tableToMarkdown, uncertaintyText, type ResultsTable } from '../results-table'
import { htmlText as esc, markdownCode, markdownText as mdText } from './escape'
import { svgLineChart, svgScatter, type Series } from './svg'
import { runPretextSaturation, saturationWarning } from '../pretext-saturation'

export const REPORT_SECTIONS = ['tables', 'curves', 'previews', 'perclass', 'maps', 'configs'] as const
export type ReportSection = (typeof REPORT_SECTIONS)[number]

export interface PreviewImage {
  className: string
  views: { rotation: number; png: string; probs: number[] }[]
}

export interface ReportRun {
  detail: RunDetail
  metrics: MetricRecord[]
  previews?: PreviewImage[]
}

export interface ReportMap {
  runId: string
  title: string
  xy: ArrayLike<number>
  labels: ArrayLike<number>
  classNames: string[]
}

export interface ReportInput {
  title: string
  question: string
  runs: ReportRun[]
  baselineId: string | null
  sections: ReportSection[]
  maps?: ReportMap[]
  generatedAt: string
  appVersion: string
}

export interface ReportOutput {
  html: string
  markdown: string
  /** Files the Markdown refers to (relative names), e.g. SVG charts and PNG previews. */
  files: { name: string; content: string | Uint8Array }[]
  table: ResultsTable
  csv: string
  json: string
}

/** Flatten a config to dotted keys. */
export function flatten(v: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    for (const [k, x] of Object.entries(v)) flatten(x, prefix ? `${prefix}.${k}` : k, out)
  } else {
    out[prefix] = JSON.stringify(v)
  }
  return out
}

/** Keys whose values are not the same in every run. */
export function differingKeys(configs: Record<string, unknown>[]): string[] {
  const flat = configs.map((c) => flatten(c))
  const keys = new Set(flat.flatMap((f) => Object.keys(f)))
  return [...keys].filter((k) => new Set(flat.map((f) => f[k] ?? '(unset)')).size > 1).sort()
}

const CURVE_METRICS: { key: string; label: string }[] = [
  { key: 'loss', label: 'loss' },
  { key: 'acc_rot', label: 'rotation accuracy' }
]

function curves(r: ReportRun): { name: string; svg: string }[] {
  const out: { name: string; svg: string }[] = []
  for (const stage of [...new Set(r.metrics.map((m) => String(m.stage)))]) {
    const recs = r.metrics.filter((m) => m.stage === stage)
    const series: Series[] = CURVE_METRICS.filter((c) => recs.some((m) => typeof m[c.key] === 'number')).map((c) => ({
      name: c.label,
      points: recs.map((m) => [Number(m.step), Number(m[c.key])] as [number, number])
    }))
    if (!series.length) continue
    out.push({ name: `${stage}`, svg: svgLineChart(series, { title: `${r.detail.name}: ${stage}`, xLabel: 'step', yLabel: 'value' }) })
  }
  return out
}

const fmt = (v: number | null | undefined, digits = 2): string => (v == null ? '' : v.toFixed(digits))

export function buildReport(input: ReportInput): ReportOutput {
  const has = (s: ReportSection): boolean => input.sections.includes(s)
  const summaries = input.runs.map((r) => ({ ...r.detail, evaluations: r.detail.evaluations }))
  const table = buildResultsTable(summaries, input.baselineId)
  const files: ReportOutput['files'] = []
  const html: string[] = []
  const md: string[] = []
  const slug = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, '-')

  html.push(`<h1>${esc(input.title)}</h1>`, `<p class="q">${esc(input.question)}</p>`)
  md.push(`# ${mdText(input.title)}`, '', mdText(input.question), '')
  html.push('<h2>Runs compared</h2><ul>')
  md.push('## Runs compared', '')
  for (const r of input.runs) {
    const d = r.detail
    const init = (d.config as { backbone?: { init?: { kind?: string; path?: string } } }).backbone?.init
    const line = `${d.name} — ${d.method}, ${d.status.state}, backend ${d.status.backend ?? '?'}, ${(d.status.wallMs / 1000).toFixed(0)} s, seed ${String((d.config as { seed?: number }).seed ?? '?')}, config ${d.configHash}${init?.kind === 'file' ? `, backbone from ${init.path}` : ''}${d.id === input.baselineId ? ' (baseline)' : ''}`
    const saturated = runPretextSaturation(r.metrics, d.status)
    const warning = saturated && `Warning: ${saturationWarning(saturated)}`
    html.push(`<li><code>${esc(d.id)}</code>: ${esc(line)}${warning ? `<p class="warn">${esc(warning)}</p>` : ''}</li>`)
    md.push(`- ${markdownCode(d.id)}: ${mdText(line)}`)
    if (warning) md.push(`  - **${mdText(warning)}**`)
  }
  html.push('</ul>')
  md.push('')
  const weights = `Trained weights: quarterturn export-weights <run id> (or the run page's Checkpoints tab) writes a run's backbone as .safetensors in PyTorch's layout: method-spec's module names (_feature_blocks.N.M.weight, .running_mean, ...), conv weights [out, in, kh, kw], linear weights [out, in]; docs/weights.md has the full table.`
  html.push(`<p class="note">${esc(weights)}</p>`)
  md.push(mdText(weights), '')

  if (has('tables')) {
    html.push('<h2>Results (top-1 %)</h2>', resultsHtml(table))
    md.push('## Results (top-1 %)', '', tableToMarkdown(table))
    const grouped = table.rows.filter((r) => r.group)
    if (grouped.length) {
      // The group rows show mean ± sd; each seed's own accuracy is listed too.
      const runs = buildResultsTable(summaries, input.baselineId, { groupSeeds: false })
      html.push(
        '<h3>Runs of each group of seeds</h3>',
        resultsHtml({ ...runs, rows: runs.rows.filter((r) => grouped.some((g) => g.members.some((m) => m.id === r.id))) })
      )
      md.push('### Runs of each group of seeds', '')
      for (const g of grouped)
        for (const c of table.columns) {
          const per = g.members.map((m) => {
            const e = summaries.find((d) => d.id === m.id)?.evaluations.find((x) => `${x.protocol}:${x.dataset}` === c.key)
            return e ? `seed ${m.seed ?? '?'}: ${(e.accuracy * 100).toFixed(1)}` : null
          })
          if (per.some(Boolean)) md.push(`- ${mdText(`${g.name}, ${c.datasetShort} ${c.protocolLabel}: ${per.filter(Boolean).join(', ')}`)}`)
        }
      md.push('')
    }
  }

  if (has('curves')) {
    html.push('<h2>Training curves</h2>')
    md.push('## Training curves', '')
    for (const r of input.runs)
      for (const c of curves(r)) {
        const name = `curve-${slug(r.detail.id)}-${slug(c.name)}.svg`
        files.push({ name, content: c.svg })
        html.push(`<figure>${c.svg}<figcaption>${esc(r.detail.name)}, ${esc(c.name)}</figcaption></figure>`)
        md.push(`![${mdText(`${r.detail.name}, ${c.name}`)}](${name})`, '')
      }
  }

  if (has('previews')) {
    html.push('<h2>Rotation previews</h2>')
    md.push('## Rotation previews', '')
    for (const r of input.runs) {
      if (!r.previews?.length) continue
      html.push(`<h3>${esc(r.detail.name)}</h3><div class="previews">`)
      md.push(`### ${mdText(r.detail.name)}`, '')
      r.previews.forEach((img, i) => {
        html.push(`<div class="img"><div class="cls">${esc(img.className)}</div>`)
        const cells: string[] = []
        for (const v of img.views) {
          const predicted = v.probs.indexOf(Math.max(...v.probs))
          const ok = predicted === v.rotation
          html.push(
            `<figure class="${ok ? 'ok' : 'bad'}"><img src="${esc(v.png)}" alt="rotation ${v.rotation * 90}°" width="64" height="64"/><figcaption>${v.rotation * 90}°: p=${fmt(v.probs[v.rotation], 2)} ${ok ? '✓' : `✗ (${predicted * 90}°)`}</figcaption></figure>`
          )
          const name = `preview-${slug(r.detail.id)}-${i}-${v.rotation}.png`
          files.push({ name, content: dataUrlBytes(v.png) })
          cells.push(`![${v.rotation * 90}°](${name}) ${v.rotation * 90}° p=${fmt(v.probs[v.rotation], 2)}${ok ? '' : ' ✗'}`)
        }
        html.push('</div>')
        md.push(`- ${mdText(img.className)}: ${cells.join(' · ')}`)
      })
      html.push('</div>')
      md.push('')
    }
  }

  if (has('maps') && input.maps?.length) {
    html.push('<h2>Feature maps</h2>')
    md.push('## Feature maps', '')
    input.maps.forEach((m, i) => {
      const svg = svgScatter(m.xy, m.labels, m.classNames, { title: m.title })
      const name = `map-${i}.svg`
      files.push({ name, content: svg })
      html.push(`<figure>${svg}<figcaption>${esc(m.title)}</figcaption></figure>`)
      md.push(`![${mdText(m.title)}](${name})`, '')
    })
  }

  if (has('perclass')) {
    html.push('<h2>Per-class accuracy (%)</h2>')
    md.push('## Per-class accuracy (%)', '')
    for (const r of input.runs)
      for (const e of r.detail.evaluations) {
        html.push(
          `<h3>${esc(r.detail.name)}: ${esc(e.protocol)} on ${esc(e.dataset)}</h3><table class="perclass"><tr>${e.classNames.map((c) => `<th>${esc(c)}</th>`).join('')}</tr><tr>${e.perClass.map((v) => `<td>${fmt(v * 100, 1)}</td>`).join('')}</tr></table>`
        )
        md.push(
          `### ${mdText(`${r.detail.name}: ${e.protocol} on ${e.dataset}`)}`,
          '',
          `| ${e.classNames.map(mdText).join(' | ')} |`,
          `|${e.classNames.map(() => '---:').join('|')}|`,
          `| ${e.perClass.map((v) => fmt(v * 100, 1)).join(' | ')} |`,
          ''
        )
      }
  }

  if (has('configs')) {
    // The body says what differs between the runs (a key per row, a run per column, "name" left
    // out since every run has its own); each run's full config and provenance go to an appendix
    // at the end, so a printed report reads as results first, not as pages of settings.
    const diff = differingKeys(input.runs.map((r) => r.detail.config)).filter((k) => k !== 'name')
    const flats = input.runs.map((r) => flatten(r.detail.config))
    html.push('<h2>Configuration differences</h2>')
    md.push('## Configuration differences', '')
    if (!diff.length || input.runs.length < 2) {
      const text =
        input.runs.length < 2
          ? 'One run: its full configuration is in the appendix.'
          : 'The runs share every setting but their names; the full configuration is in the appendix.'
      html.push(`<p>${esc(text)}</p>`)
      md.push(mdText(text), '')
    } else {
      html.push(
        `<table class="config-diff"><thead><tr><th>setting</th>${input.runs.map((r) => `<th>${esc(r.detail.name)}</th>`).join('')}</tr></thead><tbody>` +
          diff.map((k) => `<tr><td><code>${esc(k)}</code></td>${flats.map((f) => `<td>${esc(f[k] ?? '(unset)')}</td>`).join('')}</tr>`).join('') +
          '</tbody></table>',
        '<p class="note">Only the settings that differ between the runs; every run’s full configuration is in the appendix.</p>'
      )
      md.push(`| setting | ${input.runs.map((r) => mdText(r.detail.name)).join(' | ')} |`, `|---|${input.runs.map(() => '---').join('|')}|`)
      for (const k of diff) md.push(`| ${markdownCode(k)} | ${flats.map((f) => mdText(f[k] ?? '(unset)')).join(' | ')} |`)
      md.push('', 'Only the settings that differ between the runs; every run’s full configuration is in the appendix.', '')
    }
    html.push('<section class="appendix"><h2>Appendix: full configurations</h2>', '<p>Settings that differ between the runs are highlighted.</p>')
    md.push('## Appendix: full configurations', '')
    for (const [i, r] of input.runs.entries()) {
      const d = r.detail
      const flat = flats[i]!
      html.push(`<h3>${esc(d.name)} <code>${esc(d.id)}</code></h3>`)
      html.push(
        `<p>versions: ${esc(
          Object.entries(d.versions)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')
        )}; backend ${esc(d.status.backend ?? '?')}; wall time ${(d.status.wallMs / 1000).toFixed(1)} s</p>`
      )
      html.push(
        `<p>data: ${d.dataFingerprints.map((f) => `${esc(f.label)} ${esc(f.split)} (${f.images} images, sha256 ${f.sha256.slice(0, 16)}…)`).join('; ') || 'not recorded'}</p>`
      )
      html.push(
        '<table class="config">' +
          Object.entries(flat)
            .map(([k, v]) => `<tr${diff.includes(k) ? ' class="diff"' : ''}><td>${esc(k)}</td><td>${esc(v)}</td></tr>`)
            .join('') +
          '</table>'
      )
      md.push(
        `### ${mdText(d.name)} ${markdownCode(d.id)}`,
        '',
        mdText(
          `versions: ${Object.entries(d.versions)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}; backend ${d.status.backend ?? '?'}; wall time ${(d.status.wallMs / 1000).toFixed(1)} s`
        ),
        ''
      )
      for (const f of d.dataFingerprints) md.push(`- data ${mdText(`${f.label} ${f.split}`)}: ${f.images} images, sha256 ${markdownCode(f.sha256)}`)
      // JSON.stringify writes every line after the first indented or as a bracket, with newlines
      // inside strings as \n, so nothing in the config can close the fence early.
      md.push('', '```json', JSON.stringify(d.config, null, 2), '```', '')
    }
    html.push('</section>')
  }

  const style = `body{font-family:system-ui,sans-serif;max-width:1000px;margin:24px auto;padding:0 16px;color:#1d1f23}
h1{font-size:24px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd}h3{font-size:15px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child,th:first-child{text-align:left}
.warn{color:#8a4b00;background:#fff4e0;border-left:3px solid #d98a00;padding:4px 8px;margin:4px 0}
tr.baseline td{background:#f1f4fb}.rel,.ci{color:#555;font-size:11px}td.noise{color:#666}th.group{text-align:center}.note{font-size:11px;color:#555}tr.diff td{background:#fff3c4}
.previews{display:flex;flex-direction:column;gap:6px}.img{display:flex;gap:8px;align-items:center}.cls{width:90px}
figure{margin:4px}figure.bad figcaption{color:#b3261e}figure.ok figcaption{color:#1f7a3d}figcaption{font-size:11px}
img{image-rendering:pixelated}code{font-size:12px}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}.appendix{break-before:page}figure,table{break-inside:avoid}}`
  const doc = `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>${esc(input.title)}</title><style>${style}</style></head>
<body>
${html.join('\n')}
<footer><p>Generated by Quarterturn ${esc(input.appVersion)} on ${esc(input.generatedAt)}.</p></footer>
</body></html>
`
  return {
    html: doc,
    markdown: md.join('\n') + `\n_${mdText(`Generated by Quarterturn ${input.appVersion} on ${input.generatedAt}.`)}_\n`,
    files,
    table,
    csv: tableToCsv(table),
    json: JSON.stringify(
      { table, runs: input.runs.map((r) => ({ id: r.detail.id, name: r.detail.name, evaluations: r.detail.evaluations, summaries: r.detail.summaries })) },
      null,
      2
    )
  }
}

/** The results table as HTML: a dataset header row over its protocols, intervals, ≈ and bold best, and the footnote. */
function resultsHtml(t: ResultsTable): string {
  const head1 = t.groups
    .map(
      (g) =>
        `<th colspan="${g.keys.length}" class="group" title="${esc(g.dataset)}">${esc(g.datasetShort)}${g.transfer ? ' <span class="rel">(transfer)</span>' : ''}</th>`
    )
    .join('')
  const head2 = t.columns.map((c) => `<th>${esc(c.protocolLabel)}</th>`).join('')
  const rows = t.rows.map((row) => {
    const cells = t.columns.map((c) => {
      const cell = row.cells[c.key]
      if (!cell) return '<td></td>'
      const v = cell.value.toFixed(1)
      const diffs = [diffText(row, c.key, 'rel'), diffText(row, c.key, 'pts')].filter(Boolean).join(', ')
      return `<td${row.noise[c.key] ? ' class="noise"' : ''}>${row.noise[c.key] ? '≈ ' : ''}${row.best[c.key] ? `<strong>${v}</strong>` : v} <span class="ci">${esc(uncertaintyText(cell))}</span>${diffs ? ` <span class="rel">(${esc(diffs)})</span>` : ''}</td>`
    })
    const label = `${esc(row.name)}${row.group ? ` (${row.members.length} seeds)` : ''}${row.isBaseline ? ' (baseline)' : ''}`
    return `<tr${row.isBaseline ? ' class="baseline"' : ''}><td>${label}</td>${cells.join('')}</tr>`
  })
  return `<table class="results"><thead><tr><th rowspan="2">model</th>${head1}</tr><tr>${head2}</tr></thead><tbody>${rows.join('')}</tbody></table><p class="note">${esc(tableFootnote(t))}</p>`
}

function dataUrlBytes(url: string): Uint8Array {
  const b64 = url.slice(url.indexOf(',') + 1)
  const bin = atob(b64)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}
