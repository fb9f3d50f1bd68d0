// Synthetic clustered Gaussian features, the generator of ../shared/peer-bench/sklearn_tsne_bench.py
// rewritten on the project's seeded Rng: `clusters` centres ~ N(0, 1)^dim, labels uniform in
// [0, clusters), x = centre[label] + N(0, 0.9^2)^dim, float32. Statistically the same data as the
// peer's numpy generator (not bit-identical: numpy's PCG64/ziggurat streams differ from mulberry32).
//
// Pure TypeScript: runs in Node, browsers and workers.

import { Rng } from '../../src-shared/rng'

export interface ClusteredData {
  data: Float32Array
  labels: Int32Array
  n: number
  dim: number
}

export function clusteredGaussians(n: number, dim: number, clusters = 10, seed = 0, noise = 0.9, centerScale = 1): ClusteredData {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`clusteredGaussians: n must be an integer >= 1 (got ${n})`)
  if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`clusteredGaussians: dim must be an integer >= 1 (got ${dim})`)
  if (!Number.isInteger(clusters) || clusters < 1) throw new RangeError(`clusteredGaussians: clusters must be an integer >= 1 (got ${clusters})`)
  const rng = new Rng(seed)
  const centers = new Float64Array(clusters * dim)
  for (let i = 0; i < centers.length; i++) centers[i] = centerScale * rng.normal()
  const labels = new Int32Array(n)
  for (let i = 0; i < n; i++) labels[i] = rng.int(clusters)
  const data = new Float32Array(n * dim)
  for (let i = 0; i < n; i++) {
    const c = labels[i]! * dim
    for (let j = 0; j < dim; j++) data[i * dim + j] = centers[c + j]! + noise * rng.normal()
  }
  return { data, labels, n, dim }
}
