// Exact k-nearest-neighbour search (Euclidean) with a vantage-point tree (Yianilos 1993), as
// bh-SNE / openTSNE / scikit-learn's t-SNE use for the input affinities.
//
// Layout: the tree is implicit in one permutation of the points. A node covers positions
// [lo, hi); its vantage point sits at `lo`, points at distance <= radius[lo] from it fill
// [lo+1, mid) and the rest [mid, hi), mid = (lo+1+hi) >>> 1. Ranges of at most LEAF points are
// scanned linearly. The data rows are copied in tree order so that scans are sequential, and
// queries are issued in tree order so consecutive queries touch the same branches.
// Vantage points are drawn from a seeded Rng: build, and so ties, are reproducible.
//
// Pure TypeScript on typed arrays: runs in Node, browsers and workers.

import { Rng } from '../../src-shared/rng'
import { checkShape } from './pca'

const LEAF = 12

export interface KnnGraph {
  /** Number of neighbours per point. */
  k: number
  /** Neighbour indices, row-major [n, k], nearest first; a point is never its own neighbour. */
  indices: Int32Array
  /** Euclidean distances matching `indices`, [n, k], ascending per row. */
  distances: Float32Array
}

export class VpTree {
  readonly n: number
  readonly d: number
  /** Point index at each tree position. */
  readonly order: Int32Array
  /** Rows in tree order, [n, d]. */
  readonly rows: Float32Array
  private readonly radius: Float64Array
  // search scratch
  private heapD: Float64Array = new Float64Array(0)
  private heapI: Int32Array = new Int32Array(0)
  private heapSize = 0
  private heapCap = 0
  private tau = Infinity
  private qBuf: Float32Array
  private qSelf = -1

  constructor(data: Float32Array | Float64Array, n: number, d: number, seed = 0) {
    checkShape(data, n, d, 'VpTree')
    this.n = n
    this.d = d
    this.order = new Int32Array(n)
    for (let i = 0; i < n; i++) this.order[i] = i
    this.radius = new Float64Array(n)
    this.qBuf = new Float32Array(d)
    const dist = new Float64Array(n)
    const rng = new Rng(seed)
    // Iterative build with an explicit stack of ranges.
    const stack: number[] = [0, n]
    while (stack.length > 0) {
      const hi = stack.pop()!
      const lo = stack.pop()!
      if (hi - lo <= LEAF) continue
      // Random vantage point moved to lo.
      const v = lo + rng.int(hi - lo)
      swap(this.order, lo, v)
      const vp = this.order[lo]! * d
      for (let p = lo + 1; p < hi; p++) {
        const o = this.order[p]! * d
        let s = 0
        for (let t = 0; t < d; t++) {
          const z = data[o + t]! - data[vp + t]!
          s += z * z
        }
        dist[p] = Math.sqrt(s)
      }
      const mid = (lo + 1 + hi) >>> 1
      select(dist, this.order, lo + 1, hi, mid)
      this.radius[lo] = dist[mid]!
      stack.push(lo + 1, mid, mid, hi)
    }
    this.rows = new Float32Array(n * d)
    for (let p = 0; p < n; p++) {
      const o = this.order[p]! * d
      for (let t = 0; t < d; t++) this.rows[p * d + t] = data[o + t]!
    }
  }

  /**
   * The k nearest neighbours of the point at tree position `pos` (excluding itself), written to
   * outI/outD at offset `off`, nearest first.
   */
  queryPosition(pos: number, k: number, outI: Int32Array, outD: Float32Array, off: number): void {
    const d = this.d
    for (let t = 0; t < d; t++) this.qBuf[t] = this.rows[pos * d + t]!
    this.qSelf = pos
    this.run(k, outI, outD, off)
  }

  /** The k nearest neighbours of an arbitrary vector q (length d); no point is excluded. */
  query(q: ArrayLike<number>, k: number, outI: Int32Array, outD: Float32Array, off = 0): void {
    for (let t = 0; t < this.d; t++) this.qBuf[t] = q[t]!
    this.qSelf = -1
    this.run(k, outI, outD, off)
  }

  private run(k: number, outI: Int32Array, outD: Float32Array, off: number): void {
    if (this.heapCap < k) {
      this.heapD = new Float64Array(k)
      this.heapI = new Int32Array(k)
      this.heapCap = k
    }
    this.heapSize = 0
    this.tau = Infinity
    this.search(0, this.n, k)
    // Pop the max-heap from the back: ascending order.
    const found = this.heapSize
    for (let s = found - 1; s >= 0; s--) {
      outD[off + s] = Math.sqrt(this.heapD[0]!)
      outI[off + s] = this.order[this.heapI[0]!]!
      this.heapPop()
    }
    for (let s = found; s < k; s++) {
      // fewer than k candidates (k >= n): pad
      outD[off + s] = Infinity
      outI[off + s] = -1
    }
  }

  /** Squared distance from the query to tree position p, or any value > limit2 once it exceeds limit2. */
  private dist2(p: number, limit2: number): number {
    const d = this.d
    const rows = this.rows
    const q = this.qBuf
    const o = p * d
    let s = 0
    let t = 0
    for (; t + 8 <= d; t += 8) {
      const z0 = rows[o + t]! - q[t]!
      const z1 = rows[o + t + 1]! - q[t + 1]!
      const z2 = rows[o + t + 2]! - q[t + 2]!
      const z3 = rows[o + t + 3]! - q[t + 3]!
      const z4 = rows[o + t + 4]! - q[t + 4]!
      const z5 = rows[o + t + 5]! - q[t + 5]!
      const z6 = rows[o + t + 6]! - q[t + 6]!
      const z7 = rows[o + t + 7]! - q[t + 7]!
      s += z0 * z0 + z1 * z1 + z2 * z2 + z3 * z3 + z4 * z4 + z5 * z5 + z6 * z6 + z7 * z7
      if (s > limit2) return s
    }
    for (; t < d; t++) {
      const z = rows[o + t]! - q[t]!
      s += z * z
    }
    return s
  }

  private consider(p: number, s: number, k: number): void {
    if (this.heapSize < k) {
      this.heapPush(p, s)
      if (this.heapSize === k) this.tau = Math.sqrt(this.heapD[0]!)
    } else if (s < this.heapD[0]!) {
      this.heapReplaceTop(p, s)
      this.tau = Math.sqrt(this.heapD[0]!)
    }
  }

  private search(lo: number, hi: number, k: number): void {
    if (hi - lo <= LEAF) {
      for (let p = lo; p < hi; p++) {
        if (p === this.qSelf) continue
        const lim = this.heapSize < k ? Infinity : this.heapD[0]!
        const s = this.dist2(p, lim)
        if (s < lim) this.consider(p, s, k)
      }
      return
    }
    const s = this.dist2(lo, Infinity)
    if (lo !== this.qSelf) this.consider(lo, s, k)
    const dist = Math.sqrt(s)
    const r = this.radius[lo]!
    const mid = (lo + 1 + hi) >>> 1
    if (dist < r) {
      if (dist - this.tau <= r) this.search(lo + 1, mid, k)
      if (dist + this.tau >= r) this.search(mid, hi, k)
    } else {
      if (dist + this.tau >= r) this.search(mid, hi, k)
      if (dist - this.tau <= r) this.search(lo + 1, mid, k)
    }
  }

  // max-heap on squared distance, ties broken by position so the result is order-independent
  private greater(a: number, b: number): boolean {
    const da = this.heapD[a]!
    const db = this.heapD[b]!
    return da > db || (da === db && this.heapI[a]! > this.heapI[b]!)
  }

  private heapPush(p: number, s: number): void {
    let i = this.heapSize++
    this.heapD[i] = s
    this.heapI[i] = p
    while (i > 0) {
      const parent = (i - 1) >> 1
      if (!this.greater(i, parent)) break
      this.swapHeap(i, parent)
      i = parent
    }
  }

  private heapReplaceTop(p: number, s: number): void {
    this.heapD[0] = s
    this.heapI[0] = p
    this.siftDown(0)
  }

  private heapPop(): void {
    const last = --this.heapSize
    this.heapD[0] = this.heapD[last]!
    this.heapI[0] = this.heapI[last]!
    this.siftDown(0)
  }

  private siftDown(i: number): void {
    const size = this.heapSize
    for (;;) {
      const l = 2 * i + 1
      if (l >= size) return
      let m = l
      if (l + 1 < size && this.greater(l + 1, l)) m = l + 1
      if (!this.greater(m, i)) return
      this.swapHeap(i, m)
      i = m
    }
  }

  private swapHeap(a: number, b: number): void {
    const td = this.heapD[a]!
    this.heapD[a] = this.heapD[b]!
    this.heapD[b] = td
    const ti = this.heapI[a]!
    this.heapI[a] = this.heapI[b]!
    this.heapI[b] = ti
  }
}

/**
 * Exact k-nearest-neighbour graph of the rows of `data` (Euclidean), excluding each point itself.
 * `k` must be in [1, n-1]; `seed` picks the vantage points (the answer does not depend on it,
 * except for the order of neighbours at exactly equal distance).
 */
export function knnGraph(data: Float32Array | Float64Array, n: number, d: number, k: number, opts: { seed?: number } = {}): KnnGraph {
  const b = knnBuilder(data, n, d, k, opts)
  b.step(n)
  return b.result
}

/** Incremental kNN-graph computation, for callers that want to report progress or cancel. */
export function knnBuilder(
  data: Float32Array | Float64Array,
  n: number,
  d: number,
  k: number,
  opts: { seed?: number } = {}
): { step(count: number): boolean; readonly done: number; result: KnnGraph } {
  checkShape(data, n, d, 'knnGraph')
  if (!Number.isInteger(k) || k < 1 || k > n - 1) {
    throw new RangeError(`knnGraph: k must be an integer in [1, n-1 = ${n - 1}] (got ${k})`)
  }
  const tree = new VpTree(data, n, d, opts.seed ?? 0)
  const indices = new Int32Array(n * k)
  const distances = new Float32Array(n * k)
  const tmpI = new Int32Array(k)
  const tmpD = new Float32Array(k)
  let pos = 0
  const state = {
    result: { k, indices, distances },
    get done() {
      return pos
    },
    step(count: number): boolean {
      const end = Math.min(n, pos + count)
      for (; pos < end; pos++) {
        tree.queryPosition(pos, k, tmpI, tmpD, 0)
        const o = tree.order[pos]! * k
        indices.set(tmpI, o)
        distances.set(tmpD, o)
      }
      return pos >= n
    }
  }
  return state
}

function swap(a: Int32Array, i: number, j: number): void {
  const t = a[i]!
  a[i] = a[j]!
  a[j] = t
}

/** Quickselect on dist[lo..hi) carrying `order`, so that dist[kth] is the value of rank kth. */
function select(dist: Float64Array, order: Int32Array, lo: number, hi: number, kth: number): void {
  let l = lo
  let r = hi - 1
  while (r > l) {
    // median of three pivot
    const m = (l + r) >>> 1
    if (dist[m]! < dist[l]!) swap2(dist, order, m, l)
    if (dist[r]! < dist[l]!) swap2(dist, order, r, l)
    if (dist[r]! < dist[m]!) swap2(dist, order, r, m)
    const pivot = dist[m]!
    let i = l
    let j = r
    while (i <= j) {
      while (dist[i]! < pivot) i++
      while (dist[j]! > pivot) j--
      if (i <= j) {
        swap2(dist, order, i, j)
        i++
        j--
      }
    }
    if (kth <= j) r = j
    else if (kth >= i) l = i
    else return
  }
}

function swap2(dist: Float64Array, order: Int32Array, i: number, j: number): void {
  const t = dist[i]!
  dist[i] = dist[j]!
  dist[j] = t
  const u = order[i]!
  order[i] = order[j]!
  order[j] = u
}
