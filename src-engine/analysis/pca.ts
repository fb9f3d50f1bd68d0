// Principal component analysis of a row-major Float32Array [n, d].
//
// Two solvers, both deterministic:
//  * 'exact': the d x d covariance (one pass over the data, 4 rows at a time, float64
//    accumulation) and its full symmetric eigen-decomposition (Householder + QL, ./eigen.ts).
//    Cost ~ n*d^2/2 + O(d^3): 20 000 x 256 takes a fraction of a second.
//  * 'randomized': Halko-Martinsson-Tropp range finder with subspace (power) iterations on the
//    implicitly centred data, seeded. Cost ~ n*d*(k+10)*(2q+3); used automatically when d is large
//    (e.g. 4096-wide fc features) and k small, where forming d x d would dominate.
// Components are unit rows with the sign fixed (largest-magnitude coefficient positive), so the
// result does not depend on solver round-off in sign.
//
// Pure TypeScript: runs in Node, browsers and workers.

import { Rng } from '../util/rng'
import { symmetricEigen } from './eigen'

export interface PcaOptions {
  /** 'auto' (default) picks the cheaper solver by an operation-count estimate. */
  method?: 'auto' | 'exact' | 'randomized'
  /** Seed of the random test matrix of the randomized solver (default 0). */
  seed?: number
  /** Subspace iterations of the randomized solver (default 4). */
  powerIterations?: number
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

  const l = Math.min(k + 10, Math.min(n, d))
  let method = opts.method ?? 'auto'
  if (method === 'auto') {
    const exactCost = (n * d * d) / 2 + 6 * d * d * d
    const randCost = n * d * l * (2 * q + 3)
    method = exactCost <= randCost ? 'exact' : 'randomized'
  }
  let components: Float64Array
  let explainedVariance: Float64Array
  if (method === 'exact') {
    const cov = covariance(data, n, d, mean)
    const eig = symmetricEigen(cov, d)
    components = eig.vectors.slice(0, k * d)
    explainedVariance = new Float64Array(k)
    for (let c = 0; c < k; c++) explainedVariance[c] = Math.max(0, eig.values[c]!)
  } else {
    const res = randomizedAxes(data, n, d, mean, k, l, q, opts.seed ?? 0)
    components = res.components
    explainedVariance = res.variance
  }
  const projections = project(data, n, d, mean, components, k)
  const explainedVarianceRatio = new Float64Array(k)
  for (let c = 0; c < k; c++) explainedVarianceRatio[c] = totalVariance > 0 ? explainedVariance[c]! / totalVariance : 0
  return { projections, components, mean, explainedVariance, explainedVarianceRatio, totalVariance, method }
}

/** Projects rows of `data` [n, d] on the unit rows of `components` [k, d] after subtracting `mean`. */
export function project(
  data: Float32Array | Float64Array,
  n: number,
  d: number,
  mean: Float64Array,
  components: Float64Array,
  k: number
): Float32Array {
  const out = new Float32Array(n * k)
  const row = new Float64Array(d)
  for (let r = 0; r < n; r++) {
    const o = r * d
    for (let j = 0; j < d; j++) row[j] = data[o + j]! - mean[j]!
    for (let c = 0; c < k; c++) {
      const co = c * d
      let s = 0
      for (let j = 0; j < d; j++) s += row[j]! * components[co + j]!
      out[r * k + c] = s
    }
  }
  return out
}

/** Sample covariance (ddof = 1) of the rows of `data`, row-major [d, d]. */
export function covariance(data: Float32Array | Float64Array, n: number, d: number, mean: Float64Array): Float64Array {
  const cov = new Float64Array(d * d)
  const b = new Float64Array(4 * d)
  let r = 0
  for (; r + 4 <= n; r += 4) {
    for (let t = 0; t < 4; t++) {
      const o = (r + t) * d
      for (let j = 0; j < d; j++) b[t * d + j] = data[o + j]! - mean[j]!
    }
    for (let i = 0; i < d; i++) {
      const a0 = b[i]!
      const a1 = b[d + i]!
      const a2 = b[2 * d + i]!
      const a3 = b[3 * d + i]!
      const ci = i * d
      for (let j = i; j < d; j++) {
        cov[ci + j] = cov[ci + j]! + a0 * b[j]! + a1 * b[d + j]! + a2 * b[2 * d + j]! + a3 * b[3 * d + j]!
      }
    }
  }
  for (; r < n; r++) {
    const o = r * d
    for (let j = 0; j < d; j++) b[j] = data[o + j]! - mean[j]!
    for (let i = 0; i < d; i++) {
      const a0 = b[i]!
      const ci = i * d
      for (let j = i; j < d; j++) cov[ci + j] = cov[ci + j]! + a0 * b[j]!
    }
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

/** Yt[j, r] = (x_r - mean) . Wt[j]  for l test vectors Wt [l, d]; Yt is [l, n]. */
function timesX(data: Float32Array | Float64Array, n: number, d: number, mean: Float64Array, Wt: Float64Array, l: number, Yt: Float64Array): void {
  const row = new Float64Array(d)
  for (let r = 0; r < n; r++) {
    const o = r * d
    for (let t = 0; t < d; t++) row[t] = data[o + t]! - mean[t]!
    for (let j = 0; j < l; j++) {
      const oj = j * d
      let s = 0
      for (let t = 0; t < d; t++) s += row[t]! * Wt[oj + t]!
      Yt[j * n + r] = s
    }
  }
}

/** Zt[j] = sum_r Qt[j, r] (x_r - mean), Zt is [l, d]. */
function timesXt(data: Float32Array | Float64Array, n: number, d: number, mean: Float64Array, Qt: Float64Array, l: number, Zt: Float64Array): void {
  Zt.fill(0)
  const row = new Float64Array(d)
  for (let r = 0; r < n; r++) {
    const o = r * d
    for (let t = 0; t < d; t++) row[t] = data[o + t]! - mean[t]!
    for (let j = 0; j < l; j++) {
      const c = Qt[j * n + r]!
      if (c === 0) continue
      const oj = j * d
      for (let t = 0; t < d; t++) Zt[oj + t] = Zt[oj + t]! + c * row[t]!
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
