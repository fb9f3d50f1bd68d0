// Static SVG charts for exported reports: self-contained (no scripts, no external requests),
// readable in a browser, a PDF and a Markdown viewer alike.
import { htmlText as esc } from './escape'

const PALETTE = ['#2f5bd3', '#d3542f', '#2f9e5b', '#9b4fd1', '#c99a1e', '#1e9bb3', '#d12f7a', '#6b6b6b']

export function colour(i: number): string {
  return PALETTE[i % PALETTE.length]!
}

// Class colours of maps: the eight above first (a class keeps its colour between charts and
// maps), then twelve more, so a 10- or 20-class dataset has no two classes in one colour. All are
// of middling lightness: they read on light and dark backgrounds alike.
const MORE = ['#a66a4f', '#9fa81c', '#ef86c8', '#5f7fff', '#e8762d', '#3fb8a0', '#b07aa1', '#7a8f2e', '#c85a5a', '#8e8ee0', '#d4a373', '#4aa3df']

/** The colour of class `i` in map views, map exports and the report's maps. */
export function classColour(i: number): string {
  const k = ((i % 20) + 20) % 20
  return k < 8 ? PALETTE[k]! : MORE[k - 8]!
}

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min]
  const step0 = (max - min) / count
  const mag = 10 ** Math.floor(Math.log10(step0))
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0
  const out: number[] = []
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-12; v += step) out.push(+v.toPrecision(12))
  return out
}

export interface Series {
  name: string
  points: [number, number][]
}

/** A line chart; long series are thinned to at most `maxPoints` per series. */
export function svgLineChart(
  series: Series[],
  o: { title: string; xLabel: string; yLabel: string; width?: number; height?: number; maxPoints?: number }
): string {
  const W = o.width ?? 640
  const H = o.height ?? 300
  const m = { l: 56, r: 16, t: 28, b: 40 }
  const pts = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
  if (!pts.length)
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60" role="img"><text x="8" y="30" font-size="13">${esc(o.title)}: no data</text></svg>`
  const xs = pts.map((p) => p[0])
  const ys = pts.map((p) => p[1])
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)]
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)]
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1]
  const sx = (x: number): number => m.l + ((x - x0) / (x1 - x0 || 1)) * (W - m.l - m.r)
  const sy = (y: number): number => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b)
  const maxPoints = o.maxPoints ?? 600
  const lines = series.map((s, i) => {
    const stride = Math.max(1, Math.ceil(s.points.length / maxPoints))
    const p = s.points.filter((_, k) => k % stride === 0 || k === s.points.length - 1).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y))
    return `<polyline fill="none" stroke="${colour(i)}" stroke-width="1.5" points="${p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>`
  })
  const yt = niceTicks(y0, y1).map(
    (v) =>
      `<g><line x1="${m.l}" x2="${W - m.r}" y1="${sy(v).toFixed(1)}" y2="${sy(v).toFixed(1)}" stroke="#ddd"/><text x="${m.l - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end" font-size="11">${v}</text></g>`
  )
  const xt = niceTicks(x0, x1).map((v) => `<text x="${sx(v).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle" font-size="11">${v}</text>`)
  const legend = series.map(
    (s, i) =>
      `<g><rect x="${m.l + 8 + i * 130}" y="${m.t - 18}" width="10" height="10" fill="${colour(i)}"/><text x="${m.l + 22 + i * 130}" y="${m.t - 9}" font-size="11">${esc(s.name.slice(0, 18))}</text></g>`
  )
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}" font-family="sans-serif">`,
    `<title>${esc(o.title)}</title>`,
    ...yt,
    ...xt,
    `<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${H - m.b}" stroke="#555"/><line x1="${m.l}" x2="${W - m.r}" y1="${H - m.b}" y2="${H - m.b}" stroke="#555"/>`,
    ...lines,
    ...legend,
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 6}" text-anchor="middle" font-size="12">${esc(o.xLabel)}</text>`,
    `<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(o.yLabel)}</text>`,
    '</svg>'
  ].join('\n')
}

/** A scatter plot of a 2-D map coloured by class, with a legend. */
export function svgScatter(xy: ArrayLike<number>, labels: ArrayLike<number>, classNames: string[], o: { title: string; size?: number }): string {
  const S = o.size ?? 420
  const n = labels.length
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity]
  for (let i = 0; i < n; i++) {
    x0 = Math.min(x0, xy[2 * i]!)
    x1 = Math.max(x1, xy[2 * i]!)
    y0 = Math.min(y0, xy[2 * i + 1]!)
    y1 = Math.max(y1, xy[2 * i + 1]!)
  }
  const pad = 10
  const sx = (v: number): number => pad + ((v - x0) / (x1 - x0 || 1)) * (S - 2 * pad)
  const sy = (v: number): number => pad + ((v - y0) / (y1 - y0 || 1)) * (S - 2 * pad)
  const dots: string[] = []
  for (let i = 0; i < n; i++)
    dots.push(`<circle cx="${sx(xy[2 * i]!).toFixed(1)}" cy="${sy(xy[2 * i + 1]!).toFixed(1)}" r="2" fill="${classColour(labels[i]!)}"/>`)
  const legend = classNames.map(
    (c, i) =>
      `<g><rect x="${S + 8}" y="${12 + i * 16}" width="10" height="10" fill="${classColour(i)}"/><text x="${S + 22}" y="${21 + i * 16}" font-size="11">${esc(c)}</text></g>`
  )
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${S + 140} ${S}" width="${S + 140}" height="${S}" role="img" aria-label="${esc(o.title)}" font-family="sans-serif"><title>${esc(o.title)}</title><rect x="0" y="0" width="${S}" height="${S}" fill="#fff" stroke="#ccc"/>${dots.join('')}${legend.join('')}</svg>`
}
