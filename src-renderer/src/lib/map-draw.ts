// Drawing an embedding map into a 2-D canvas. Points are grouped by class once; a highlighted
// class is drawn last, over the faded others. On screen the points are rasterised into one
// bitmap (src-shared/report/map-raster.ts: a few milliseconds for 20 000 points, where the
// browser takes tens to fill as many vector discs without a GPU); the PNG export draws vector
// discs, once, at twice the resolution.
import { classColour } from '../../../src-shared/report/map-svg'
import { rasterPoints, warmUpRaster, type RasterLayer } from '../../../src-shared/report/map-raster'
import { pointRadius, toMap, type View } from '../../../src-shared/report/map-view'

// Before the first map is drawn, so the first zoom does not stall while the engine recompiles.
warmUpRaster()

export interface MapScene {
  /** A typed copy of the layout: the drawing and hit-testing loops see one array type, so the
   * engine compiles them once (a plain array in one call and a typed one in the next costs a
   * deoptimisation mid-zoom). */
  xy: Float64Array
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
  return { xy: Float64Array.from(xy), labels, classNames, groups }
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

const FADED = 0.13
const SHOWN = 0.9

/** What is drawn, bottom to top: faded classes, then the highlighted one (or every class). */
export function layersOf(scene: MapScene, o: DrawOptions): RasterLayer[] {
  if (o.mono) return [{ points: Int32Array.from({ length: scene.xy.length / 2 }, (_, i) => i), colour: o.mono, alpha: 0.75 }]
  const hl = o.highlight
  const faded = scene.groups.flatMap((g, c) => (hl !== null && c !== hl ? [{ points: g, colour: classColour(c), alpha: FADED }] : []))
  const shown = scene.groups.flatMap((g, c) => (hl === null || c === hl ? [{ points: g, colour: classColour(c), alpha: SHOWN }] : []))
  return [...faded, ...shown]
}

const pointCount = (scene: MapScene): number => scene.labels.length || scene.xy.length / 2

/** Vector discs in CSS-pixel coordinates (the caller scales the context); off-screen points skipped. */
export function drawPoints(ctx: CanvasRenderingContext2D, scene: MapScene, view: View, o: DrawOptions): void {
  const r = pointRadius(pointCount(scene), o.zoom)
  const [x0, y0] = toMap(view, -r, -r)
  const [x1, y1] = toMap(view, o.width + r, o.height + r)
  const { scale, tx, ty } = view
  for (const layer of layersOf(scene, o)) {
    ctx.globalAlpha = layer.alpha
    ctx.fillStyle = layer.colour
    ctx.beginPath()
    for (let k = 0; k < layer.points.length; k++) {
      const i = layer.points[k]!
      const x = scene.xy[2 * i]!
      const y = scene.xy[2 * i + 1]!
      if (!(x >= x0 && x <= x1 && y >= y0 && y <= y1)) continue
      const sx = x * scale + tx
      const sy = y * scale + ty
      ctx.moveTo(sx + r, sy)
      ctx.arc(sx, sy, r, 0, 2 * Math.PI)
    }
    ctx.fill()
  }
  ctx.globalAlpha = 1
}

/**
 * Raster the points over the opaque `background` into the canvas's whole bitmap (`dpr` device
 * pixels per CSS pixel), reusing the pixel buffer between frames. Returns how many points landed.
 */
export class MapRaster {
  private image: ImageData | null = null

  draw(ctx: CanvasRenderingContext2D, scene: MapScene, view: View, o: DrawOptions, dpr: number, background: string): number {
    const w = ctx.canvas.width
    const h = ctx.canvas.height
    if (!this.image || this.image.width !== w || this.image.height !== h) this.image = ctx.createImageData(w, h)
    const drawn = rasterPoints(this.image.data, w, h, dpr, scene.xy, view, pointRadius(pointCount(scene), o.zoom), layersOf(scene, o), background)
    ctx.putImageData(this.image, 0, 0)
    return drawn
  }
}

/** Call `cb` when the theme changes (the setting on <html>, or the system's when it follows it). */
export function onThemeChange(cb: () => void): () => void {
  const mo = new MutationObserver(cb)
  mo.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] })
  const mq = window.matchMedia('(prefers-color-scheme: dark)')
  mq.addEventListener('change', cb)
  return () => {
    mo.disconnect()
    mq.removeEventListener('change', cb)
  }
}
