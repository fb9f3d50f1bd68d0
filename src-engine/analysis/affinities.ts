// t-SNE input affinities from a k-nearest-neighbour graph.
//
// For each point i a Gaussian bandwidth is found by bisection on beta = 1/(2 sigma_i^2) so that
// the entropy of p_{j|i} ∝ exp(-beta ||x_i - x_j||^2) over its k neighbours equals
// log(perplexity) (natural log; scikit-learn's _binary_search_perplexity: 100 steps, tolerance
// 1e-5). Squared distances are shifted by the nearest one before exponentiation, which leaves
// p_{j|i} unchanged and avoids underflow in high dimension. The joint P = (P_cond + P_cond^T) /
// sum is stored as a symmetric CSR matrix.
//
// Pure TypeScript: runs in Node, browsers and workers.

import type { KnnGraph } from './vptree'

export interface SparseP {
  n: number
  /** Row offsets [n + 1]. */
  rowPtr: Int32Array
  /** Column indices [nnz]. */
  cols: Int32Array
  /** Values [nnz]; all rows together sum to 1. */
  vals: Float64Array
}

/** Conditional affinities p_{j|i} (rows sum to 1), laid out like knn.indices [n, k]. */
export function conditionalP(knn: KnnGraph, n: number, perplexity: number): Float64Array {
  const k = knn.k
  const P = new Float64Array(n * k)
  const d2 = new Float64Array(k)
  const target = Math.log(perplexity)
  const tol = 1e-5
  for (let i = 0; i < n; i++) {
    const o = i * k
    let dmin = Infinity
    let cnt = 0
    for (let j = 0; j < k; j++) {
      const idx = knn.indices[o + j]!
      const v = idx < 0 ? Infinity : knn.distances[o + j]! * knn.distances[o + j]!
      d2[j] = v
      if (v < dmin) dmin = v
      if (Number.isFinite(v)) cnt++
    }
    if (cnt === 0) continue
    for (let j = 0; j < k; j++) d2[j] = d2[j]! - dmin
    let beta = 1
    let lo = -Infinity
    let hi = Infinity
    let sumP = 0
    for (let step = 0; step < 100; step++) {
      sumP = 0
      let sumDP = 0
      for (let j = 0; j < k; j++) {
        const p = Math.exp(-d2[j]! * beta)
        P[o + j] = p
        sumP += p
        sumDP += d2[j]! * p
      }
      // entropy H = log(sumP) + beta * <d2>
      const H = Math.log(sumP) + (beta * sumDP) / sumP
      const diff = H - target
      if (Math.abs(diff) <= tol) break
      if (diff > 0) {
        lo = beta
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2
      } else {
        hi = beta
        beta = lo === -Infinity ? beta / 2 : (beta + lo) / 2
      }
    }
    const inv = 1 / sumP
    for (let j = 0; j < k; j++) P[o + j] = P[o + j]! * inv
  }
  return P
}

/** Symmetrised joint P = (P_cond + P_cond^T) / sum(...), as CSR. */
export function symmetrize(knn: KnnGraph, Pc: Float64Array, n: number): SparseP {
  const k = knn.k
  // Transpose of the kNN graph: for each j, the i having j among their neighbours.
  const tCount = new Int32Array(n + 1)
  for (let e = 0; e < n * k; e++) {
    const j = knn.indices[e]!
    if (j >= 0) tCount[j + 1] = tCount[j + 1]! + 1
  }
  for (let j = 0; j < n; j++) tCount[j + 1] = tCount[j + 1]! + tCount[j]!
  const tPtr = tCount.slice()
  const tSrc = new Int32Array(tPtr[n]!)
  const tVal = new Float64Array(tPtr[n]!)
  const fill = tPtr.slice(0, n)
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < k; s++) {
      const j = knn.indices[i * k + s]!
      if (j < 0) continue
      const at = fill[j]!
      fill[j] = at + 1
      tSrc[at] = i
      tVal[at] = Pc[i * k + s]!
    }
  }
  // Merge row i of the graph and row i of its transpose.
  const pos = new Int32Array(n).fill(-1)
  const rowPtr = new Int32Array(n + 1)
  const maxNnz = n * k + tPtr[n]!
  let cols = new Int32Array(maxNnz)
  let vals = new Float64Array(maxNnz)
  let nnz = 0
  for (let i = 0; i < n; i++) {
    const start = nnz
    for (let s = 0; s < k; s++) {
      const j = knn.indices[i * k + s]!
      if (j < 0) continue
      pos[j] = nnz
      cols[nnz] = j
      vals[nnz] = Pc[i * k + s]!
      nnz++
    }
    for (let t = tPtr[i]!; t < tPtr[i + 1]!; t++) {
      const j = tSrc[t]!
      const at = pos[j]!
      if (at >= start) {
        vals[at] = vals[at]! + tVal[t]!
      } else {
        pos[j] = nnz
        cols[nnz] = j
        vals[nnz] = tVal[t]!
        nnz++
      }
    }
    rowPtr[i + 1] = nnz
  }
  cols = cols.slice(0, nnz)
  vals = vals.slice(0, nnz)
  let total = 0
  for (let e = 0; e < nnz; e++) total += vals[e]!
  const inv = 1 / Math.max(total, Number.EPSILON)
  for (let e = 0; e < nnz; e++) vals[e] = vals[e]! * inv
  return { n, rowPtr, cols, vals }
}
