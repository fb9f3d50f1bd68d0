// Embedding maps of a run's learned features, computed in a worker: features of one dataset
// split at a chosen layer from the run's trained model (or a chosen checkpoint), then PCA
// (instant), Barnes-Hut t-SNE (with a live preview of the layout) or UMAP. The features are
// stored with the run (src-node/run-folder.ts names the files; up to 512 MB) so maps of the same
// features with other parameters skip the extraction, and each map is stored too so it is
// computed once.
import { promises as fs } from 'node:fs'
import './tf-gradients'
import * as tf from '@tensorflow/tfjs-core'
import { AlexNet } from './models/alexnet'
import { createMethod } from './methods/registry'
import type { Method } from './methods/types'
import { ParamStore } from './models/params'
import { extractFeaturesAsync } from './eval/features'
import { loadSplits, type RegisteredReader } from './data/sources'
import { selectImages } from '../src-node/dataset-folder'
import { CheckpointStore } from '../src-node/checkpoint'
import {
  featureFiles,
  featurePool,
  featuresKey,
  isBackboneParam,
  INIT_WEIGHTS,
  latestWeights,
  mapKey,
  runPaths,
  weightsIdOf,
  writeMap,
  type Params
} from '../src-node/run-folder'
import { pca } from './analysis/pca'
import { runTsne } from './analysis/tsne'
import { knnPreservation } from './analysis/metrics'
import type { RunConfig } from '../src-shared/config/run'
import { findMethod } from '../src-shared/methods/catalog'
import type { TrainerState } from './trainer-state'
import { Rng } from '../src-shared/rng'
import { writeFileAtomic } from '../src-node/fsutil'
import { readStartWeights } from './start-weights'
import type { MapProgress, MapResult, MapSpec } from '../src-shared/contract/maps'

/** Stored features are skipped above this size (a 9 216-d conv5 of 20 000 images is 737 MB). */
const MAX_STORED_FEATURE_BYTES = 512 * 2 ** 20

interface StoredFeatures {
  n: number
  dim: number
  indices: number[]
  labels: number[]
  classNames: string[]
  /** Identifies the weights: a change of the run's model (a resumed run finished) makes them stale. */
  weights: string
}

async function readFeatures(runDir: string, key: string, weights: string): Promise<(StoredFeatures & { data: Float32Array }) | null> {
  const files = featureFiles(runDir, key)
  try {
    const meta = JSON.parse(await fs.readFile(files.meta, 'utf8')) as StoredFeatures
    if (meta.weights !== weights) return null
    const buf = await fs.readFile(files.data)
    if (buf.byteLength !== meta.n * meta.dim * 4) return null
    return { ...meta, data: new Float32Array(buf.buffer, buf.byteOffset, meta.n * meta.dim) }
  } catch {
    return null // none yet, or unreadable: extract again
  }
}

async function loadWeights(runDir: string, source: MapSpec['source'], layer: MapSpec['layer'], config: RunConfig, ps: ParamStore): Promise<Params | null> {
  if (source === 'latest') {
    for (const a of latestWeights(layer)) {
      // The imported backbone (backbone.init) is the model of a run that trains none.
      if (a === INIT_WEIGHTS && config.backbone.init?.kind !== 'file') continue
      const w = await readStartWeights(runDir, a, ps)
      if (w) return w
    }
    return null
  }
  const ck = await new CheckpointStore(runPaths(runDir).checkpoints).load(source)
  const st = ck.state as { trainer?: TrainerState | null }
  if (!st.trainer) throw new Error(`checkpoint ${source} holds no model (it was taken between stages); use "latest"`)
  return st.trainer.params
}

export async function computeMap(
  runDir: string,
  config: RunConfig,
  spec: MapSpec,
  onProgress: (p: MapProgress) => void,
  signal: AbortSignal,
  readRegistered?: RegisteredReader
): Promise<MapResult> {
  const t0 = performance.now()
  const key = mapKey(spec)
  const weightsId = await weightsIdOf(runDir, spec.source, spec.layer)
  const fkey = featuresKey(spec)
  const ps = new ParamStore(new Rng(config.seed))
  const backbone = new AlexNet(ps, config.backbone)
  try {
    let feats: Float32Array
    let dim: number
    let set: { n: number; labels: Int32Array; classNames: string[] }
    let take: Int32Array
    const stored = await readFeatures(runDir, fkey, weightsId)
    if (stored) {
      onProgress({ phase: 'features', fraction: 1 })
      ;({ data: feats, dim } = stored)
      take = Int32Array.from(stored.indices)
      set = { n: stored.n, labels: Int32Array.from(stored.labels), classNames: stored.classNames }
    } else {
      // The projection: the pretraining method's own head over the backbone's fc feature.
      let method: Method | null = null
      if (spec.layer === 'proj') {
        const m = config.pretrain.method
        if (!config.pretrain.enabled || !findMethod(m.method)?.traits.projectionHead)
          throw new Error(`this run's pretraining (${config.pretrain.enabled ? m.method : 'off'}) has no projection head: map the fc feature instead`)
        method = createMethod(m, { params: ps, backbone, rng: new Rng(0), datasetSize: 1, numClasses: 2 })
      }
      const weights = await loadWeights(runDir, spec.source, spec.layer, config, ps)
      if (method && !weights) throw new Error('pretraining has not finished, so there is no projection head to map yet: choose a pretraining checkpoint')
      if (weights) ps.loadMatching(weights, (k) => isBackboneParam(k) || (method !== null && k.startsWith('proj_head.')))
      const data = await loadSplits(config.dataset, readRegistered)
      const full = spec.split === 'train' ? data.train : data.test
      // A seeded subset when the split is larger than the map may show.
      const rng = new Rng(spec.seed)
      const idx = Int32Array.from({ length: full.n }, (_, i) => i)
      for (let i = full.n - 1; i > 0; i--) {
        const j = rng.int(i + 1)
        ;[idx[i], idx[j]] = [idx[j]!, idx[i]!]
      }
      take = idx.subarray(0, Math.min(spec.maxPoints, full.n)).sort()
      const sub = selectImages(full, take)
      const tap = spec.layer === 'fc-inv' || spec.layer === 'fc-rot' || spec.layer === 'proj' ? 'fc' : spec.layer
      ;({ data: feats, dim } = await extractFeaturesAsync(backbone, sub, {
        layer: tap,
        pool: featurePool(0, backbone.inputSize),
        signal,
        onProgress: (d, t) => onProgress({ phase: 'features', fraction: d / t })
      }))
      if (spec.layer === 'fc-inv' || spec.layer === 'fc-rot') {
        // The decoupled halves of RFD's feature: first half rotation, second half invariant.
        const half = Math.floor(dim / 2)
        const off = spec.layer === 'fc-rot' ? 0 : half
        const w = spec.layer === 'fc-rot' ? half : dim - half
        const out = new Float32Array(sub.n * w)
        for (let i = 0; i < sub.n; i++) out.set(feats.subarray(i * dim + off, i * dim + off + w), i * w)
        feats = out
        dim = w
      }
      if (method?.project) {
        const fc = feats
        const rows = 256
        let out: Float32Array | null = null
        for (let i = 0; i < sub.n; i += rows) {
          const m = Math.min(rows, sub.n - i)
          const z = tf.tidy(() => method.project!(tf.tensor2d(fc.subarray(i * dim, (i + m) * dim), [m, dim])))
          out ??= new Float32Array(sub.n * z.shape[1])
          out.set(z.dataSync() as Float32Array, i * z.shape[1])
          z.dispose()
        }
        dim = out!.length / sub.n
        feats = out!
      }
      method?.dispose?.()
      set = sub
      if (feats.byteLength <= MAX_STORED_FEATURE_BYTES) {
        const meta: StoredFeatures = {
          n: set.n,
          dim,
          indices: Array.from(take),
          labels: Array.from(set.labels),
          classNames: set.classNames,
          weights: weightsId
        }
        const files = featureFiles(runDir, fkey)
        await fs.mkdir(runPaths(runDir).features, { recursive: true })
        await writeFileAtomic(files.data, Buffer.from(feats.buffer, feats.byteOffset, feats.byteLength))
        await writeFileAtomic(files.meta, JSON.stringify(meta))
      }
    }
    if (signal.aborted) throw new Error('cancelled')
    let xy: Float32Array
    if (spec.method === 'pca') {
      onProgress({ phase: 'pca', fraction: 0 })
      xy = Float32Array.from(pca(feats, set.n, dim, 2).projections)
    } else if (spec.method === 'tsne') {
      let labelsSent = false
      const r = await runTsne(
        feats,
        set.n,
        dim,
        {
          perplexity: Math.min(spec.perplexity, Math.floor((set.n - 1) / 3)),
          iterations: spec.iterations,
          learningRate: spec.learningRate ?? 'auto',
          earlyExaggeration: spec.earlyExaggeration,
          pcaDims: spec.pcaDims,
          init: 'pca',
          seed: spec.seed,
          signal,
          reportEvery: 25
        },
        (p) => {
          const preview = p.embedding ? Array.from(p.embedding) : undefined
          // The classes go with the first preview only: later ones are the layout alone.
          const classes = preview && !labelsSent ? { labels: Array.from(set.labels), classNames: set.classNames } : {}
          if (preview) labelsSent = true
          onProgress({
            phase: p.phase === 'done' ? 'optimize' : p.phase,
            fraction: p.phase === 'optimize' || p.phase === 'done' ? p.iteration / p.iterations : p.fraction,
            preview,
            ...classes
          })
        }
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
      weights: weightsId,
      knnPreservation: quality,
      seconds: (performance.now() - t0) / 1000
    }
    await writeMap(runDir, result)
    onProgress({ phase: 'done', fraction: 1 })
    return result
  } finally {
    ps.dispose()
  }
}
