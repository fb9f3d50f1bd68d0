// Nearest point under the cursor among up to 20 000 map points: a uniform grid over the map's
// bounding box, about two points per cell, stored as one counting-sorted index array. A lookup
// searches rings of cells outwards from the query's cell and stops once no unsearched cell can
// hold anything closer, so a hover costs a few dozen distance checks instead of n.
import { boundsOf, type Bounds } from './map-view'

export class PointGrid {
  readonly n: number
  private readonly xy: ArrayLike<number>
  private readonly b: Bounds
  private readonly cols: number
  private readonly rows: number
  private readonly cw: number
  private readonly ch: number
  /** Points of cell c are order[start[c] .. start[c + 1]). */
  private readonly start: Int32Array
  private readonly order: Int32Array

  constructor(xy: ArrayLike<number>, perCell = 2) {
    this.xy = xy
    this.n = Math.floor(xy.length / 2)
    this.b = boundsOf(xy)
    const w = this.b.x1 - this.b.x0
    const h = this.b.y1 - this.b.y0
    // About n / perCell cells, as square as the box allows.
    const cells = Math.max(1, Math.ceil(this.n / perCell))
    this.cols = Math.max(1, Math.min(1024, Math.round(Math.sqrt((cells * w) / h))))
    this.rows = Math.max(1, Math.min(1024, Math.ceil(cells / this.cols)))
    this.cw = w / this.cols
    this.ch = h / this.rows
    const cellOf = new Int32Array(this.n)
    const count = new Int32Array(this.cols * this.rows + 1)
    for (let i = 0; i < this.n; i++) {
      const c = this.cellIndex(xy[2 * i]!, xy[2 * i + 1]!)
      cellOf[i] = c
      count[c + 1]!++
    }
    for (let c = 1; c < count.length; c++) count[c]! += count[c - 1]!
    this.start = count
    this.order = new Int32Array(this.n)
    const fill = count.slice(0, -1)
    for (let i = 0; i < this.n; i++) this.order[fill[cellOf[i]!]!++] = i
  }

  private colOf(x: number): number {
    return Math.min(this.cols - 1, Math.max(0, Math.floor((x - this.b.x0) / this.cw)))
  }
  private rowOf(y: number): number {
    return Math.min(this.rows - 1, Math.max(0, Math.floor((y - this.b.y0) / this.ch)))
  }
  private cellIndex(x: number, y: number): number {
    // Points with a non-finite coordinate land in cell 0 and are skipped by distance checks.
    if (!Number.isFinite(x) || !Number.isFinite(y)) return 0
    return this.rowOf(y) * this.cols + this.colOf(x)
  }

  /**
   * The index of the point nearest to (x, y) within `maxDist` (map units), or -1. `accept`
   * restricts the search to some points (e.g. a highlighted class).
   */
  nearest(x: number, y: number, maxDist = Infinity, accept?: (i: number) => boolean): number {
    if (!this.n) return -1
    const cx = this.colOf(x)
    const cy = this.rowOf(y)
    const maxRing = Math.max(cx, this.cols - 1 - cx, cy, this.rows - 1 - cy)
    let best = -1
    let bestD2 = maxDist * maxDist
    for (let r = 0; r <= maxRing; r++) {
      // Every cell of ring r is at least (r - 1) cells from the query, whichever side it is on.
      const gap = (r - 1) * Math.min(this.cw, this.ch)
      if (r > 0 && gap > 0 && gap * gap > bestD2) break
      const y0 = cy - r
      const y1 = cy + r
      for (let row = Math.max(0, y0); row <= Math.min(this.rows - 1, y1); row++) {
        const edgeRow = row === y0 || row === y1
        const step = edgeRow ? 1 : 2 * r
        for (let col = cx - r; col <= cx + r; col += step || 1) {
          if (col < 0 || col >= this.cols) continue
          const c = row * this.cols + col
          for (let k = this.start[c]!; k < this.start[c + 1]!; k++) {
            const i = this.order[k]!
            const dx = this.xy[2 * i]! - x
            const dy = this.xy[2 * i + 1]! - y
            const d2 = dx * dx + dy * dy
            if (better(d2, i, bestD2, best) && (!accept || accept(i))) {
              best = i
              bestD2 = d2
            }
          }
        }
      }
    }
    return best
  }
}

/** Closer, or as close with a lower index (so the grid and a full scan agree on ties); at most the limit. */
function better(d2: number, i: number, bestD2: number, best: number): boolean {
  return d2 < bestD2 || (d2 === bestD2 && (best < 0 || i < best))
}

/** The same lookup by checking every point: the reference the grid is tested against. */
export function nearestBrute(xy: ArrayLike<number>, x: number, y: number, maxDist = Infinity, accept?: (i: number) => boolean): number {
  let best = -1
  let bestD2 = maxDist * maxDist
  for (let i = 0; 2 * i + 1 < xy.length; i++) {
    if (accept && !accept(i)) continue
    const dx = xy[2 * i]! - x
    const dy = xy[2 * i + 1]! - y
    const d2 = dx * dx + dy * dy
    if (better(d2, i, bestD2, best)) {
      best = i
      bestD2 = d2
    }
  }
  return best
}
