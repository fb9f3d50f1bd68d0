// Names in exports are untrusted text: run names, class names (folder names from disk), dataset
// names and report titles. Each export format has one escaper, and the results table, the report
// and the written report folder use it for every such name: a spreadsheet does not run a name as
// a formula, Markdown keeps its table shape and shows no HTML, and TeX reads no commands.
import { afterAll, describe, expect, it } from 'vitest'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { csvCell, htmlText, latexText, markdownCode, markdownText } from '../../../src-shared/report/escape'
import { buildResultsTable, tableToCsv, tableToLatex, tableToMarkdown } from '../../../src-shared/results-table'
import { buildReport, REPORT_SECTIONS, type ReportRun } from '../../../src-shared/report/report'
import { exportReport } from '../../../src-host/reports/export'
import type { RunsService } from '../../../src-host/runs/service'
import type { RunDetail, RunSummary } from '../../../src-shared/contract/runs'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { runStatus } from '../../helpers/run-status'

afterAll(() => cleanupTmp())

const IMG = '<img src=x onerror=alert(1)>'
const HYPERLINK = '=HYPERLINK("http://x")'
const INPUT = '\\input{/etc/passwd}'

/** RFC 4180 reader: rows of cells. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (c === '"') quoted = false
      else cell += c
    } else if (c === '"') quoted = true
    else if (c === ',' || c === '\n') {
      row.push(cell)
      cell = ''
      if (c === '\n') {
        rows.push(row)
        row = []
      }
    } else cell += c
  }
  if (cell || row.length) rows.push([...row, cell])
  return rows
}

/** The cells of a Markdown table row as GFM splits them: at every `|` not backslash-escaped. */
function markdownCells(line: string): string[] {
  const cells: string[] = []
  let cur = ''
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (c === '\\') {
      cur += c + (line[i + 1] ?? '')
      i++
    } else if (c === '|') {
      cells.push(cur)
      cur = ''
    } else cur += c
  }
  cells.push(cur)
  return cells.slice(1, -1)
}

// What latexText may write, character sequences TeX reads as text; anything else special to TeX
// left over after removing them would be an injection.
const LATEX_SAFE = /\\textbackslash\{\}|\\textasciicircum\{\}|\\textasciitilde\{\}|\\textless\{\}|\\textgreater\{\}|\\textbar\{\}|\\[&%$#_{}]|\{[[\]*]\}/g
const latexLeftover = (s: string): string => s.replace(LATEX_SAFE, '')

describe('htmlText', () => {
  it('leaves no markup and no way out of a quoted attribute', () => {
    expect(htmlText(IMG)).toBe('&lt;img src=x onerror=alert(1)&gt;')
    expect(htmlText(`"' onmouseover=x &amp;`)).toBe('&quot;&#39; onmouseover=x &amp;amp;')
  })
})

describe('csvCell', () => {
  it('prefixes text a spreadsheet would run as a formula with a quote, then quotes per RFC 4180', () => {
    expect(csvCell(HYPERLINK)).toBe(`"'=HYPERLINK(""http://x"")"`)
    expect(csvCell('+1+1')).toBe("'+1+1")
    expect(csvCell('-2+3')).toBe("'-2+3")
    expect(csvCell('@SUM(A1:A9)')).toBe("'@SUM(A1:A9)")
    expect(csvCell('\t=1+1')).toBe("'\t=1+1")
    expect(csvCell('\r=1+1')).toBe(`"'\r=1+1"`)
    // Text that merely looks like a number is still text.
    expect(csvCell('-1.5')).toBe("'-1.5")
  })

  it('quotes separators, quotes and line breaks and leaves plain text alone', () => {
    expect(csvCell('a,b')).toBe('"a,b"')
    expect(csvCell('say "hi"')).toBe('"say ""hi"""')
    expect(csvCell('two\nlines')).toBe('"two\nlines"')
    expect(csvCell('a|b')).toBe('a|b')
    expect(csvCell('RotNet (aa11)')).toBe('RotNet (aa11)')
    expect(parseCsv([csvCell(`x,"y"\n${HYPERLINK}`), csvCell('z')].join(',') + '\n')).toEqual([[`x,"y"\n${HYPERLINK}`, 'z']])
  })

  it('writes numbers as numbers: a negative value is data, not a formula', () => {
    expect(csvCell(-1.5)).toBe('-1.5')
    expect(csvCell(-1.5, 2)).toBe('-1.50')
    expect(csvCell(31.25, 2)).toBe('31.25')
    expect(csvCell(0, 2)).toBe('0.00')
    expect(csvCell(null, 2)).toBe('')
    expect(csvCell(undefined)).toBe('')
  })
})

describe('markdownText', () => {
  it('keeps a table cell one cell on one line', () => {
    expect(markdownText('a|b')).toBe('a\\|b')
    expect(markdownText('first\nsecond\r\nthird')).toBe('first second third')
    expect(markdownCells(`| ${markdownText('a|b\\|c\n| d |')} | 1 |`)).toHaveLength(2)
  })

  it('shows HTML, backslashes and entities as the text they are', () => {
    expect(markdownText(IMG)).toBe('&lt;img src=x onerror=alert(1)&gt;')
    expect(markdownText('a\\b')).toBe('a\\\\b')
    expect(markdownText('&amp; & <')).toBe('&amp;amp; &amp; &lt;')
  })

  it('defuses link, image, emphasis, code and math syntax and leading block markers', () => {
    expect(markdownText('[click](http://x) ![i](y)')).toBe('\\[click\\](http://x) !\\[i\\](y)')
    expect(markdownText('*a* _b_ `c` ~~d~~ $e$')).toBe('\\*a\\* \\_b\\_ \\`c\\` \\~\\~d\\~\\~ \\$e\\$')
    expect(markdownText('# heading')).toBe('\\# heading')
    expect(markdownText('- item')).toBe('\\- item')
    expect(markdownText('+ item')).toBe('\\+ item')
    expect(markdownText('1. item')).toBe('1\\. item')
    expect(markdownText('> quote')).toBe('&gt; quote')
  })

  it('leaves ordinary names as they were', () => {
    expect(markdownText('RotNet (bb22)')).toBe('RotNet (bb22)')
    expect(markdownText('tiny linear')).toBe('tiny linear')
  })
})

describe('markdownCode', () => {
  it('fences a code span past any backticks inside it, on one line', () => {
    expect(markdownCode('abc')).toBe('`abc`')
    expect(markdownCode('a`b')).toBe('``a`b``')
    expect(markdownCode('`x\ny')).toBe('`` `x y ``')
  })
})

describe('latexText', () => {
  it('escapes backslash, caret and tilde as text commands, and &%$#_{}', () => {
    expect(latexText(INPUT)).toBe('\\textbackslash{}input\\{/etc/passwd\\}')
    expect(latexText('^^5c')).toBe('\\textasciicircum{}\\textasciicircum{}5c')
    expect(latexText('a~b')).toBe('a\\textasciitilde{}b')
    expect(latexText('&%$#_{}')).toBe('\\&\\%\\$\\#\\_\\{\\}')
  })

  it('neutralises control characters and what a table row would read as its options', () => {
    expect(latexText('a\nb\rc\td\u0000e\u001bf\u007fg')).toBe('a b c d e f g')
    expect(latexText('[2em] x')).toBe('{[}2em{]} x')
    expect(latexText('*x')).toBe('{*}x')
  })

  it('leaves nothing special to TeX over, for any ASCII text', () => {
    let seed = 7
    const next = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31)
    const samples = [INPUT, '^^5c', HYPERLINK, IMG, 'a|b', '\\\\\\{', '{\\}', '^^M^^?']
    for (let k = 0; k < 200; k++) samples.push(String.fromCharCode(...Array.from({ length: 24 }, () => next() % 128)))
    // eslint-disable-next-line no-control-regex -- control characters are among what must not be left
    for (const s of samples) expect(latexLeftover(latexText(s))).not.toMatch(/[\\^~&%$#_{}[\]\u0000-\u001f\u007f]/)
  })
})

// ---- end to end: a results table and a report with hostile names ----

const RUN_NAME = `${HYPERLINK} ${INPUT} ^^5c | ${IMG}\nsecond line`
const NEG_NAME = '-2+3'
const DATASET = '@SUM(1+1)|x_y'
const CLASS = '<b>cat</b>|[dog](http://x)\n=1+1'
const TITLE = `# Report <script>alert(1)</script> ${INPUT}`

const evaluation = (dataset: string, accuracy: number): RunDetail['evaluations'][number] => ({
  id: `linear:${dataset}`,
  protocol: 'linear',
  dataset,
  transfer: false,
  layer: 'conv3',
  accuracy,
  perClass: [accuracy, accuracy],
  confusion: [],
  classNames: [CLASS, 'plain'],
  trainImages: 10,
  testImages: 10
})

const detail = (id: string, name: string, accuracy: number): RunDetail =>
  ({
    id,
    name,
    method: 'rotnet',
    preset: null,
    configHash: 'abc123',
    status: runStatus(),
    evaluations: [evaluation(DATASET, accuracy)],
    config: { name, seed: 1 },
    versions: { app: '1.0' },
    datasets: [],
    checkpoints: [],
    log: [],
    summaries: {},
    dataFingerprints: [{ label: DATASET, split: 'train', images: 10, sha256: 'f'.repeat(64) }]
  }) as RunDetail

const PNG = 'data:image/png;base64,iVBORw0KGgo='
const reportRun = (d: RunDetail): ReportRun => ({
  detail: d,
  metrics: [0, 1, 2].map((step) => ({ stage: 'pretrain', step, loss: 1 / (step + 1) })),
  previews: [{ className: CLASS, views: [{ rotation: 0, png: PNG, probs: [0.7, 0.1, 0.1, 0.1] }] }]
})

const base = detail('20260101-000000-rotnet-aa11', 'random init', 0.5)
const hostile = detail('20260101-000001-rotnet-bb22', RUN_NAME, 0.6)
const negative = detail('20260101-000002-rotnet-cc33', NEG_NAME, 0.4)
const runs = [base, hostile, negative]

function expectSafeCsv(csv: string, rows: number): void {
  const parsed = parseCsv(csv)
  expect(parsed).toHaveLength(rows + 1)
  for (const row of parsed) expect(row).toHaveLength(parsed[0]!.length)
  // Header and the run and method columns are text; every other cell a plain number or empty.
  for (const cell of [...parsed[0]!, ...parsed.slice(1).flatMap((r) => r.slice(0, 2))]) expect(cell).not.toMatch(/^[=+\-@\t\r]/)
  for (const cell of parsed.slice(1).flatMap((r) => r.slice(2))) expect(cell).toMatch(/^(-?\d+(\.\d\d)?)?$/)
  expect(parsed[2]![0]).toBe(`'${RUN_NAME}`)
  expect(parsed[3]![0]).toBe(`'${NEG_NAME}`)
  // The run below the baseline keeps its negative relative difference as a number.
  // Columns: value, n, ci_low, ci_high, sd, seeds, relative %, delta pts, within noise.
  expect(parsed[3]!.slice(2)).toEqual(['40.00', '10', '16.82', '68.73', '', '1', '-20.00', '-10.00', '1'])
  expect(parsed[0]![2]).toBe(`'${DATASET} linear`)
}

function expectSafeMarkdown(report: string): void {
  // The configs are in fenced code blocks, shown verbatim; names in them are not markup.
  const md = report.replace(/^```json\n[^]*?\n```$/gm, '```json```')
  expect(md).not.toMatch(/<(img|script|b)\b/i)
  expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;')
  expect(md).not.toMatch(/(^|[^\\])\]\(http:\/\/x\)/m)
  expect(md).not.toMatch(/^second line/m)
  expect(md).not.toMatch(/^=1\+1/m)
  // Every table row has as many cells as its header.
  const lines = md.split('\n')
  lines.forEach((l, i) => {
    if (l.startsWith('|') && !lines[i - 1]?.startsWith('|')) {
      const width = markdownCells(l).length
      for (let j = i; lines[j]?.startsWith('|'); j++) expect(markdownCells(lines[j]!)).toHaveLength(width)
    }
  })
}

function expectSafeLatex(tex: string): void {
  expect(tex).not.toContain('\\input')
  expect(tex).not.toContain('^^5c')
  expect(tex).toContain('\\textbackslash{}input\\{/etc/passwd\\}')
  expect(tex).toContain('\\textasciicircum{}\\textasciicircum{}5c')
  expect(tex).toContain('\\_')
  // One row per line: the name's line break did not start a new one (two header rows).
  expect(tex.split('\n').filter((l) => l.endsWith(' \\\\'))).toHaveLength(runs.length + 2)
}

describe('exports with hostile names', () => {
  const table = buildResultsTable(runs as RunSummary[], base.id)

  it('results table: CSV, Markdown and LaTeX carry only the escaped names, numbers as before', () => {
    expectSafeCsv(tableToCsv(table), runs.length)
    const md = tableToMarkdown(table)
    expectSafeMarkdown(md)
    expect(md.split('\n')[2]).toBe('| random init (baseline) | 50.0 [23.7, 76.3] |')
    expect(md).toContain('| \\-2+3 | ≈ 40.0 [16.8, 68.7] (-20.0 % rel.) |')
    expect(md.split('\n')[0]).toBe('| model | @SUM(1+1)\\|x\\_y: linear |')
    const tex = tableToLatex(table)
    expectSafeLatex(tex)
    expect(tex).toContain('-2+3 & $\\approx$ 40.0 {[}16.8, 68.7{]} ($-$20.0\\,\\% rel.) \\\\')
  })

  it('report: Markdown title, runs, per-class tables, captions and CSV are escaped', () => {
    const out = buildReport({
      title: TITLE,
      question: `- ${IMG}\n# not a heading`,
      runs: runs.map(reportRun),
      baselineId: base.id,
      sections: [...REPORT_SECTIONS],
      maps: [{ runId: hostile.id, title: `${RUN_NAME}: tsne`, xy: [0, 0, 1, 1], labels: [0, 1], classNames: [CLASS, 'plain'] }],
      generatedAt: '2026-01-01T00:00:00.000Z',
      appVersion: '1.0.0'
    })
    expectSafeCsv(out.csv, runs.length)
    expectSafeMarkdown(out.markdown)
    const lines = out.markdown.split('\n')
    expect(lines[0]).toBe('# \\# Report &lt;script&gt;alert(1)&lt;/script&gt; \\\\input{/etc/passwd}')
    expect(lines[2]).toBe('\\- &lt;img src=x onerror=alert(1)&gt; \\# not a heading')
    // Per-class header: the class name stays one cell.
    const perClass = lines.findIndex((l) => l.startsWith('| &lt;b&gt;cat'))
    expect(lines[perClass]).toBe('| &lt;b&gt;cat&lt;/b&gt;\\|\\[dog\\](http://x) =1+1 | plain |')
    expect(markdownCells(lines[perClass + 2]!)).toHaveLength(2)
    // Every image link still points at a file the report writes.
    const names = new Set(out.files.map((f) => f.name))
    const links = [...out.markdown.matchAll(/!\[((?:\\.|[^\]\\])*)\]\(([^)]+)\)/g)]
    expect(links.length).toBeGreaterThan(4)
    for (const l of links) expect(names.has(l[2]!)).toBe(true)
    // HTML and the SVG inside it stay escaped.
    expect(out.html).not.toMatch(/<(img src=x|script|b>)/)
    expect(out.html).toContain('&lt;b&gt;cat&lt;/b&gt;')
  })

  it('the written report folder holds the escaped report.md and results.csv', async () => {
    const byId = new Map(runs.map((r) => [r.id, r]))
    const service = {
      get: async (id: string) => byId.get(id)!,
      metrics: async (id: string) => reportRun(byId.get(id)!).metrics,
      preview: async () => ({ images: reportRun(base).previews }),
      listMaps: async () => [{ key: 'm1' }],
      getMap: async () => ({
        spec: { method: 'tsne', layer: `${INPUT}|x` },
        n: 2,
        knnPreservation: 0.5,
        xy: [0, 0, 1, 1],
        labels: [0, 1],
        classNames: [CLASS, 'plain']
      })
    } as unknown as RunsService
    const res = await exportReport(
      service,
      tmpDir('qt-esc-'),
      { runIds: runs.map((r) => r.id), baselineId: base.id, sections: [...REPORT_SECTIONS], title: TITLE, question: 'q', name: 'hostile', pdf: false },
      '1.0.0'
    )
    const md = await fs.readFile(path.join(res.dir, 'report.md'), 'utf8')
    expectSafeMarkdown(md)
    expect(md).toContain('\\\\input{/etc/passwd}\\|x')
    expectSafeCsv(await fs.readFile(path.join(res.dir, 'results.csv'), 'utf8'), runs.length)
  })
})
