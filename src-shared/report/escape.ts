// The one escaper per export format. Run names, class names (folder names from disk), dataset
// names and report titles are free text chosen by whoever made the run or the data set, so every
// writer of HTML, CSV, Markdown or LaTeX passes such text through the function for its format
// here, never through an escaper of its own.

/** Text for HTML (element content and double- or single-quoted attribute values; SVG alike). */
export function htmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;')
}

// A spreadsheet treats a cell starting with one of these as a formula (OWASP, "CSV Injection");
// tab and carriage return are on the list because some programs strip them and then see the next
// character.
const CSV_FORMULA_START = /^[=+\-@\t\r]/

/**
 * One CSV cell (RFC 4180 quoting). Numbers are data: they are written as they are (`digits`
 * fixed decimals where given), so a negative accuracy difference stays a number. Text that a
 * spreadsheet would run as a formula gets a leading `'`, which spreadsheets show as text. The
 * decision follows the type, not the look of the text: a run named "-1.5" is still text.
 */
export function csvCell(v: string | number | null | undefined, digits?: number): string {
  if (v == null) return ''
  if (typeof v === 'number') return digits === undefined ? String(v) : v.toFixed(digits)
  const s = CSV_FORMULA_START.test(v) ? `'${v}` : v
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

// Control characters (other than those collapsed below) have no business in a report and some,
// like form feed or escape, upset terminals and viewers that show the file raw.
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/g

/**
 * Free text for Markdown: a heading, a list item, a paragraph, an image's alt text or a table
 * cell. It stays on one line (a newline would end a table row or a heading), a `|` cannot split a
 * table cell, raw HTML shows as text, and emphasis, link, code and math syntax and a leading list
 * or heading marker show as the characters they are. Every escape is a CommonMark backslash
 * escape of ASCII punctuation or an entity, so the rendered text reads as the name did.
 */
export function markdownText(s: string): string {
  return s
    .replace(CONTROL, ' ')
    .replace(/\s*[\r\n]+\s*/g, ' ')
    .trim()
    .replace(/[\\`*_[\]|~#$]/g, '\\$&')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/^([-+])/, '\\$1')
    .replace(/^(\d+)([.)])/, '$1\\$2')
}

/**
 * Text shown as inline code in Markdown (ids, hashes, config keys). Backslashes do not escape
 * inside a code span, so the span is fenced with more backticks than any run inside it instead.
 */
export function markdownCode(s: string): string {
  const t = s.replace(CONTROL, ' ').replace(/[\r\n]+/g, ' ')
  const longest = Math.max(0, ...(t.match(/`+/g) ?? []).map((run) => run.length))
  const fence = '`'.repeat(longest + 1)
  const pad = t.startsWith('`') || t.endsWith('`') ? ' ' : ''
  return `${fence}${pad}${t}${pad}${fence}`
}

const LATEX: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '^': '\\textasciicircum{}',
  '~': '\\textasciitilde{}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '{': '\\{',
  '}': '\\}',
  // OT1 fonts print these as other glyphs (¡, ¿, —) outside math.
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
  // After a table row's `\\` LaTeX looks ahead (past spaces and the line break) for `[` or `*`,
  // so a name starting with either would be read as the row's options; braces hide them.
  '[': '{[}',
  ']': '{]}'
}

/**
 * Text for LaTeX (a table cell, a caption, a title). Every character TeX gives a meaning to is
 * replaced in one pass (so `\textbackslash{}`'s own braces are not escaped again); with `^`
 * escaped, `^^5c` cannot spell a backslash. Control characters become spaces: TeX reads some of
 * them (carriage return, `^^?`) as commands of its own.
 */
export function latexText(s: string): string {
  return s
    .replace(CONTROL, ' ')
    .replace(/[\t\r\n]/g, ' ')
    .replace(/[\\^~&%$#_{}<>|[\]]/g, (c) => LATEX[c]!)
    .replace(/^\*/, '{*}')
}
