// Principal component analysis of a row-major Float32Array [n, d].
//
// Two solvers, both deterministic:
//  * 'exact': the d x d covariance (one pass over the data in chunks, 2 x 4 register-tiled
//    column dot products, float64) and its full symmetric eigen-decomposition (Householder + QL,
//    ./eigen.ts).
//    Cost ~ n*d^2/2 + O(d^3): 20 000 x 256 takes a fraction of a second.
//  * 'randomized': Halko-Martinsson-Tropp range finder with subspace (power) iterations on the
//    implicitly centred data, seeded. Cost ~ n*d*(k+10)*(2q+3); used automatically when d is large
//    (e.g. 4096-wide fc features) and k small, where forming d x d would dominate.
// Components are unit rows with the sign fixed (largest-magnitude coefficient positive), so the
// result does not depend on solver round-off in sign.
//
// Pure TypeScript: runs in Node, browsers and workers.

import { Rng } from '../../src-shared/rng'
import { symmetricEigen } from './eigen'

export interface PcaOptions {
  /** 'auto' (default) picks the cheaper solver by an operation-count estimate. */
  method?: 'auto' | 'exact' | 'randomized'
  /** Seed of the random test matrix of the randomized solver (default 0). */
  seed?: number
  /** Subspace iterations of the randomized solver (default 4). */
  powerIterations?: number
  /**
   * Estimate the axes (and variances) on at most this many rows, evenly strided, then project
   * every row. For very wide or very many rows (e.g. 20 000 x 4096 features) where one pass of
   * the solver over all rows is the cost. Default: all rows.
   */
  sampleRows?: number
}

export interface PcaResult {
  /** Centred data projected on the components, row-major Float32Array [n, k]. */
  projections: Float32Array
  /** Principal axes as unit rows, row-major [k, d]. */
  components: Float64Array
  /** Column means of the input [d]. */
  mean: Float64Array
  /** Variance along each component (eigenvalues of the covariance, ddof = 1) [k], descending. */
  explainedVariance: Float64Array
  /** explainedVariance / total variance [k]. */
  explainedVarianceRatio: Float64Array
  /** Sum of the per-feature variances (ddof = 1). */
  totalVariance: number
  /** Which solver ran. */
  method: 'exact' | 'randomized'
}

/**
 * PCA of `data` (row-major [n, d]) onto its top `k` principal components.
 * Throws RangeError for inconsistent sizes or k outside [1, min(n, d)].
 */
export function pca(data: Float32Array | Float64Array, n: number, d: number, k: number, opts: PcaOptions = {}): PcaResult {
  checkShape(data, n, d, 'pca')
  if (n < 2) throw new RangeError(`pca: n must be >= 2 (got ${n})`)
  if (!Number.isInteger(k) || k < 1 || k > Math.min(n, d)) {
    throw new RangeError(`pca: k must be an integer in [1, min(n, d) = ${Math.min(n, d)}] (got ${k})`)
  }
  const q = opts.powerIterations ?? 4
  if (!Number.isInteger(q) || q < 0) throw new RangeError(`pca: powerIterations must be an integer >= 0 (got ${q})`)
  const mean = new Float64Array(d)
  for (let r = 0; r < n; r++) {
    const o = r * d
    for (let j = 0; j < d; j++) mean[j] = mean[j]! + data[o + j]!
  }
  for (let j = 0; j < d; j++) mean[j] = mean[j]! / n
  let totalVariance = 0
  for (let r = 0; r < n; r++) {
    const o = r * d
    for (let j = 0; j < d; j++) {
      const v = data[o + j]! - mean[j]!
      totalVariance += v * v
    }
  }
  totalVariance /= n - 1

  const sampleRows = opts.sampleRows ?? n
  if (!Number.isInteger(sampleRows) || sampleRows < 2) throw new RangeError(`pca: sampleRows must be an integer >= 2 (got ${sampleRows})`)
  // rows the axes are estimated on (all, or an evenly strided subset)
  let fit: Float32Array | Float64Array = data
  let nf = n
  if (sampleRows < n) {
    nf = Math.max(sampleRows, k)
    const sub = new Float64Array(nf * d)
    for (let s = 0; s < nf; s++) {
      const r = Math.floor((s * n) / nf)
      for (let j = 0; j < d; j++) sub[s * d + j] = data[r * d + j]!
    }
    fit = sub
  }
  const l = Math.min(k + 10, Math.min(nf, d))
  let method = opts.method ?? 'auto'
  if (method === 'auto') {
    // multiply-adds (both solvers use register-tiled kernels)
    const exactCost = (nf * d * d) / 2 + 6 * d * d * d
    const randCost = nf * d * l * (2 * q + 3)
    method = exactCost <= randCost ? 'exact' : 'randomized'
  }
  let components: Float64Array
  let explainedVariance: Float64Array
  if (method === 'exact') {
    const cov = covariance(fit, nf, d, mean)
    if (nf < n) for (let i = 0; i < cov.length; i++) cov[i] = (cov[i]! * (nf - 1)) / nf // about the full-data mean
    const eig = symmetricEigen(cov, d)
    components = eig.vectors.slice(0, k * d)
    explainedVariance = new Float64Array(k)
    for (let c = 0; c < k; c++) explainedVariance[c] = Math.max(0, eig.values[c]!)
  } else {
    const res = randomizedAxes(fit, nf, d, mean, k, l, q, opts.seed ?? 0)
    components = res.components
    explainedVariance = res.variance
  }
  const projections = project(data, n, d, mean, components, k)
  const explainedVarianceRatio = new Float64Array(k)
  for (let c = 0; c < k; c++) explainedVarianceRatio[c] = totalVariance > 0 ? explainedVariance[c]! / totalVariance : 0
  return { projections, components, mean, explainedVariance, explainedVarianceRatio, totalVariance, method }
}

/** Projects rows of `data` [n, d] on the unit rows of `components` [k, d] after subtracting `mean`. */
export function project(data: Float32Array | Float64Array, n: number, d: number, mean: Float64Array, components: Float64Array, k: number): Float32Array {
  const out = new Float32Array(n * k)
  // two rows at a time (copied to float64, centred) against four components: 2 x 4 tiles
  const rows = new Float64Array(2 * d)
  let r = 0
  for (; r + 2 <= n; r += 2) {
    for (let t = 0; t < d; t++) {
      rows[t] = data[r * d + t]! - mean[t]!
      rows[d + t] = data[(r + 1) * d + t]! - mean[t]!
    }
    let c = 0
    for (; c + 4 <= k; c += 4) {
      const c0 = c * d
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
        const x0 = rows[t]!
        const x1 = rows[d + t]!
        const y0 = components[c0 + t]!
        const y1 = components[c1 + t]!
        const y2 = components[c2 + t]!
        const y3 = components[c3 + t]!
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
      }
      const o0 = r * k + c
      const o1 = o0 + k
      out[o0] = s00
      out[o0 + 1] = s01
      out[o0 + 2] = s02
      out[o0 + 3] = s03
      out[o1] = s10
      out[o1 + 1] = s11
      out[o1 + 2] = s12
      out[o1 + 3] = s13
    }
    for (; c < k; c++) {
      const co = c * d
      let s0 = 0
      let s1 = 0
      for (let t = 0; t < d; t++) {
        s0 += rows[t]! * components[co + t]!
        s1 += rows[d + t]! * components[co + t]!
      }
      out[r * k + c] = s0
      out[(r + 1) * k + c] = s1
    }
  }
  for (; r < n; r++) {
    for (let c = 0; c < k; c++) {
      const co = c * d
      let s = 0
      for (let t = 0; t < d; t++) s += (data[r * d + t]! - mean[t]!) * components[co + t]!
      out[r * k + c] = s
    }
  }
  return out
}

/**
 * Sample covariance (ddof = 1) of the rows of `data`, row-major [d, d]. Rows are centred in
 * chunks and transposed to columns, and C = Xc^T Xc is accumulated with 2 x 4 register tiles of
 * column dot products (upper triangle only), float64 throughout.
 */
export function covariance(data: Float32Array | Float64Array, n: number, d: number, mean: Float64Array): Float64Array {
  const cov = new Float64Array(d * d)
  const CH = Math.max(64, Math.min(n, Math.floor((1 << 22) / d))) // <= 32 MB of float64 columns
  const col = new Float64Array(d * CH)
  for (let r0 = 0; r0 < n; r0 += CH) {
    const m = Math.min(CH, n - r0)
    for (let r = 0; r < m; r++) {
      const o = (r0 + r) * d
      for (let t = 0; t < d; t++) col[t * m + r] = data[o + t]! - mean[t]!
    }
    accumulateGram(col, d, m, cov)
  }
  const s = 1 / (n - 1)
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = cov[i * d + j]! * s
      cov[i * d + j] = v
      cov[j * d + i] = v
    }
  }
  return cov
}

/** cov[i, j] += col_i . col_j for j >= i (and some j < i inside diagonal tiles), columns of length m. */
function accumulateGram(col: Float64Array, d: number, m: number, cov: Float64Array): void {
  let i = 0
  for (; i + 2 <= d; i += 2) {
    const a0 = i * m
    const a1 = a0 + m
    let j = i & ~3
    for (; j + 4 <= d; j += 4) {
      const b0 = j * m
      const b1 = b0 + m
      const b2 = b1 + m
      const b3 = b2 + m
      let s00 = 0
      let s01 = 0
      let s02 = 0
      let s03 = 0
      let s10 = 0
      let s11 = 0
      let s12 = 0
      let s13 = 0
      for (let t = 0; t < m; t++) {
        const x0 = col[a0 + t]!
        const x1 = col[a1 + t]!
        const y0 = col[b0 + t]!
        const y1 = col[b1 + t]!
        const y2 = col[b2 + t]!
        const y3 = col[b3 + t]!
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
      }
      const o0 = i * d + j
      const o1 = o0 + d
      cov[o0] = cov[o0]! + s00
      cov[o0 + 1] = cov[o0 + 1]! + s01
      cov[o0 + 2] = cov[o0 + 2]! + s02
      cov[o0 + 3] = cov[o0 + 3]! + s03
      cov[o1] = cov[o1]! + s10
      cov[o1 + 1] = cov[o1 + 1]! + s11
      cov[o1 + 2] = cov[o1 + 2]! + s12
      cov[o1 + 3] = cov[o1 + 3]! + s13
    }
    for (; j < d; j++) {
      const b0 = j * m
      let s0 = 0
      let s1 = 0
      for (let t = 0; t < m; t++) {
        const y = col[b0 + t]!
        s0 += col[a0 + t]! * y
        s1 += col[a1 + t]! * y
      }
      cov[i * d + j] = cov[i * d + j]! + s0
      cov[(i + 1) * d + j] = cov[(i + 1) * d + j]! + s1
    }
  }
  for (; i < d; i++) {
    const a0 = i * m
    for (let j = i; j < d; j++) {
      const b0 = j * m
      let s = 0
      for (let t = 0; t < m; t++) s += col[a0 + t]! * col[b0 + t]!
      cov[i * d + j] = cov[i * d + j]! + s
    }
  }
}

/** Orthonormalises the `m` rows (length len) of `a` in place (modified Gram-Schmidt, twice). */
function orthonormalizeRows(a: Float64Array, m: number, len: number): void {
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < m; i++) {
      const oi = i * len
      for (let j = 0; j < i; j++) {
        const oj = j * len
        let dot = 0
        for (let t = 0; t < len; t++) dot += a[oi + t]! * a[oj + t]!
        for (let t = 0; t < len; t++) a[oi + t] = a[oi + t]! - dot * a[oj + t]!
      }
      let nrm = 0
      for (let t = 0; t < len; t++) nrm += a[oi + t]! * a[oi + t]!
      nrm = Math.sqrt(nrm)
      const inv = nrm > 1e-300 ? 1 / nrm : 0
      for (let t = 0; t < len; t++) a[oi + t] = a[oi + t]! * inv
    }
  }
}

/** Yt[j, r] = (x_r - mean) . Wt[j]  for l test vectors Wt [l, d]; Yt is [l, n]. 2 x 4 tiles. */
function timesX(data: Float32Array | Float64Array, n: number, d: number, mean: Float64Array, Wt: Float64Array, l: number, Yt: Float64Array): void {
  const rows = new Float64Array(2 * d)
  for (let r = 0; r < n; r += 2) {
    const two = r + 1 < n
    for (let t = 0; t < d; t++) {
      rows[t] = data[r * d + t]! - mean[t]!
      rows[d + t] = two ? data[(r + 1) * d + t]! - mean[t]! : 0
    }
    let j = 0
    for (; j + 4 <= l; j += 4) {
      const w0 = j * d
      const w1 = w0 + d
      const w2 = w1 + d
      const w3 = w2 + d
      let s00 = 0
      let s01 = 0
      let s02 = 0
      let s03 = 0
      let s10 = 0
      let s11 = 0
      let s12 = 0
      let s13 = 0
      for (let t = 0; t < d; t++) {
        const x0 = rows[t]!
        const x1 = rows[d + t]!
        const y0 = Wt[w0 + t]!
        const y1 = Wt[w1 + t]!
        const y2 = Wt[w2 + t]!
        const y3 = Wt[w3 + t]!
        s00 += x0 * y0
        s01 += x0 * y1
        s02 += x0 * y2
        s03 += x0 * y3
        s10 += x1 * y0
        s11 += x1 * y1
        s12 += x1 * y2
        s13 += x1 * y3
      }
      Yt[j * n + r] = s00
      Yt[(j + 1) * n + r] = s01
      Yt[(j + 2) * n + r] = s02
      Yt[(j + 3) * n + r] = s03
      if (two) {
        Yt[j * n + r + 1] = s10
        Yt[(j + 1) * n + r + 1] = s11
        Yt[(j + 2) * n + r + 1] = s12
        Yt[(j + 3) * n + r + 1] = s13
      }
    }
    for (; j < l; j++) {
      const w0 = j * d
      let s0 = 0
      let s1 = 0
      for (let t = 0; t < d; t++) {
        s0 += rows[t]! * Wt[w0 + t]!
        s1 += rows[d + t]! * Wt[w0 + t]!
      }
      Yt[j * n + r] = s0
      if (two) Yt[j * n + r + 1] = s1
    }
  }
}

/** Zt[j] = sum_r Qt[j, r] (x_r - mean), Zt is [l, d]: centred rows transposed in chunks, 2 x 4 tiles. */
function timesXt(data: Float32Array | Float64Array, n: number, d: number, mean: Float64Array, Qt: Float64Array, l: number, Zt: Float64Array): void {
  Zt.fill(0)
  const CH = Math.max(64, Math.min(n, Math.floor((1 << 22) / d)))
  const col = new Float64Array(d * CH)
  for (let r0 = 0; r0 < n; r0 += CH) {
    const m = Math.min(CH, n - r0)
    for (let r = 0; r < m; r++) {
      const o = (r0 + r) * d
      for (let t = 0; t < d; t++) col[t * m + r] = data[o + t]! - mean[t]!
    }
    for (let t = 0; t < d; t += 2) {
      const two = t + 1 < d
      const a0 = t * m
      const a1 = two ? a0 + m : a0
      let j = 0
      for (; j + 4 <= l; j += 4) {
        const q0 = j * n + r0
        const q1 = q0 + n
        const q2 = q1 + n
        const q3 = q2 + n
        let s00 = 0
        let s01 = 0
        let s02 = 0
        let s03 = 0
        let s10 = 0
        let s11 = 0
        let s12 = 0
        let s13 = 0
        for (let r = 0; r < m; r++) {
          const x0 = col[a0 + r]!
          const x1 = col[a1 + r]!
          const y0 = Qt[q0 + r]!
          const y1 = Qt[q1 + r]!
          const y2 = Qt[q2 + r]!
          const y3 = Qt[q3 + r]!
          s00 += x0 * y0
          s01 += x0 * y1
          s02 += x0 * y2
          s03 += x0 * y3
          s10 += x1 * y0
          s11 += x1 * y1
          s12 += x1 * y2
          s13 += x1 * y3
        }
        Zt[j * d + t] = Zt[j * d + t]! + s00
        Zt[(j + 1) * d + t] = Zt[(j + 1) * d + t]! + s01
        Zt[(j + 2) * d + t] = Zt[(j + 2) * d + t]! + s02
        Zt[(j + 3) * d + t] = Zt[(j + 3) * d + t]! + s03
        if (two) {
          Zt[j * d + t + 1] = Zt[j * d + t + 1]! + s10
          Zt[(j + 1) * d + t + 1] = Zt[(j + 1) * d + t + 1]! + s11
          Zt[(j + 2) * d + t + 1] = Zt[(j + 2) * d + t + 1]! + s12
          Zt[(j + 3) * d + t + 1] = Zt[(j + 3) * d + t + 1]! + s13
        }
      }
      for (; j < l; j++) {
        const q0 = j * n + r0
        let s0 = 0
        let s1 = 0
        for (let r = 0; r < m; r++) {
          const y = Qt[q0 + r]!
          s0 += col[a0 + r]! * y
          s1 += col[a1 + r]! * y
        }
        Zt[j * d + t] = Zt[j * d + t]! + s0
        if (two) Zt[j * d + t + 1] = Zt[j * d + t + 1]! + s1
      }
    }
  }
}

function randomizedAxes(
  data: Float32Array | Float64Array,
  n: number,
  d: number,
  mean: Float64Array,
  k: number,
  l: number,
  q: number,
  seed: number
): { components: Float64Array; variance: Float64Array } {
  const rng = new Rng(seed)
  const W = new Float64Array(l * d)
  for (let i = 0; i < W.length; i++) W[i] = rng.normal()
  const Y = new Float64Array(l * n)
  timesX(data, n, d, mean, W, l, Y)
  orthonormalizeRows(Y, l, n)
  for (let it = 0; it < q; it++) {
    timesXt(data, n, d, mean, Y, l, W)
    orthonormalizeRows(W, l, d)
    timesX(data, n, d, mean, W, l, Y)
    orthonormalizeRows(Y, l, n)
  }
  // B = Q^T Xc  ([l, d]); B B^T = U S^2 U^T; right singular vectors V = B^T U S^-1.
  const B = W
  timesXt(data, n, d, mean, Y, l, B)
  const G = new Float64Array(l * l)
  for (let i = 0; i < l; i++) {
    for (let j = i; j < l; j++) {
      let s = 0
      for (let t = 0; t < d; t++) s += B[i * d + t]! * B[j * d + t]!
      G[i * l + j] = s
      G[j * l + i] = s
    }
  }
  const eig = symmetricEigen(G, l)
  const components = new Float64Array(k * d)
  const variance = new Float64Array(k)
  for (let c = 0; c < k; c++) {
    const s2 = Math.max(eig.values[c]!, 0)
    variance[c] = s2 / (n - 1)
    const co = c * d
    for (let j = 0; j < l; j++) {
      const u = eig.vectors[c * l + j]!
      for (let t = 0; t < d; t++) components[co + t] = components[co + t]! + u * B[j * d + t]!
    }
    let nrm = 0
    for (let t = 0; t < d; t++) nrm += components[co + t]! ** 2
    nrm = Math.sqrt(nrm)
    let best = 0
    for (let t = 1; t < d; t++) if (Math.abs(components[co + t]!) > Math.abs(components[co + best]!) + 1e-12) best = t
    const inv = (nrm > 0 ? 1 / nrm : 0) * (components[co + best]! < 0 ? -1 : 1)
    for (let t = 0; t < d; t++) components[co + t] = components[co + t]! * inv
  }
  return { components, variance }
}

export function checkShape(data: ArrayLike<number>, n: number, d: number, who: string): void {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`${who}: n must be an integer >= 1 (got ${n})`)
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`${who}: d must be an integer >= 1 (got ${d})`)
  if (data.length !== n * d) throw new RangeError(`${who}: data has ${data.length} values, expected n*d = ${n * d}`)
}
