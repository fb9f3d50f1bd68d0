// The view of an embedding map on screen: a uniform scale and a translation from map
// coordinates to CSS pixels (screen = map * scale + t). Pure functions, so zooming about the
// cursor and panning can be checked without a canvas. The y axis is not flipped: the map reads
// the same way as in the exported report (src-shared/report/svg.ts).

export interface Bounds {
  x0: number
  x1: number
  y0: number
  y1: number
}

export interface View {
  scale: number
  tx: number
  ty: number
}

/** How far the view may zoom, relative to the scale that fits the whole map. */
export const MIN_ZOOM = 0.25
export const MAX_ZOOM = 400

/** The bounding box of a flat [x0, y0, x1, y1, …] layout (a unit box around a single point or none). */
export function boundsOf(xy: ArrayLike<number>): Bounds {
  let x0 = Infinity
  let x1 = -Infinity
  let y0 = Infinity
  let y1 = -Infinity
  for (let i = 0; i + 1 < xy.length; i += 2) {
    const x = xy[i]!
    const y = xy[i + 1]!
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue
    if (x < x0) x0 = x
    if (x > x1) x1 = x
    if (y < y0) y0 = y
    if (y > y1) y1 = y
  }
  if (x0 > x1) return { x0: -1, x1: 1, y0: -1, y1: 1 }
  // A degenerate axis (every point on one line) still gets a width to divide by.
  if (x1 - x0 < 1e-9) [x0, x1] = [x0 - 0.5, x1 + 0.5]
  if (y1 - y0 < 1e-9) [y0, y1] = [y0 - 0.5, y1 + 0.5]
  return { x0, x1, y0, y1 }
}

/** The view that shows all of `b`, centred, inside a `width`×`height` box less `pad` on every side. */
export function fitView(b: Bounds, width: number, height: number, pad = 16): View {
  const w = Math.max(1, width - 2 * pad)
  const h = Math.max(1, height - 2 * pad)
  const scale = Math.min(w / (b.x1 - b.x0), h / (b.y1 - b.y0))
  return { scale, tx: width / 2 - ((b.x0 + b.x1) / 2) * scale, ty: height / 2 - ((b.y0 + b.y1) / 2) * scale }
}

export function toScreen(v: View, x: number, y: number): [number, number] {
  return [x * v.scale + v.tx, y * v.scale + v.ty]
}

export function toMap(v: View, sx: number, sy: number): [number, number] {
  return [(sx - v.tx) / v.scale, (sy - v.ty) / v.scale]
}

/**
 * Zoom by `factor` about the screen point (sx, sy): the map point under it stays under it. The
 * scale is kept within [MIN_ZOOM, MAX_ZOOM] times `fitScale`.
 */
export function zoomAt(v: View, factor: number, sx: number, sy: number, fitScale: number): View {
  const scale = Math.min(fitScale * MAX_ZOOM, Math.max(fitScale * MIN_ZOOM, v.scale * factor))
  const k = scale / v.scale
  return { scale, tx: sx - (sx - v.tx) * k, ty: sy - (sy - v.ty) * k }
}

/** Move the map by (dx, dy) screen pixels. */
export function panBy(v: View, dx: number, dy: number): View {
  return { scale: v.scale, tx: v.tx + dx, ty: v.ty + dy }
}

/** Keep what sits at the centre of the old box at the centre of a resized one. */
export function recentre(v: View, oldW: number, oldH: number, newW: number, newH: number): View {
  return { scale: v.scale, tx: v.tx + (newW - oldW) / 2, ty: v.ty + (newH - oldH) / 2 }
}

/** A wheel event's zoom factor: lines and pages count as 16 and 400 pixels; a notch is about 1.2×. */
export function wheelFactor(deltaY: number, deltaMode: number): number {
  const px = deltaY * (deltaMode === 1 ? 16 : deltaMode === 2 ? 400 : 1)
  return Math.exp(-Math.max(-600, Math.min(600, px)) * 0.0018)
}

/** Point radius in CSS pixels: small for dense maps, a little larger when zoomed in. */
export function pointRadius(n: number, zoom: number): number {
  const base = n > 8000 ? 1.4 : n > 2000 ? 2 : n > 300 ? 3 : 4.5
  return base * Math.min(2.5, Math.max(1, Math.sqrt(zoom) * 0.9))
}
