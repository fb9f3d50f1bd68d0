// An embedding map as a standalone SVG figure: one circle per point coloured by class, a title,
// a subtitle (method, points, neighbour preservation) and a legend, on a white background so it
// drops into a paper or slides as it is. The map view's "Export SVG" writes it; its class colours
// are the ones the view draws with.
import { htmlText as esc } from './escape'
import { classColour } from './svg'

export { classColour }

export interface MapSvgOptions {
  title: string
  subtitle?: string
  /** Width of the plot area, in px. */
  size?: number
  /** A highlighted class: the others are drawn faded, beneath it. */
  highlight?: number | null
  /** The part of the map to draw (map units); by default all of it. */
  window?: { x0: number; x1: number; y0: number; y1: number }
}

function extent(xy: ArrayLike<number>, n: number): { x0: number; x1: number; y0: number; y1: number } {
  let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity]
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i]!
    const y = xy[2 * i + 1]!
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue
    ;[x0, x1, y0, y1] = [Math.min(x0, x), Math.max(x1, x), Math.min(y0, y), Math.max(y1, y)]
  }
  return x0 <= x1 ? { x0, x1, y0, y1 } : { x0: -1, x1: 1, y0: -1, y1: 1 }
}

/**
 * A 2-D map (flat [x0, y0, x1, y1, …]) coloured by class, with a title and a legend: one
 * <circle> per point drawn (points outside `window` are left out), one entry per class.
 */
export function svgMap(xy: ArrayLike<number>, labels: ArrayLike<number>, classNames: string[], o: MapSvgOptions): string {
  const S = o.size ?? 520
  const n = labels.length
  const pad = 12
  const top = o.subtitle ? 50 : 34
  const win = o.window ?? extent(xy, n)
  const wx = win.x1 - win.x0 || 1
  const wy = win.y1 - win.y0 || 1
  // The plot is S wide and as tall as the window's shape asks (within reason); one scale for
  // both axes, so distances read the same across and down.
  const PW = S
  const PH = Math.round(S * Math.min(1.4, Math.max(0.6, wy / wx)))
  const k = Math.min((PW - 2 * pad) / wx, (PH - 2 * pad) / wy)
  const M = 12
  const ox = M + pad + (PW - 2 * pad - wx * k) / 2
  const oy = top + pad + (PH - 2 * pad - wy * k) / 2
  const legendW = 170
  const W = M + PW + legendW
  const H = top + Math.max(PH, 12 + classNames.length * 17) + M
  const r = n > 8000 ? 1.2 : n > 2000 ? 1.8 : n > 300 ? 2.5 : 3.5
  const hl = o.highlight ?? null
  const margin = r / k
  const dot = (i: number, faded: boolean): string => {
    const x = ox + (xy[2 * i]! - win.x0) * k
    const y = oy + (xy[2 * i + 1]! - win.y0) * k
    return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" fill="${classColour(labels[i]!)}"${faded ? ' fill-opacity="0.15"' : ''}/>`
  }
  const faded: string[] = []
  const shown: string[] = []
  for (let i = 0; i < n; i++) {
    const x = xy[2 * i]!
    const y = xy[2 * i + 1]!
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue
    // Outside a zoomed window: not in the figure at all.
    if (x < win.x0 - margin || x > win.x1 + margin || y < win.y0 - margin || y > win.y1 + margin) continue
    if (hl !== null && labels[i] !== hl) faded.push(dot(i, true))
    else shown.push(dot(i, false))
  }
  const counts = new Array<number>(classNames.length).fill(0)
  for (let i = 0; i < n; i++) if (labels[i]! >= 0 && labels[i]! < counts.length) counts[labels[i]!]!++
  const legend = classNames.map((c, i) => {
    const y = top + 12 + i * 17
    const dim = hl !== null && hl !== i ? ' opacity="0.45"' : ''
    return `<g class="legend-entry"${dim}><rect x="${M + PW + 12}" y="${y - 10}" width="11" height="11" rx="2" fill="${classColour(i)}"/><text x="${M + PW + 30}" y="${y}" font-size="12">${esc(c)} (${counts[i]})</text></g>`
  })
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(o.title)}" font-family="sans-serif">`,
    `<title>${esc(o.title)}</title>`,
    `<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${M}" y="22" font-size="15" font-weight="600" fill="#1d1f23">${esc(o.title)}</text>`,
    o.subtitle ? `<text x="${M}" y="40" font-size="12" fill="#5f6670">${esc(o.subtitle)}</text>` : '',
    `<rect x="${M + 0.5}" y="${top + 0.5}" width="${PW - 1}" height="${PH - 1}" fill="none" stroke="#ccc"/>`,
    // A nested viewport clips points that lie partly outside a zoomed window.
    `<svg x="${M}" y="${top}" width="${PW}" height="${PH}" viewBox="${M} ${top} ${PW} ${PH}" overflow="hidden">`,
    `<g class="points">${faded.join('')}${shown.join('')}</g>`,
    '</svg>',
    `<g class="legend" fill="#1d1f23">${legend.join('')}</g>`,
    '</svg>'
  ]
    .filter(Boolean)
    .join('\n')
}
