// Barnes-Hut repulsive forces of 2-D t-SNE on a flat quadtree held in typed arrays.
//
// The tree is rebuilt every iteration by in-place partitioning of a permutation of the points
// (like a quicksort on quadrants), so a node is a contiguous range [lo, hi) of that permutation
// and its children are consecutive nodes. Ranges of at most `leafSize` points stay leaves and are
// summed exactly. Positions are copied in tree order (px, py) so leaf scans read memory
// sequentially, and points are visited in tree order so consecutive traversals share their path.
// A node is summarised by its centre of mass when (cell width)^2 < theta^2 * d^2, d the distance
// from the point to that centre (the criterion of bh-SNE and scikit-learn), and never when it
// contains the point itself. No allocation per iteration once the arrays have grown.
//
// Pure TypeScript: runs in Node, browsers and workers.

export class QuadTree {
  private n = 0
  private cap = 0
  private count = 0
  /** permutation: tree position -> point index */
  perm: Int32Array = new Int32Array(0)
  px: Float64Array = new Float64Array(0)
  py: Float64Array = new Float64Array(0)
  private cx: Float64Array = new Float64Array(0)
  private cy: Float64Array = new Float64Array(0)
  private w2: Float64Array = new Float64Array(0)
  private lo: Int32Array = new Int32Array(0)
  private hi: Int32Array = new Int32Array(0)
  private child: Int32Array = new Int32Array(0)
  private nChild: Int32Array = new Int32Array(0)
  private stack: Int32Array = new Int32Array(0)
  private tmpX = new Float64Array(0)
  private tmpY = new Float64Array(0)

  constructor(private readonly leafSize = 8) {}

  private grow(minCap: number): void {
    const cap = Math.max(minCap, this.cap * 2, 64)
    const f = (a: Float64Array) => {
      const b = new Float64Array(cap)
      b.set(a.subarray(0, this.count))
      return b
    }
    const g = (a: Int32Array) => {
      const b = new Int32Array(cap)
      b.set(a.subarray(0, this.count))
      return b
    }
    this.cx = f(this.cx)
    this.cy = f(this.cy)
    this.w2 = f(this.w2)
    this.lo = g(this.lo)
    this.hi = g(this.hi)
    this.child = g(this.child)
    this.nChild = g(this.nChild)
    this.cap = cap
  }

  /** Builds the tree over the 2-D points Y (interleaved [n, 2]). */
  build(Y: Float64Array, n: number): void {
    if (this.n !== n) {
      this.n = n
      this.perm = new Int32Array(n)
      for (let i = 0; i < n; i++) this.perm[i] = i
      this.px = new Float64Array(n)
      this.py = new Float64Array(n)
      this.tmpX = new Float64Array(n)
      this.tmpY = new Float64Array(n)
      this.stack = new Int32Array(4096)
    }
    // Reuse the previous permutation: partitioning is stable in cost whatever the order.
    const perm = this.perm
    const px = this.px
    const py = this.py
    let minX = Infinity
    let minY = Infinity
    let maxX = -Infinity
    let maxY = -Infinity
    for (let p = 0; p < n; p++) {
      const i = perm[p]!
      const x = Y[2 * i]!
      const y = Y[2 * i + 1]!
      px[p] = x
      py[p] = y
      if (x < minX) minX = x
      if (x > maxX) maxX = x
      if (y < minY) minY = y
      if (y > maxY) maxY = y
    }
    let w = Math.max(maxX - minX, maxY - minY)
    w = w > 0 ? w * (1 + 1e-9) + 1e-12 : 1e-6
    this.count = 0
    if (this.cap < 64) this.grow(64)
    // root
    const root = this.alloc()
    this.lo[root] = 0
    this.hi[root] = n
    this.split(root, minX, minY, w, 0)
  }

  private alloc(): number {
    if (this.count >= this.cap) this.grow(this.count + 1)
    return this.count++
  }

  /** Recursively splits node `node` covering the square [x0, x0+w) x [y0, y0+w). */
  private split(node: number, x0: number, y0: number, w: number, depth: number): void {
    const lo = this.lo[node]!
    const hi = this.hi[node]!
    const px = this.px
    const py = this.py
    this.w2[node] = w * w
    if (hi - lo <= this.leafSize || depth >= 48) {
      let sx = 0
      let sy = 0
      for (let p = lo; p < hi; p++) {
        sx += px[p]!
        sy += py[p]!
      }
      const inv = 1 / (hi - lo)
      this.cx[node] = sx * inv
      this.cy[node] = sy * inv
      this.nChild[node] = 0
      return
    }
    const h = w * 0.5
    const xm = x0 + h
    const ym = y0 + h
    // partition [lo, hi) by y < ym, then each half by x < xm
    const midY = this.partition(lo, hi, py, ym)
    const midX0 = this.partition(lo, midY, px, xm)
    const midX1 = this.partition(midY, hi, px, xm)
    const bounds = [lo, midX0, midY, midX1, hi]
    // children for non-empty quadrants, allocated consecutively
    let first = -1
    let nc = 0
    for (let q = 0; q < 4; q++) {
      if (bounds[q + 1]! > bounds[q]!) {
        const c = this.alloc()
        if (first < 0) first = c
        this.lo[c] = bounds[q]!
        this.hi[c] = bounds[q + 1]!
        nc++
      }
    }
    this.child[node] = first
    this.nChild[node] = nc
    let c = first
    let sx = 0
    let sy = 0
    for (let q = 0; q < 4; q++) {
      if (bounds[q + 1]! <= bounds[q]!) continue
      const cxq = q & 1 ? xm : x0
      const cyq = q & 2 ? ym : y0
      this.split(c, cxq, cyq, h, depth + 1)
      const m = this.hi[c]! - this.lo[c]!
      sx += this.cx[c]! * m
      sy += this.cy[c]! * m
      c++
    }
    const inv = 1 / (hi - lo)
    this.cx[node] = sx * inv
    this.cy[node] = sy * inv
  }

  /** In-place partition of positions [lo, hi) so that key < pivot come first; returns the split. */
  private partition(lo: number, hi: number, key: Float64Array, pivot: number): number {
    const px = this.px
    const py = this.py
    const perm = this.perm
    let i = lo
    let j = hi - 1
    for (;;) {
      while (i <= j && key[i]! < pivot) i++
      while (i <= j && key[j]! >= pivot) j--
      if (i >= j) break
      let t = px[i]!
      px[i] = px[j]!
      px[j] = t
      t = py[i]!
      py[i] = py[j]!
      py[j] = t
      const u = perm[i]!
      perm[i] = perm[j]!
      perm[j] = u
      i++
      j--
    }
    return i
  }

  /**
   * Same result shape as repulsive(), computed per GROUP of nearby points (maximal subtrees of at
   * most `groupSize` points): one traversal per group builds an interaction list of node summaries
   * accepted for the whole group (cell width^2 < theta^2 * (distance from the group's bounding box
   * to the node's centre of mass)^2, stricter than the per-point test) plus the individual points
   * of nearby leaves; every point of the group then runs the same branch-free loop over that
   * list. Self-interaction (q = 1, zero force) is subtracted from Z afterwards.
   */
  repulsiveGrouped(theta: number, rep: Float64Array, groupSize = 32): number {
    const theta2 = theta * theta
    const px = this.px
    const py = this.py
    const perm = this.perm
    const cx = this.cx
    const cy = this.cy
    const w2 = this.w2
    const lo = this.lo
    const hi = this.hi
    const child = this.child
    const nChild = this.nChild
    let stack = this.stack
    let lx = this.lx
    let ly = this.ly
    let lm = this.lm
    let sumQ = 0
    // groups: maximal nodes with <= groupSize points, found depth-first
    let gsp = 0
    const gstack = this.gstack.length >= 4 * 64 ? this.gstack : (this.gstack = new Int32Array(4 * 64))
    gstack[gsp++] = 0
    let gs = gstack
    while (gsp > 0) {
      const g = gs[--gsp]!
      const gl = lo[g]!
      const gh = hi[g]!
      if (gh - gl > groupSize && nChild[g]! > 0) {
        const nc = nChild[g]!
        if (gsp + nc > gs.length) {
          const t = new Int32Array(gs.length * 2)
          t.set(gs)
          gs = t
          this.gstack = t
        }
        const c0 = child[g]!
        for (let c = c0 + nc - 1; c >= c0; c--) gs[gsp++] = c
        continue
      }
      // bounding box of the group's points
      let bx0 = Infinity
      let by0 = Infinity
      let bx1 = -Infinity
      let by1 = -Infinity
      for (let p = gl; p < gh; p++) {
        const x = px[p]!
        const y = py[p]!
        if (x < bx0) bx0 = x
        if (x > bx1) bx1 = x
        if (y < by0) by0 = y
        if (y > by1) by1 = y
      }
      // interaction list
      let len = 0
      let sp = 0
      stack[sp++] = 0
      while (sp > 0) {
        const node = stack[--sp]!
        const l = lo[node]!
        const h = hi[node]!
        const nc = nChild[node]!
        if (l < gh && h > gl) {
          // overlaps the group: descend, or take the leaf's points one by one
          if (nc === 0) {
            if (len + (h - l) > lx.length) {
              this.growList(len + (h - l))
              lx = this.lx
              ly = this.ly
              lm = this.lm
            }
            for (let t = l; t < h; t++) {
              lx[len] = px[t]!
              ly[len] = py[t]!
              lm[len] = 1
              len++
            }
            continue
          }
        } else {
          const ccx = cx[node]!
          const ccy = cy[node]!
          const ex = ccx < bx0 ? bx0 - ccx : ccx > bx1 ? ccx - bx1 : 0
          const ey = ccy < by0 ? by0 - ccy : ccy > by1 ? ccy - by1 : 0
          if (w2[node]! < theta2 * (ex * ex + ey * ey)) {
            if (len + 1 > lx.length) {
              this.growList(len + 1)
              lx = this.lx
              ly = this.ly
              lm = this.lm
            }
            lx[len] = ccx
            ly[len] = ccy
            lm[len] = h - l
            len++
            continue
          }
          if (nc === 0) {
            if (len + (h - l) > lx.length) {
              this.growList(len + (h - l))
              lx = this.lx
              ly = this.ly
              lm = this.lm
            }
            for (let t = l; t < h; t++) {
              lx[len] = px[t]!
              ly[len] = py[t]!
              lm[len] = 1
              len++
            }
            continue
          }
        }
        if (sp + nc > stack.length) {
          const s2 = new Int32Array(stack.length * 2)
          s2.set(stack)
          stack = s2
          this.stack = s2
        }
        const c0 = child[node]!
        for (let c = c0 + nc - 1; c >= c0; c--) stack[sp++] = c
      }
      // evaluate the list for the points of the group, two at a time (shared loads, one
      // division for both: 1/a = b/(ab), 1/b = a/(ab))
      let p = gl
      for (; p + 2 <= gh; p += 2) {
        const x0 = px[p]!
        const y0 = py[p]!
        const x1 = px[p + 1]!
        const y1 = py[p + 1]!
        let fx0 = 0
        let fy0 = 0
        let sq0 = 0
        let fx1 = 0
        let fy1 = 0
        let sq1 = 0
        for (let e = 0; e < len; e++) {
          const ex = lx[e]!
          const ey = ly[e]!
          const m = lm[e]!
          const dx0 = x0 - ex
          const dy0 = y0 - ey
          const dx1 = x1 - ex
          const dy1 = y1 - ey
          const a0 = 1 + dx0 * dx0 + dy0 * dy0
          const a1 = 1 + dx1 * dx1 + dy1 * dy1
          const r = 1 / (a0 * a1)
          const q0 = a1 * r
          const q1 = a0 * r
          const mq0 = m * q0
          const mq1 = m * q1
          sq0 += mq0
          sq1 += mq1
          const w0 = mq0 * q0
          const w1 = mq1 * q1
          fx0 += w0 * dx0
          fy0 += w0 * dy0
          fx1 += w1 * dx1
          fy1 += w1 * dy1
        }
        const i0 = perm[p]!
        const i1 = perm[p + 1]!
        rep[2 * i0] = fx0
        rep[2 * i0 + 1] = fy0
        rep[2 * i1] = fx1
        rep[2 * i1 + 1] = fy1
        sumQ += sq0 + sq1 - 2
      }
      for (; p < gh; p++) {
        const x = px[p]!
        const y = py[p]!
        let fx = 0
        let fy = 0
        let sq = 0
        for (let e = 0; e < len; e++) {
          const dx = x - lx[e]!
          const dy = y - ly[e]!
          const q = 1 / (1 + dx * dx + dy * dy)
          const mq = lm[e]! * q
          sq += mq
          const mqq = mq * q
          fx += mqq * dx
          fy += mqq * dy
        }
        const i = perm[p]!
        rep[2 * i] = fx
        rep[2 * i + 1] = fy
        sumQ += sq - 1
      }
    }
    return sumQ
  }

  private lx = new Float64Array(1024)
  private ly = new Float64Array(1024)
  private lm = new Float64Array(1024)
  private gstack = new Int32Array(0)

  private growList(min: number): void {
    const cap = Math.max(min, this.lx.length * 2)
    const f = (a: Float64Array) => {
      const b = new Float64Array(cap)
      b.set(a)
      return b
    }
    this.lx = f(this.lx)
    this.ly = f(this.ly)
    this.lm = f(this.lm)
  }

  /**
   * Repulsive forces: for each point i, rep[2i..2i+1] = sum_j q_ij^2 (y_i - y_j) with
   * q_ij = 1 / (1 + |y_i - y_j|^2) (unnormalised). Returns Z = sum_{i != j} q_ij.
   */
  repulsive(theta: number, rep: Float64Array): number {
    const n = this.n
    const theta2 = theta * theta
    const px = this.px
    const py = this.py
    const perm = this.perm
    const cx = this.cx
    const cy = this.cy
    const w2 = this.w2
    const lo = this.lo
    const hi = this.hi
    const child = this.child
    const nChild = this.nChild
    let stack = this.stack
    let sumQ = 0
    for (let p = 0; p < n; p++) {
      const x = px[p]!
      const y = py[p]!
      let fx = 0
      let fy = 0
      let sq = 0
      let sp = 0
      stack[sp++] = 0
      while (sp > 0) {
        const node = stack[--sp]!
        const l = lo[node]!
        const h = hi[node]!
        const dx = x - cx[node]!
        const dy = y - cy[node]!
        const d2 = dx * dx + dy * dy
        const inside = p >= l && p < h
        if (!inside && w2[node]! < theta2 * d2) {
          const q = 1 / (1 + d2)
          const m = h - l
          const mq = m * q
          sq += mq
          const mqq = mq * q
          fx += mqq * dx
          fy += mqq * dy
        } else {
          const nc = nChild[node]!
          if (nc === 0) {
            for (let t = l; t < h; t++) {
              if (t === p) continue
              const ex = x - px[t]!
              const ey = y - py[t]!
              const q = 1 / (1 + ex * ex + ey * ey)
              sq += q
              const qq = q * q
              fx += qq * ex
              fy += qq * ey
            }
          } else {
            if (sp + nc > stack.length) {
              const s2 = new Int32Array(stack.length * 2)
              s2.set(stack)
              stack = s2
              this.stack = s2
            }
            const c0 = child[node]!
            for (let c = c0 + nc - 1; c >= c0; c--) stack[sp++] = c
          }
        }
      }
      const i = perm[p]!
      rep[2 * i] = fx
      rep[2 * i + 1] = fy
      sumQ += sq
    }
    return sumQ
  }
}
