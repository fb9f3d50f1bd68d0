// Exact k-nearest-neighbour graph (Euclidean), choosing the faster of the two exact searches:
// the vantage-point tree in low dimension, the blocked brute force with lower-bound screening
// from 16 dimensions up. Both return the same neighbours (up to ties at equal distance).

import { blockedKnn } from './knn-blocked'
import { knnGraph, type KnnGraph } from './vptree'

export type { KnnGraph } from './vptree'

export function exactKnn(data: Float32Array | Float64Array, n: number, d: number, k: number, method: 'auto' | 'vptree' | 'blocked' = 'auto'): KnnGraph {
  const blocked = method === 'blocked' || (method === 'auto' && d >= 16)
  return blocked ? blockedKnn(data, n, d, k) : knnGraph(data, n, d, k)
}
