// Exact k-nearest neighbours (Euclidean) for HIGH-dimensional rows: blocked brute force with
// lower-bound screening. In 50-256 dimensions metric trees (the vantage-point tree of
// ./vptree.ts) degenerate into a branchy, cache-unfriendly brute-force scan; this computes the
// same exact answer faster.
//
//  * Lower bounds: rows are centred and projected on M principal axes estimated on a subsample.
//    For any orthonormal P and r = |x - P^T P x| (the residual norm), the vector
//    L(x) = (P x, r) satisfies |L(x) - L(y)| <= |x - y| (Pythagoras + reverse triangle
//    inequality), so the axes need not be exact, only good at separating. Two levels: L1 with the
//    first m1 (<= 12) axes, L2 with all M (<= 64) axes, used only when d is large enough for it
//    to pay off.
//  * Blocks of <= `block` points compact in L1-space (median kd-splits), each with a centroid and
//    radius. A block pair is skipped when (|c_a - c_b| - r_a - r_b)^2 exceeds the current k-th
//    squared distance of every query in both blocks; otherwise all its pairs are screened with L1
//    (a register-tiled dot-product kernel). A pair survives when its bound is below the k-th
//    distance of either point. Mostly-surviving tiles get a dense exact tile; sparse survivors
//    go through L2 and then an exact dot product.
//  * Block pairs are visited in increasing lower bound, so the per-point max-heaps fill with near
//    neighbours early and later pairs prune well; each pair (a <= b) is computed once and feeds
//    both sides. |x - y|^2 = |x|^2 + |y|^2 - 2 x.y on centred data with float64 accumulation; the
//    bounds carry a small relative slack so that rounding never prunes a true neighbour.
// Deterministic (fixed order, ties broken by position; no randomness).
// Pure TypeScript on typed arrays: runs in Node, browsers and workers.

import { symmetricEigen } from './eigen'
import { checkShape } from './pca'
import type { KnnGraph } from './vptree'

export interface BlockedKnnOptions {
  /** Points per block (default 32). */
  block?: number
}

const SLACK = 1e-9

export function blockedKnn(data: Float32Array | Float64Array, n: number, d: number, k: number, opts: BlockedKnnOptions = {}): KnnGraph {
  const b = blockedKnnBuilder(data, n, d, k, opts)
  while (!b.step(Infinity)) {
    /* run to completion */
  }
  return b.result()
}

/** Incremental form: step(maxPairs) processes up to maxPairs block pairs; returns true when done. */
export function blockedKnnBuilder(
  data: Float32Array | Float64Array,
  n: number,
  d: number,
  k: number,
  opts: BlockedKnnOptions = {}
): { step(maxPairs: number): boolean; readonly fraction: number; result(): KnnGraph } {
  checkShape(data, n, d, 'blockedKnn')
  if (!Number.isInteger(k) || k < 1 || k > n - 1) throw new RangeError(`blockedKnn: k must be an integer in [1, n-1 = ${n - 1}] (got ${k})`)
  const B = opts.block ?? 32
  if (!Number.isInteger(B) || B < 4) throw new RangeError(`blockedKnn: block must be an integer >= 4 (got ${B})`)
  // level sizes
  const M = d >= 160 ? Math.min(64, n - 1) : 0 // second level only when it is much cheaper than d
  const m1 = Math.max(0, Math.min(12, d - 1, n - 1))
  const P = Math.max(M, m1) // axes to compute
  const L1 = m1 + 1
  const L2 = M + 1

  // ---- centre
  const mean = new Float64Array(d)
  for (let i = 0; i < n; i++) for (let t = 0; t < d; t++) mean[t] = mean[t]! + data[i * d + t]!
  for (let t = 0; t < d; t++) mean[t] = mean[t]! / n
  const axes = P > 0 ? sampleAxes(data, n, d, mean, P) : new Float64Array(0)

  // ---- projections (by original index)
  const proj = new Float64Array(n * P)
  const sqn = new Float64Array(n)
  const row = new Float64Array(d)
  for (let i = 0; i < n; i++) {
    let s = 0
    for (let t = 0; t < d; t++) {
      const v = data[i * d + t]! - mean[t]!
      row[t] = v
      s += v * v
    }
    sqn[i] = s
    for (let c = 0; c < P; c++) {
      let p = 0
      const o = c * d
      for (let t = 0; t < d; t++) p += row[t]! * axes[o + t]!
      proj[i * P + c] = p
    }
  }
  const l1Of = (i: number, out: Float64Array, o: number): void => {
    let ps = 0
    for (let c = 0; c < m1; c++) {
      const p = proj[i * P + c]!
      out[o + c] = p
      ps += p * p
    }
    out[o + m1] = Math.sqrt(Math.max(0, sqn[i]! - ps))
  }

  // ---- blocks: median kd-splits in L1-space
  const l1 = new Float64Array(n * L1)
  for (let i = 0; i < n; i++) l1Of(i, l1, i * L1)
  const perm = new Int32Array(n)
  for (let i = 0; i < n; i++) perm[i] = i
  const starts: number[] = []
  const keys = new Float64Array(n)
  const stack: number[] = [0, n]
  while (stack.length > 0) {
    const hi = stack.pop()!
    const lo = stack.pop()!
    if (hi - lo <= B) {
      starts.push(lo)
      continue
    }
    let best = 0
    let bestSpread = -1
    for (let c = 0; c < L1; c++) {
      let mn = Infinity
      let mx = -Infinity
      for (let p = lo; p < hi; p++) {
        const v = l1[perm[p]! * L1 + c]!
        if (v < mn) mn = v
        if (v > mx) mx = v
      }
      if (mx - mn > bestSpread) {
        bestSpread = mx - mn
        best = c
      }
    }
    for (let p = lo; p < hi; p++) keys[p] = l1[perm[p]! * L1 + best]!
    // split near the median at a multiple of 8 points, so blocks fill the 2 x 4 tiles
    let mid = lo + Math.round((hi - lo) / 16) * 8
    if (mid <= lo || mid >= hi) mid = (lo + hi) >>> 1
    selectKeys(keys, perm, lo, hi, mid)
    stack.push(mid, hi, lo, mid)
  }
  starts.sort((a, b) => a - b)
  const nb = starts.length
  const bStart = new Int32Array(nb + 1)
  for (let b = 0; b < nb; b++) bStart[b] = starts[b]!
  bStart[nb] = n

  // ---- everything in block (permuted) order
  const X = new Float32Array(n * d)
  const sq = new Float64Array(n)
  const A1 = new Float64Array(n * L1)
  const n1 = new Float64Array(n)
  const A2 = new Float64Array(n * L2)
  const n2 = new Float64Array(n)
  for (let p = 0; p < n; p++) {
    const i = perm[p]!
    let s = 0
    for (let t = 0; t < d; t++) {
      const v = data[i * d + t]! - mean[t]!
      X[p * d + t] = v
      const f = X[p * d + t]!
      s += f * f
    }
    sq[p] = s
    let z = 0
    for (let c = 0; c < L1; c++) {
      const v = l1[i * L1 + c]!
      A1[p * L1 + c] = v
      z += v * v
    }
    n1[p] = z
    if (M > 0) {
      let ps = 0
      for (let c = 0; c < M; c++) {
        const v = proj[i * P + c]!
        A2[p * L2 + c] = v
        ps += v * v
      }
      const r = Math.sqrt(Math.max(0, sqn[i]! - ps))
      A2[p * L2 + M] = r
      n2[p] = ps + r * r
    }
  }
  // block centroids and radii in L1-space
  const cen = new Float64Array(nb * L1)
  const rad = new Float64Array(nb)
  for (let b = 0; b < nb; b++) {
    const s = bStart[b]!
    const e = bStart[b + 1]!
    for (let p = s; p < e; p++) for (let c = 0; c < L1; c++) cen[b * L1 + c] = cen[b * L1 + c]! + A1[p * L1 + c]!
    for (let c = 0; c < L1; c++) cen[b * L1 + c] = cen[b * L1 + c]! / (e - s)
    let r = 0
    for (let p = s; p < e; p++) {
      let z = 0
      for (let c = 0; c < L1; c++) z += (A1[p * L1 + c]! - cen[b * L1 + c]!) ** 2
      if (z > r) r = z
    }
    rad[b] = Math.sqrt(r) * (1 + SLACK)
  }
  // block pairs a <= b sorted by lower bound
  const nPairs = (nb * (nb + 1)) / 2
  const pairA = new Int32Array(nPairs)
  const pairB = new Int32Array(nPairs)
  const pairLb = new Float64Array(nPairs)
  let q = 0
  for (let a = 0; a < nb; a++) {
    for (let b = a; b < nb; b++) {
      let z = 0
      for (let c = 0; c < L1; c++) z += (cen[a * L1 + c]! - cen[b * L1 + c]!) ** 2
      const g = Math.max(0, Math.sqrt(z) - rad[a]! - rad[b]!)
      pairA[q] = a
      pairB[q] = b
      pairLb[q] = a === b ? -1 : g * g * (1 - SLACK)
      q++
    }
  }
  const order = new Int32Array(nPairs)
  for (let i = 0; i < nPairs; i++) order[i] = i
  order.sort((x, y) => pairLb[x]! - pairLb[y]! || x - y)

  // ---- heaps (max-heaps of squared distance, by position)
  const hD = new Float64Array(n * k)
  const hI = new Int32Array(n * k)
  const hN = new Int32Array(n)
  const tau = new Float64Array(n).fill(Infinity) // k-th squared distance once full
  const bTau = new Float64Array(nb).fill(Infinity)
  const tile = new Float64Array(B * B)
  const surv = new Uint8Array(B * B)

  const push = (i: number, j: number, v: number): void => {
    const o = i * k
    const s = hN[i]!
    if (s < k) {
      let c = s
      hN[i] = s + 1
      while (c > 0) {
        const par = (c - 1) >> 1
        const pv = hD[o + par]!
        if (pv < v || (pv === v && hI[o + par]! < j)) {
          hD[o + c] = pv
          hI[o + c] = hI[o + par]!
          c = par
        } else break
      }
      hD[o + c] = v
      hI[o + c] = j
      if (s + 1 === k) tau[i] = hD[o]!
      return
    }
    let c = 0
    for (;;) {
      const l = 2 * c + 1
      if (l >= k) break
      let mx = l
      if (l + 1 < k) {
        const a1 = hD[o + l + 1]!
        const a0 = hD[o + l]!
        if (a1 > a0 || (a1 === a0 && hI[o + l + 1]! > hI[o + l]!)) mx = l + 1
      }
      const mv = hD[o + mx]!
      if (mv > v || (mv === v && hI[o + mx]! > j)) {
        hD[o + c] = mv
        hI[o + c] = hI[o + mx]!
        c = mx
      } else break
    }
    hD[o + c] = v
    hI[o + c] = j
    tau[i] = hD[o]!
  }
  const offer = (i: number, j: number, v: number): void => {
    const t = tau[i]!
    if (v < t || (v === t && hN[i] === k && j < hI[i * k]!)) push(i, j, v)
  }
  const refreshBlockTau = (b: number): void => {
    let t = 0
    for (let p = bStart[b]!; p < bStart[b + 1]!; p++) if (tau[p]! > t) t = tau[p]!
    bTau[b] = t
  }

  let next = 0
  const step = (maxPairs: number): boolean => {
    const end = Math.min(nPairs, next + maxPairs)
    for (; next < end; next++) {
      const pi = order[next]!
      const a = pairA[pi]!
      const b = pairB[pi]!
      const lb = pairLb[pi]!
      if (lb > bTau[a]! && lb > bTau[b]!) continue
      const a0 = bStart[a]!
      const na = bStart[a + 1]! - a0
      const b0 = bStart[b]!
      const nbb = bStart[b + 1]! - b0
      const same = a === b
      // level 1 screen
      tileDots64(A1, L1, a0, na, b0, nbb, tile)
      let nSurv = 0
      for (let i = 0; i < na; i++) {
        const p = a0 + i
        const ti = tau[p]!
        const ni = n1[p]!
        for (let j = 0; j < nbb; j++) {
          const r = b0 + j
          const nsum = ni + n1[r]!
          const z = nsum - 2 * tile[i * nbb + j]! - SLACK * nsum
          const ok = z <= ti || z <= tau[r]!
          surv[i * nbb + j] = ok ? 1 : 0
          if (ok) nSurv++
        }
      }
      if (nSurv === 0) continue
      if (nSurv * 3 > na * nbb || M === 0) {
        // dense: exact tile (or, without a second level, exact per surviving pair)
        const dense = nSurv * 3 > na * nbb
        if (dense) tileDots32(X, d, a0, na, b0, nbb, tile)
        for (let i = 0; i < na; i++) {
          const p = a0 + i
          const sqi = sq[p]!
          for (let j = 0; j < nbb; j++) {
            if (surv[i * nbb + j] === 0) continue
            const r = b0 + j
            if (same && r <= p) continue
            let v = sqi + sq[r]! - 2 * (dense ? tile[i * nbb + j]! : rowDot32(X, d, p, r))
            if (v < 0) v = 0
            offer(p, r, v)
            offer(r, p, v)
          }
        }
      } else {
        for (let i = 0; i < na; i++) {
          const p = a0 + i
          const sqi = sq[p]!
          for (let j = 0; j < nbb; j++) {
            if (surv[i * nbb + j] === 0) continue
            const r = b0 + j
            if (same && r <= p) continue
            // level 2 screen
            const nsum = n2[p]! + n2[r]!
            const z = nsum - 2 * rowDot64(A2, L2, p, r) - SLACK * nsum
            if (z > tau[p]! && z > tau[r]!) continue
            let v = sqi + sq[r]! - 2 * rowDot32(X, d, p, r)
            if (v < 0) v = 0
            offer(p, r, v)
            offer(r, p, v)
          }
        }
      }
      refreshBlockTau(a)
      if (!same) refreshBlockTau(b)
    }
    return next >= nPairs
  }

  const result = (): KnnGraph => {
    const indices = new Int32Array(n * k)
    const distances = new Float32Array(n * k)
    const idx = new Int32Array(k)
    for (let p = 0; p < n; p++) {
      const o = p * k
      const cnt = hN[p]!
      for (let s = 0; s < cnt; s++) idx[s] = s
      const sub = idx.subarray(0, cnt)
      sub.sort((x, y) => hD[o + x]! - hD[o + y]! || perm[hI[o + x]!]! - perm[hI[o + y]!]!)
      const i = perm[p]!
      for (let s = 0; s < k; s++) {
        if (s < cnt) {
          indices[i * k + s] = perm[hI[o + sub[s]!]!]!
          distances[i * k + s] = Math.sqrt(hD[o + sub[s]!]!)
        } else {
          indices[i * k + s] = -1
          distances[i * k + s] = Infinity
        }
      }
    }
    return { k, indices, distances }
  }

  return {
    step,
    get fraction() {
      return nPairs > 0 ? next / nPairs : 1
    },
    result
  }
}

function rowDot32(X: Float32Array, d: number, p: number, q: number): number {
  const o = p * d
  const r = q * d
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let t = 0
  for (; t + 4 <= d; t += 4) {
    s0 += X[o + t]! * X[r + t]!
    s1 += X[o + t + 1]! * X[r + t + 1]!
    s2 += X[o + t + 2]! * X[r + t + 2]!
    s3 += X[o + t + 3]! * X[r + t + 3]!
  }
  for (; t < d; t++) s0 += X[o + t]! * X[r + t]!
  return s0 + s1 + s2 + s3
}

function rowDot64(X: Float64Array, d: number, p: number, q: number): number {
  const o = p * d
  const r = q * d
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  let t = 0
  for (; t + 4 <= d; t += 4) {
    s0 += X[o + t]! * X[r + t]!
    s1 += X[o + t + 1]! * X[r + t + 1]!
    s2 += X[o + t + 2]! * X[r + t + 2]!
    s3 += X[o + t + 3]! * X[r + t + 3]!
  }
  for (; t < d; t++) s0 += X[o + t]! * X[r + t]!
  return s0 + s1 + s2 + s3
}

// The two tile kernels are textually identical; they are separate functions so that each stays
// monomorphic (one typed-array type) for the JIT.

/** out[i * nb + j] = X[a0 + i] . X[b0 + j] (rows of length d), 2 x 4 register tiles. */
function tileDots32(X: Float32Array, d: number, a0: number, na: number, b0: number, nb: number, out: Float64Array): void {
  let i = 0
  for (; i + 2 <= na; i += 2) {
    const r0 = (a0 + i) * d
    const r1 = r0 + d
    let j = 0
    for (; j + 4 <= nb; j += 4) {
      const c0 = (b0 + j) * d
      const c1 = c0 + d
      const c2 = c1 + d
      const c3 = c2 + d
      let s00 = 0
      let s01 = 0
      let s02 = 0
      let s03 = 0
      let s10 = 0
      let s11 = 0
      let s12 = 0
      let s13 = 0
      for (let t = 0; t < d; t++) {
        const x0 = X[r0 + t]!
        const x1 = X[r1 + t]!
        const y0 = X[c0 + t]!
        const y1 = X[c1 + t]!
        const y2 = X[c2 + t]!
        const y3 = X[c3 + t]!
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
      }
      const o0 = i * nb + j
      const o1 = o0 + nb
      out[o0] = s00
      out[o0 + 1] = s01
      out[o0 + 2] = s02
      out[o0 + 3] = s03
      out[o1] = s10
      out[o1 + 1] = s11
      out[o1 + 2] = s12
      out[o1 + 3] = s13
    }
    for (; j < nb; j++) {
      const c0 = (b0 + j) * d
      let s0 = 0
      let s1 = 0
      for (let t = 0; t < d; t++) {
        const y = X[c0 + t]!
        s0 += X[r0 + t]! * y
        s1 += X[r1 + t]! * y
      }
      out[i * nb + j] = s0
      out[(i + 1) * nb + j] = s1
    }
  }
  for (; i < na; i++) {
    const r0 = (a0 + i) * d
    for (let j = 0; j < nb; j++) {
      const c0 = (b0 + j) * d
      let s = 0
      for (let t = 0; t < d; t++) s += X[r0 + t]! * X[c0 + t]!
      out[i * nb + j] = s
    }
  }
}

function tileDots64(X: Float64Array, d: number, a0: number, na: number, b0: number, nb: number, out: Float64Array): void {
  let i = 0
  for (; i + 2 <= na; i += 2) {
    const r0 = (a0 + i) * d
    const r1 = r0 + d
    let j = 0
    for (; j + 4 <= nb; j += 4) {
      const c0 = (b0 + j) * d
      const c1 = c0 + d
      const c2 = c1 + d
      const c3 = c2 + d
      let s00 = 0
      let s01 = 0
      let s02 = 0
      let s03 = 0
      let s10 = 0
      let s11 = 0
      let s12 = 0
      let s13 = 0
      for (let t = 0; t < d; t++) {
        const x0 = X[r0 + t]!
        const x1 = X[r1 + t]!
        const y0 = X[c0 + t]!
        const y1 = X[c1 + t]!
        const y2 = X[c2 + t]!
        const y3 = X[c3 + t]!
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
      }
      const o0 = i * nb + j
      const o1 = o0 + nb
      out[o0] = s00
      out[o0 + 1] = s01
      out[o0 + 2] = s02
      out[o0 + 3] = s03
      out[o1] = s10
      out[o1 + 1] = s11
      out[o1 + 2] = s12
      out[o1 + 3] = s13
    }
    for (; j < nb; j++) {
      const c0 = (b0 + j) * d
      let s0 = 0
      let s1 = 0
      for (let t = 0; t < d; t++) {
        const y = X[c0 + t]!
        s0 += X[r0 + t]! * y
        s1 += X[r1 + t]! * y
      }
      out[i * nb + j] = s0
      out[(i + 1) * nb + j] = s1
    }
  }
  for (; i < na; i++) {
    const r0 = (a0 + i) * d
    for (let j = 0; j < nb; j++) {
      const c0 = (b0 + j) * d
      let s = 0
      for (let t = 0; t < d; t++) s += X[r0 + t]! * X[c0 + t]!
      out[i * nb + j] = s
    }
  }
}

/**
 * m principal axes (unit rows [m, d]) of a deterministic subsample of at most 2048 rows; for
 * rows wider than 512 only the first 512 coordinates are used (the axes stay orthonormal, so the
 * bounds stay valid, merely weaker).
 */
function sampleAxes(data: Float32Array | Float64Array, n: number, d: number, mean: Float64Array, m: number): Float64Array {
  const ns = Math.min(n, 2048)
  const stride = n / ns
  const dd = Math.min(d, 512)
  const cov = new Float64Array(dd * dd)
  const r = new Float64Array(dd)
  for (let s = 0; s < ns; s++) {
    const i = Math.floor(s * stride)
    for (let t = 0; t < dd; t++) r[t] = data[i * d + t]! - mean[t]!
    for (let a = 0; a < dd; a++) {
      const v = r[a]!
      const o = a * dd
      for (let b = a; b < dd; b++) cov[o + b] = cov[o + b]! + v * r[b]!
    }
  }
  for (let a = 0; a < dd; a++) for (let b = a + 1; b < dd; b++) cov[b * dd + a] = cov[a * dd + b]!
  const eig = symmetricEigen(cov, dd)
  const mm = Math.min(m, dd)
  const axes = new Float64Array(m * d)
  for (let c = 0; c < mm; c++) for (let t = 0; t < dd; t++) axes[c * d + t] = eig.vectors[c * dd + t]!
  return axes
}

function selectKeys(keys: Float64Array, perm: Int32Array, lo: number, hi: number, kth: number): void {
  let l = lo
  let r = hi - 1
  while (r > l) {
    const m = (l + r) >>> 1
    const pivot = keys[m]!
    let i = l
    let j = r
    while (i <= j) {
      while (keys[i]! < pivot) i++
      while (keys[j]! > pivot) j--
      if (i <= j) {
        const t = keys[i]!
        keys[i] = keys[j]!
        keys[j] = t
        const u = perm[i]!
        perm[i] = perm[j]!
        perm[j] = u
        i++
        j--
      }
    }
    if (kth <= j) r = j
    else if (kth >= i) l = i
    else return
  }
}
