// Embedding maps of a run's learned features, computed in a worker: features of one dataset
// split at a chosen layer from the run's trained model (or a chosen checkpoint), then PCA
// (instant), Barnes-Hut t-SNE (with a live preview of the layout) or UMAP. The result is stored
// as an artifact of the run (artifacts/maps/<key>.json) so it is computed once.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import './tf-gradients'
import { AlexNet } from './models/alexnet'
import { ParamStore } from './models/params'
import { extractFeatures } from './eval/features'
import { loadSplits, type RegisteredReader } from './data/sources'
import { loadParams } from './pipeline'
import { CheckpointStore } from './checkpoint'
import { pca } from './analysis/pca'
import { runTsne } from './analysis/tsne'
import { knnPreservation } from './analysis/metrics'
import type { RunConfig } from '../src-shared/config/run'
import type { TrainerState } from './trainer-state'
import { Rng } from './util/rng'
import { writeFileAtomic } from '../src-host/fsutil'
import { MapSpecSchema, type MapSpec } from '../src-shared/contract/maps'

export { MapSpecSchema, type MapSpec }

export type MapProgress = { phase: 'features' | 'pca' | 'knn' | 'affinities' | 'optimize' | 'umap' | 'done'; fraction: number; preview?: number[] }

export interface MapResult {
  key: string
  spec: MapSpec
  n: number
  xy: number[]
  labels: number[]
  /** Index in the split of each point's image. */
  indices: number[]
  classNames: string[]
  /** Fraction of each point's 10 nearest input neighbours kept among its 10 nearest on the map. */
  knnPreservation: number
  seconds: number
}

export function mapKey(spec: MapSpec): string {
  const p = spec.method === 'tsne' ? `-p${spec.perplexity}-i${spec.iterations}-s${spec.seed}` : spec.method === 'umap' ? `-k${spec.neighbors}-s${spec.seed}` : ''
  return `${spec.layer}-${spec.split}-${spec.source === 'latest' ? 'latest' : `ck${spec.source}`}-${spec.method}${p}-n${spec.maxPoints}`
}

const BACKBONE = /^(conv\d|fc6|fc7)\./

export async function computeMap(runDir: string, config: RunConfig, spec: MapSpec, onProgress: (p: MapProgress) => void, signal: AbortSignal, readRegistered?: RegisteredReader): Promise<MapResult> {
  const t0 = performance.now()
  const key = mapKey(spec)
  const artifacts = path.join(runDir, 'artifacts')
  let weights: Record<string, { shape: number[]; data: Float32Array }> | null = null
  if (spec.source === 'latest') {
    weights = (await loadParams(path.join(artifacts, 'backbone-finetune'))) ?? (await loadParams(path.join(artifacts, 'backbone-pretrain')))
  } else {
    const ck = await new CheckpointStore(path.join(runDir, 'checkpoints')).load(spec.source)
    const st = ck.state as { trainer?: TrainerState | null }
    if (!st.trainer) throw new Error(`checkpoint ${spec.source} holds no model (it was taken between stages); use "latest"`)
    weights = st.trainer.params
  }
  const ps = new ParamStore(new Rng(config.seed))
  const backbone = new AlexNet(ps, config.backbone)
  try {
    if (weights) ps.loadMatching(weights, (k) => BACKBONE.test(k))
    const data = await loadSplits(config.dataset, readRegistered)
    const full = spec.split === 'train' ? data.train : data.test
    // A seeded subset when the split is larger than the map may show.
    const rng = new Rng(spec.seed)
    const idx = Int32Array.from({ length: full.n }, (_, i) => i)
    for (let i = full.n - 1; i > 0; i--) {
      const j = rng.int(i + 1)
      ;[idx[i], idx[j]] = [idx[j]!, idx[i]!]
    }
    const take = idx.subarray(0, Math.min(spec.maxPoints, full.n)).sort()
    const px = full.size * full.size * 3
    const images = new Uint8Array(take.length * px)
    take.forEach((s, k) => images.set(full.images.subarray(s * px, (s + 1) * px), k * px))
    const set = { ...full, images, labels: Int32Array.from(take, (i) => full.labels[i]!), n: take.length }
    const tap = spec.layer === 'fc-inv' || spec.layer === 'fc-rot' ? 'fc' : spec.layer
    let { data: feats, dim } = extractFeatures(backbone, set, { layer: tap, pool: backbone.inputSize === 224 ? 6 : 3, onProgress: (d, t) => onProgress({ phase: 'features', fraction: d / t }) })
    if (spec.layer === 'fc-inv' || spec.layer === 'fc-rot') {
      // The decoupled halves of RFD's feature: first half rotation, second half invariant.
      const half = Math.floor(dim / 2)
      const off = spec.layer === 'fc-rot' ? 0 : half
      const w = spec.layer === 'fc-rot' ? half : dim - half
      const out = new Float32Array(set.n * w)
      for (let i = 0; i < set.n; i++) out.set(feats.subarray(i * dim + off, i * dim + off + w), i * w)
      feats = out
      dim = w
    }
    if (signal.aborted) throw new Error('cancelled')
    let xy: Float32Array
    if (spec.method === 'pca') {
      onProgress({ phase: 'pca', fraction: 0 })
      xy = Float32Array.from(pca(feats, set.n, dim, 2).projections)
    } else if (spec.method === 'tsne') {
      const r = await runTsne(
        feats,
        set.n,
        dim,
        { perplexity: Math.min(spec.perplexity, Math.floor((set.n - 1) / 3)), iterations: spec.iterations, learningRate: spec.learningRate ?? 'auto', earlyExaggeration: spec.earlyExaggeration, pcaDims: spec.pcaDims, init: 'pca', seed: spec.seed, signal, reportEvery: 25 },
        (p) => onProgress({ phase: p.phase === 'done' ? 'optimize' : p.phase, fraction: p.phase === 'optimize' || p.phase === 'done' ? p.iteration / p.iterations : p.fraction, preview: p.embedding ? Array.from(p.embedding) : undefined })
      )
      xy = r.embedding
    } else {
      onProgress({ phase: 'umap', fraction: 0 })
      const { UMAP } = await import('umap-js')
      const urng = new Rng(spec.seed)
      const umap = new UMAP({ nComponents: 2, nNeighbors: Math.min(spec.neighbors, set.n - 1), random: () => urng.uniform() })
      const rows = Array.from({ length: set.n }, (_, i) => Array.from(feats.subarray(i * dim, (i + 1) * dim)))
      const nEpochs = umap.initializeFit(rows)
      for (let e = 0; e < nEpochs; e++) {
        if (signal.aborted) throw new Error('cancelled')
        umap.step()
        if (e % 25 === 0) onProgress({ phase: 'umap', fraction: e / nEpochs })
      }
      xy = Float32Array.from(umap.getEmbedding().flat())
    }
    // Exact kNN in the input space is O(N^2 D): score on at most 2 000 points (a seeded random
    // subset already, since the map's images are one).
    const q = Math.min(set.n, 2000)
    const quality = knnPreservation(feats.subarray(0, q * dim), xy.subarray(0, q * 2), q, dim, 10)
    const result: MapResult = {
      key,
      spec,
      n: set.n,
      xy: Array.from(xy, (v) => +v.toFixed(4)),
      labels: Array.from(set.labels),
      indices: Array.from(take),
      classNames: set.classNames,
      knnPreservation: quality,
      seconds: (performance.now() - t0) / 1000
    }
    await fs.mkdir(path.join(artifacts, 'maps'), { recursive: true })
    await writeFileAtomic(path.join(artifacts, 'maps', `${key}.json`), JSON.stringify(result))
    onProgress({ phase: 'done', fraction: 1 })
    return result
  } finally {
    ps.dispose()
  }
}

export async function readMap(runDir: string, key: string): Promise<MapResult | null> {
  if (!/^[A-Za-z0-9._-]+$/.test(key)) return null
  try {
    return JSON.parse(await fs.readFile(path.join(runDir, 'artifacts', 'maps', `${key}.json`), 'utf8')) as MapResult
  } catch {
    return null
  }
}

