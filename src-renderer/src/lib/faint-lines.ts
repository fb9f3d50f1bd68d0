// The faint raw lines drawn behind smoothed curves, kept in a bitmap of their own. A chart redraws
// on every pointer move (its tooltip) and on every new point; stroking twenty 1 300-point lines
// each time is what would block the main thread, so they are painted once per change of data or
// axes, into an offscreen canvas, and each redraw only copies it. Many lines are painted a slice
// per frame (their rasterisation is forced within the slice), the last complete bitmap showing
// meanwhile; a few are painted at once, so a streaming run's lines never lag.
import { requestFrame, cancelFrame } from './frame-scheduler'

export interface FaintLine {
  color: string
  /** x, y pairs in canvas pixels (CSS px), taken when the axes were those of the frame's key; NaN breaks the line. */
  points: Float64Array
}

export interface FaintFrame {
  /** Canvas size in CSS px and its device pixel ratio. */
  width: number
  height: number
  ratio: number
  /** The plot area lines are clipped to. */
  area: { left: number; top: number; right: number; bottom: number }
  /** What the lines' pixels depend on besides the frame (axes' ranges, data versions). */
  key: string
}

/** Lines painted in one go below this many segments; above it, a slice of this size per frame. */
export const SLICE_SEGMENTS = 5000

interface Bitmap {
  canvas: HTMLCanvasElement
  key: string
  frame: string
}

export class FaintLines {
  private shown: Bitmap | null = null
  private painting: (Bitmap & { lines: FaintLine[]; next: number; area: FaintFrame['area']; ratio: number }) | null = null
  private spare: HTMLCanvasElement | null = null

  /** `redraw` draws the chart again (without recomputing it) once a sliced bitmap is complete. */
  constructor(private readonly redraw: () => void) {}

  /**
   * Draw the lines for this frame onto `ctx` (the chart's context, in CSS px). Returns whether the
   * bitmap drawn is the current one (false: a slightly older one, or none, while one is painted).
   */
  draw(ctx: CanvasRenderingContext2D, f: FaintFrame, lines: () => FaintLine[]): boolean {
    const frame = `${f.width}x${f.height}@${f.ratio}|${f.area.left},${f.area.top},${f.area.right},${f.area.bottom}`
    const key = `${frame}|${f.key}`
    if (this.shown?.key !== key && this.painting?.key !== key) {
      const ls = lines()
      const total = ls.reduce((a, l) => a + l.points.length / 2, 0)
      if (total <= SLICE_SEGMENTS) {
        this.cancel()
        const canvas = this.canvasFor(f)
        this.paint(canvas, ls, 0, Infinity, f.area, f.ratio)
        this.show({ canvas, key, frame })
      } else if (!this.painting) {
        // One painting at a time: a newer state waits for it, so a chart that changes every frame
        // still gets complete bitmaps, each a few frames behind.
        this.painting = { canvas: this.canvasFor(f), key, frame, lines: ls, next: 0, area: f.area, ratio: f.ratio }
        requestFrame(this.step, true)
      }
    }
    const b = this.shown
    if (b && b.frame === frame) ctx.drawImage(b.canvas, 0, 0, f.width, f.height)
    return b?.key === key
  }

  /** Forget everything (the chart was rebuilt). */
  reset(): void {
    this.cancel()
    this.show(null)
  }

  private show(b: Bitmap | null): void {
    const old = this.shown
    this.shown = b
    this.recycle(old?.canvas)
  }

  private cancel(): void {
    cancelFrame(this.step)
    this.recycle(this.painting?.canvas)
    this.painting = null
  }

  private readonly step = (): void => {
    const p = this.painting
    if (!p) return
    p.next = this.paint(p.canvas, p.lines, p.next, SLICE_SEGMENTS, p.area, p.ratio)
    if (p.next < p.lines.length) {
      requestFrame(this.step, true)
      return
    }
    this.painting = null
    this.show({ canvas: p.canvas, key: p.key, frame: p.frame })
    this.redraw()
  }

  private canvasFor(f: FaintFrame): HTMLCanvasElement {
    const canvas = this.spare ?? document.createElement('canvas')
    this.spare = null
    canvas.width = Math.round(f.width * f.ratio)
    canvas.height = Math.round(f.height * f.ratio)
    return canvas
  }

  private recycle(canvas: HTMLCanvasElement | undefined): void {
    if (canvas && canvas !== this.shown?.canvas) this.spare = canvas
  }

  /** Lines from index `from` on, until `budget` segments are stroked; returns the next index. */
  private paint(canvas: HTMLCanvasElement, lines: FaintLine[], from: number, budget: number, area: FaintFrame['area'], ratio: number): number {
    // CPU-backed: the slice's rasterisation happens here, in its own frame, not in a later redraw.
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!
    ctx.save()
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0)
    ctx.beginPath()
    ctx.rect(area.left, area.top, area.right - area.left, area.bottom - area.top)
    ctx.clip()
    ctx.lineWidth = 1
    let i = from
    let done = 0
    for (; i < lines.length && done < budget; i++) {
      const l = lines[i]!
      const pts = l.points
      ctx.strokeStyle = l.color
      ctx.beginPath()
      let open = false
      for (let k = 0; k < pts.length; k += 2) {
        const x = pts[k]!
        const y = pts[k + 1]!
        if (!Number.isFinite(x) || !Number.isFinite(y)) {
          open = false
          continue
        }
        if (open) ctx.lineTo(x, y)
        else ctx.moveTo(x, y)
        open = true
      }
      ctx.stroke()
      done += pts.length / 2
    }
    ctx.restore()
    // Reading a pixel makes the canvas rasterise what was recorded, now.
    ctx.getImageData(0, 0, 1, 1)
    return i
  }
}
