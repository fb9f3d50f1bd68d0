// UMAP as a second embedding map, through the umap-js package (PAIR-code, MIT), made seeded and
// faster to prepare:
//  * optional PCA pre-reduction (default 50 dimensions), as for t-SNE;
//  * the exact kNN graph from ./knn.ts handed to umap-js (setPrecomputedKNN), instead of its
//    NN-descent, with the point itself first at distance 0 as umap expects;
//  * umap-js's `random` replaced by the project's seeded Rng, so the same seed gives the same map;
//  * epochs run one at a time, with progress, a live layout and cancellation through AbortSignal.
// Runs wherever umap-js does (Node, browsers, workers).

import { UMAP } from 'umap-js'
import { Rng } from '../../src-shared/rng'
import { exactKnn } from './knn'
import { checkShape, pca } from './pca'

export interface UmapOptions {
  /** Neighbours (the point itself included, as in umap-learn), integer in [2, N-1]. Default 15. */
  nNeighbors?: number
  /** Minimum distance between embedded points, in [0, spread]. Default 0.1. */
  minDist?: number
  /** Scale of the embedded points, > 0. Default 1. */
  spread?: number
  /** Optimisation epochs, integer >= 1; default by N as umap-js (500 up to 2 500 points ... 200 above 7 500). */
  nEpochs?: number
  /** PCA pre-reduction dimension, integer >= 0 (0 or >= D: none). Default 50. */
  pcaDims?: number
  /** Seed of the initial layout and of the negative sampling. Default 0. */
  seed?: number
}

export interface UmapProgress {
  phase: 'prepare' | 'optimize' | 'done'
  epoch: number
  epochs: number
  embedding?: Float32Array
}

/**
 * UMAP to 2-D. Resolves with Float32Array [N, 2]; rejects with the signal's reason on abort and
 * with RangeError for invalid options.
 */
export async function runUmap(
  data: Float32Array,
  n: number,
  d: number,
  opts: UmapOptions & { signal?: AbortSignal; reportEvery?: number } = {},
  onProgress?: (p: UmapProgress) => void
): Promise<Float32Array> {
  checkShape(data, n, d, 'UMAP')
  const nNeighbors = opts.nNeighbors ?? 15
  if (!Number.isInteger(nNeighbors) || nNeighbors < 2 || nNeighbors > n - 1) {
    throw new RangeError(`UMAP option nNeighbors must be an integer in [2, N-1] = [2, ${n - 1}] (got ${nNeighbors})`)
  }
  const spread = opts.spread ?? 1
  if (!(spread > 0) || !Number.isFinite(spread)) throw new RangeError(`UMAP option spread must be a number > 0 (got ${spread})`)
  const minDist = opts.minDist ?? 0.1
  if (!(minDist >= 0 && minDist <= spread)) throw new RangeError(`UMAP option minDist must be a number in [0, spread] = [0, ${spread}] (got ${minDist})`)
  const pcaDims = opts.pcaDims ?? 50
  if (!Number.isInteger(pcaDims) || pcaDims < 0) throw new RangeError(`UMAP option pcaDims must be an integer >= 0 (got ${pcaDims})`)
  if (opts.nEpochs !== undefined && (!Number.isInteger(opts.nEpochs) || opts.nEpochs < 1)) {
    throw new RangeError(`UMAP option nEpochs must be an integer >= 1 (got ${opts.nEpochs})`)
  }
  const every = opts.reportEvery ?? 10
  if (!Number.isInteger(every) || every < 1) throw new RangeError(`UMAP option reportEvery must be an integer >= 1 (got ${every})`)
  const seed = opts.seed ?? 0
  const signal = opts.signal
  const pause = () => new Promise<void>((r) => setTimeout(r, 0))

  onProgress?.({ phase: 'prepare', epoch: 0, epochs: opts.nEpochs ?? 0 })
  let x = data
  let dim = d
  if (pcaDims > 0 && pcaDims < d && pcaDims < n) {
    x = pca(data, n, d, pcaDims, { seed }).projections
    dim = pcaDims
  }
  signal?.throwIfAborted()
  await pause()
  signal?.throwIfAborted()
  const g = exactKnn(x, n, dim, nNeighbors - 1)
  const knnIndices: number[][] = []
  const knnDistances: number[][] = []
  const rows: number[][] = []
  for (let i = 0; i < n; i++) {
    const idx = [i]
    const dist = [0]
    for (let s = 0; s < g.k; s++) {
      idx.push(g.indices[i * g.k + s]!)
      dist.push(g.distances[i * g.k + s]!)
    }
    knnIndices.push(idx)
    knnDistances.push(dist)
    rows.push(Array.from(x.subarray(i * dim, (i + 1) * dim)))
  }
  signal?.throwIfAborted()
  await pause()
  signal?.throwIfAborted()
  const rng = new Rng(seed)
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors,
    minDist,
    spread,
    nEpochs: opts.nEpochs,
    random: () => rng.uniform()
  })
  umap.setPrecomputedKNN(knnIndices, knnDistances)
  const epochs = umap.initializeFit(rows)
  const snapshot = (): Float32Array => {
    const e = umap.getEmbedding()
    const out = new Float32Array(n * 2)
    for (let i = 0; i < n; i++) {
      out[2 * i] = e[i]![0]!
      out[2 * i + 1] = e[i]![1]!
    }
    return out
  }
  onProgress?.({ phase: 'optimize', epoch: 0, epochs, embedding: snapshot() })
  for (let ep = 0; ep < epochs;) {
    signal?.throwIfAborted()
    const end = Math.min(epochs, ep + every)
    for (; ep < end; ep++) umap.step()
    onProgress?.({ phase: 'optimize', epoch: ep, epochs, embedding: snapshot() })
    await pause()
  }
  signal?.throwIfAborted()
  const out = snapshot()
  onProgress?.({ phase: 'done', epoch: epochs, epochs, embedding: out })
  return out
}
