// Quality of an embedding map, computed the way ../shared/peer-bench/sklearn_tsne_bench.py does
// (scikit-learn NearestNeighbors, Euclidean, each point's own entry dropped), so the numbers are
// comparable:
//   * knnPreservation: mean over points of |kNN_high(i) ∩ kNN_low(i)| / k  ("10-NN preservation")
//   * knnLabelAccuracy: mean over points of the fraction of its k map neighbours sharing its label
//   * knnClassify: leave-one-out majority vote of the k map neighbours (classification accuracy)
//   * trustworthiness (Venna & Kaski), O(N^2 D): for test-sized inputs.
// Exact neighbours come from ./knn.ts (vantage-point tree or blocked brute force).
//
// Pure TypeScript: runs in Node, browsers and workers.

import { checkShape } from './pca'
import { exactKnn, type KnnGraph } from './knn'

export function knnPreservation(high: Float32Array | Float64Array, low: Float32Array | Float64Array, n: number, dHigh: number, k = 10, dLow = 2): number {
  checkShape(high, n, dHigh, 'knnPreservation(high)')
  checkShape(low, n, dLow, 'knnPreservation(low)')
  const a = exactKnn(high, n, dHigh, k)
  const b = exactKnn(low, n, dLow, k)
  return graphOverlap(a, b, n)
}

/** Mean fraction of shared neighbours between two kNN graphs with the same k. */
export function graphOverlap(a: KnnGraph, b: KnnGraph, n: number): number {
  const k = a.k
  if (b.k !== k) throw new RangeError(`graphOverlap: k differs (${a.k} vs ${b.k})`)
  const mark = new Int32Array(n).fill(-1)
  let total = 0
  for (let i = 0; i < n; i++) {
    for (let s = 0; s < k; s++) {
      const j = a.indices[i * k + s]!
      if (j >= 0) mark[j] = i
    }
    let hit = 0
    for (let s = 0; s < k; s++) {
      const j = b.indices[i * k + s]!
      if (j >= 0 && mark[j] === i) hit++
    }
    total += hit / k
  }
  return total / n
}

/** Mean fraction of each point's k nearest map neighbours that share its label. */
export function knnLabelAccuracy(low: Float32Array | Float64Array, labels: ArrayLike<number>, n: number, dLow = 2, k = 10): number {
  checkShape(low, n, dLow, 'knnLabelAccuracy')
  const g = exactKnn(low, n, dLow, k)
  let total = 0
  for (let i = 0; i < n; i++) {
    let same = 0
    for (let s = 0; s < k; s++) if (labels[g.indices[i * k + s]!] === labels[i]) same++
    total += same / k
  }
  return total / n
}

/** Leave-one-out k-NN majority-vote classification accuracy of `labels` in the map (ties: nearest wins). */
export function knnClassify(low: Float32Array | Float64Array, labels: ArrayLike<number>, n: number, dLow = 2, k = 10): number {
  checkShape(low, n, dLow, 'knnClassify')
  const g = exactKnn(low, n, dLow, k)
  const votes = new Map<number, number>()
  let correct = 0
  for (let i = 0; i < n; i++) {
    votes.clear()
    let best = -1
    let bestVotes = 0
    for (let s = 0; s < k; s++) {
      const l = labels[g.indices[i * k + s]!]!
      const v = (votes.get(l) ?? 0) + 1
      votes.set(l, v)
      if (v > bestVotes) {
        bestVotes = v
        best = l
      }
    }
    if (best === labels[i]) correct++
  }
  return correct / n
}

/**
 * Trustworthiness T(k) in [0, 1] (scikit-learn's definition): penalises map neighbours that are
 * not input neighbours by their input rank. O(N^2 D) time, O(N) memory: for N up to a few thousand.
 */
export function trustworthiness(high: Float32Array | Float64Array, low: Float32Array | Float64Array, n: number, dHigh: number, k = 10, dLow = 2): number {
  checkShape(high, n, dHigh, 'trustworthiness(high)')
  checkShape(low, n, dLow, 'trustworthiness(low)')
  if (!Number.isInteger(k) || k < 1 || k >= n / 2) throw new RangeError(`trustworthiness: k must be an integer in [1, N/2) (got ${k})`)
  const b = exactKnn(low, n, dLow, k)
  const dist = new Float64Array(n)
  const idx = new Int32Array(n)
  const rank = new Int32Array(n)
  let t = 0
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0
      for (let c = 0; c < dHigh; c++) {
        const z = high[i * dHigh + c]! - high[j * dHigh + c]!
        s += z * z
      }
      dist[j] = j === i ? -1 : s
      idx[j] = j
    }
    idx.sort((x, y) => dist[x]! - dist[y]! || x - y)
    for (let r = 0; r < n; r++) rank[idx[r]!] = r // self has rank 0, nearest other rank 1
    for (let s = 0; s < k; s++) {
      const r = rank[b.indices[i * k + s]!]!
      if (r > k) t += r - k
    }
  }
  return 1 - (2 / (n * k * (2 * n - 3 * k - 1))) * t
}
