// Drawing an embedding map into a 2-D canvas: points are grouped by class once, then each class
// is one path filled once (20 000 points cost a few milliseconds, not 20 000 fills). Points off
// screen are skipped. The on-screen view and the PNG export draw with the same code.
import { classColour } from '../../../src-shared/report/map-svg'
import { pointRadius, toMap, type View } from '../../../src-shared/report/map-view'

export interface MapScene {
  xy: ArrayLike<number>
  labels: ArrayLike<number>
  classNames: string[]
  /** Point indices of each class (labels outside the class list are drawn as the last group). */
  groups: Int32Array[]
}

export function sceneOf(xy: ArrayLike<number>, labels: ArrayLike<number>, classNames: string[]): MapScene {
  const k = classNames.length
  const counts = new Int32Array(k + 1)
  const groupOf = (l: number): number => (l >= 0 && l < k ? l : k)
  for (let i = 0; i < labels.length; i++) counts[groupOf(labels[i]!)]!++
  const groups = Array.from(counts, (c) => new Int32Array(c))
  const fill = new Int32Array(k + 1)
  for (let i = 0; i < labels.length; i++) {
    const g = groupOf(labels[i]!)
    groups[g]![fill[g]!++] = i
  }
  return { xy, labels, classNames, groups }
}

export interface DrawOptions {
  width: number
  height: number
  /** Zoom relative to the fitted view (point size grows a little when zoomed in). */
  zoom: number
  highlight: number | null
  /** One colour for every point (a layout preview whose labels are not known yet). */
  mono?: string
}

/** Draw the points in CSS-pixel coordinates (the caller scales the context for the device). */
export function drawPoints(ctx: CanvasRenderingContext2D, scene: MapScene, view: View, o: DrawOptions): void {
  const n = scene.labels.length || scene.xy.length / 2
  const r = pointRadius(n, o.zoom)
  const [x0, y0] = toMap(view, -r, -r)
  const [x1, y1] = toMap(view, o.width + r, o.height + r)
  const square = r < 2.2
  const side = r * 1.8
  const { scale, tx, ty } = view
  const draw = (idx: ArrayLike<number>, colour: string, alpha: number): void => {
    ctx.globalAlpha = alpha
    ctx.fillStyle = colour
    ctx.beginPath()
    for (let k = 0; k < idx.length; k++) {
      const i = idx[k]!
      const x = scene.xy[2 * i]!
      const y = scene.xy[2 * i + 1]!
      if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) continue
      const sx = x * scale + tx
      const sy = y * scale + ty
      if (square) ctx.rect(sx - side / 2, sy - side / 2, side, side)
      else {
        ctx.moveTo(sx + r, sy)
        ctx.arc(sx, sy, r, 0, 2 * Math.PI)
      }
    }
    ctx.fill()
  }
  if (o.mono) {
    draw(Int32Array.from({ length: n }, (_, i) => i), o.mono, 0.75)
    ctx.globalAlpha = 1
    return
  }
  const hl = o.highlight
  // Faded classes first, so the highlighted one is drawn on top of them.
  scene.groups.forEach((g, c) => {
    if (hl !== null && c !== hl) draw(g, classColour(c), 0.13)
  })
  scene.groups.forEach((g, c) => {
    if (hl === null || c === hl) draw(g, classColour(c), 0.9)
  })
  ctx.globalAlpha = 1
}
