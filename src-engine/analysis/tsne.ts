// Seeded, reproducible Barnes-Hut t-SNE to 2-D (van der Maaten 2014), shaped for progress, live
// preview and cancel.
//
// Pipeline (all parameters fixed up front in TsneOptions, defaults as in scikit-learn >= 1.2):
//   1. PCA pre-reduction of the input to `pcaDims` (default 50) dimensions (./pca.ts).
//   2. Exact kNN with a vantage-point tree, k = min(N-1, floor(3*perplexity) + 1) (./vptree.ts).
//   3. Per-point bisection for the Gaussian bandwidth matching the perplexity, symmetrised sparse
//      P normalised to sum 1 (./affinities.ts).
//   4. Initial layout: the first two principal components scaled to std 1e-4 ('pca', as
//      openTSNE and scikit-learn), or 1e-4 * N(0, 1) ('random', seeded).
//   5. Gradient descent: attractive forces over the sparse P, repulsive forces by Barnes-Hut on a
//      flat quadtree (./bh.ts, theta default 0.5); early exaggeration (12 for 250 iterations)
//      with momentum 0.5, then momentum 0.8; delta-bar-delta gains (+0.2 / *0.8, min 0.01) and
//      learning rate 'auto' = max(N / earlyExaggeration / 4, 50). As in scikit-learn, the update
//      and the gains restart when the exaggeration phase ends.
// Same input + same options (seed included) => bit-identical output: everything is single-threaded
// float64 arithmetic in a fixed order, and the only randomness is the seeded Rng.
//
// Pure TypeScript on typed arrays: runs in Node, browsers and workers (uses only setTimeout,
// AbortSignal and performance.now, which all three provide).

import { Rng } from '../../src-shared/rng'
import { conditionalP, symmetrize, type SparseP } from './affinities'
import { QuadTree } from './bh'
import { checkShape, pca } from './pca'
import { blockedKnnBuilder } from './knn-blocked'
import { knnBuilder, type KnnGraph } from './vptree'

export interface TsneOptions {
  /** Effective number of neighbours, in [1, N/3). Default 30. */
  perplexity?: number
  /** Total gradient-descent iterations, exaggeration phase included; integer >= 0. Default 1000. */
  iterations?: number
  /** Step size, > 0, or 'auto' = max(N / earlyExaggeration / 4, 50). Default 'auto'. */
  learningRate?: number | 'auto'
  /** Factor on P during the first `exaggerationIters` iterations, >= 1. Default 12. */
  earlyExaggeration?: number
  /** Length of the early-exaggeration phase, integer in [0, iterations]. Default min(250, iterations). */
  exaggerationIters?: number
  /** Momentum during the exaggeration phase, in [0, 1). Default 0.5. */
  initialMomentum?: number
  /** Momentum after it, in [0, 1). Default 0.8. */
  finalMomentum?: number
  /** Barnes-Hut accuracy, in [0, 1]; 0 is exact (O(N^2)). Default 0.5. */
  theta?: number
  /** Initial layout: 'pca' (default), 'random', or an explicit Float32Array [N, 2] used as given. */
  init?: 'pca' | 'random' | Float32Array
  /**
   * PCA pre-reduction dimension before the affinities, integer >= 0; 0 or >= D disables it.
   * Default 50. For D > 256 the axes are estimated on 4096 evenly strided rows (all rows are
   * projected), which keeps 20 000 x 4096 features to seconds.
   */
  pcaDims?: number
  /** Seed of every random choice (vantage points, random init, randomized PCA). Default 0. */
  seed?: number
  /** Lower bound of the per-coordinate gains, > 0. Default 0.01. */
  minGain?: number
  /**
   * Exact kNN search for the affinities: 'vptree' (vantage-point tree), 'blocked' (tiled brute
   * force with lower-bound screening, ./knn-blocked.ts, faster from ~16 dimensions up) or 'auto'
   * (default: 'blocked' when the (reduced) dimension is >= 16). Both return the same neighbours.
   */
  knn?: 'auto' | 'vptree' | 'blocked'
}

export interface ResolvedTsneOptions {
  perplexity: number
  iterations: number
  learningRate: number
  earlyExaggeration: number
  exaggerationIters: number
  initialMomentum: number
  finalMomentum: number
  theta: number
  init: 'pca' | 'random' | Float32Array
  pcaDims: number
  seed: number
  minGain: number
  knn: 'auto' | 'vptree' | 'blocked'
  /** Neighbours per point used for P: min(N - 1, floor(3 * perplexity) + 1). */
  neighbors: number
}

export type TsnePhase = 'pca' | 'knn' | 'affinities' | 'optimize' | 'done'

export interface TsneProgress {
  phase: TsnePhase
  /** Completed gradient-descent iterations. */
  iteration: number
  /** Total iterations (options.iterations). */
  iterations: number
  /** Fraction of the current phase done, in [0, 1]. */
  fraction: number
  /** KL(P || Q) at the last iteration of the chunk (optimize phase only). */
  kl?: number
  /** Copy of the current layout, Float32Array [N, 2] (optimize/done phases). */
  embedding?: Float32Array
}

export interface TsneTimings {
  pcaMs: number
  knnMs: number
  affinitiesMs: number
  optimizeMs: number
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now())

function rangeError(name: string, range: string, got: unknown): RangeError {
  return new RangeError(`t-SNE option ${name} must be ${range} (got ${String(got)})`)
}

/** Validates options against N and D and fills the defaults. Throws RangeError naming the option. */
export function resolveTsneOptions(n: number, _d: number, o: TsneOptions = {}): ResolvedTsneOptions {
  if (!Number.isInteger(n) || n < 4) throw new RangeError(`t-SNE needs N >= 4 points (got ${n})`)
  const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)
  const perplexity = o.perplexity ?? 30
  if (!num(perplexity) || perplexity < 1 || perplexity >= n / 3) {
    throw rangeError('perplexity', `a number in [1, N/3) = [1, ${+(n / 3).toFixed(3)}) for N = ${n}`, perplexity)
  }
  const iterations = o.iterations ?? 1000
  if (!Number.isInteger(iterations) || iterations < 0 || iterations > 1e7) {
    throw rangeError('iterations', 'an integer in [0, 10000000]', iterations)
  }
  const earlyExaggeration = o.earlyExaggeration ?? 12
  if (!num(earlyExaggeration) || earlyExaggeration < 1) throw rangeError('earlyExaggeration', 'a number >= 1', earlyExaggeration)
  const exaggerationIters = o.exaggerationIters ?? Math.min(250, iterations)
  if (!Number.isInteger(exaggerationIters) || exaggerationIters < 0 || exaggerationIters > iterations) {
    throw rangeError('exaggerationIters', `an integer in [0, iterations] = [0, ${iterations}]`, exaggerationIters)
  }
  const lr = o.learningRate ?? 'auto'
  let learningRate: number
  if (lr === 'auto') learningRate = Math.max(n / earlyExaggeration / 4, 50)
  else if (num(lr) && lr > 0) learningRate = lr
  else throw rangeError('learningRate', "a number > 0 or 'auto'", lr)
  const initialMomentum = o.initialMomentum ?? 0.5
  if (!num(initialMomentum) || initialMomentum < 0 || initialMomentum >= 1) throw rangeError('initialMomentum', 'a number in [0, 1)', initialMomentum)
  const finalMomentum = o.finalMomentum ?? 0.8
  if (!num(finalMomentum) || finalMomentum < 0 || finalMomentum >= 1) throw rangeError('finalMomentum', 'a number in [0, 1)', finalMomentum)
  const theta = o.theta ?? 0.5
  if (!num(theta) || theta < 0 || theta > 1) throw rangeError('theta', 'a number in [0, 1]', theta)
  const init = o.init ?? 'pca'
  if (init instanceof Float32Array) {
    if (init.length !== n * 2) throw rangeError('init', `'pca', 'random' or a Float32Array of length N*2 = ${n * 2}`, `Float32Array(${init.length})`)
    for (let i = 0; i < init.length; i++) if (!Number.isFinite(init[i]!)) throw rangeError('init', 'finite coordinates', init[i])
  } else if (init !== 'pca' && init !== 'random') {
    throw rangeError('init', "'pca', 'random' or a Float32Array of length N*2", init)
  }
  const pcaDims = o.pcaDims ?? 50
  if (!Number.isInteger(pcaDims) || pcaDims < 0) throw rangeError('pcaDims', 'an integer >= 0 (0 = no pre-reduction)', pcaDims)
  const seed = o.seed ?? 0
  if (!num(seed)) throw rangeError('seed', 'a finite number', seed)
  const minGain = o.minGain ?? 0.01
  if (!num(minGain) || minGain <= 0) throw rangeError('minGain', 'a number > 0', minGain)
  const knn = o.knn ?? 'auto'
  if (knn !== 'auto' && knn !== 'vptree' && knn !== 'blocked') throw rangeError('knn', "'auto', 'vptree' or 'blocked'", knn)
  const neighbors = Math.min(n - 1, Math.floor(3 * perplexity) + 1)
  return {
    perplexity,
    iterations,
    learningRate,
    earlyExaggeration,
    exaggerationIters,
    initialMomentum,
    finalMomentum,
    theta,
    init,
    pcaDims,
    seed,
    minGain,
    knn,
    neighbors
  }
}

/**
 * Barnes-Hut t-SNE with an explicit life cycle:
 *
 *   const t = new TSNE(data, n, d, { perplexity: 30, seed: 1 })
 *   t.init()                 // PCA, kNN, P, initial layout (or `await` the steps of run())
 *   while (!t.done) { t.step(10); draw(t.embedding()) }
 *
 * or `for await (const p of t.run({ signal, reportEvery: 25 })) draw(p.embedding)`.
 */
export class TSNE {
  readonly n: number
  readonly d: number
  readonly options: ResolvedTsneOptions
  readonly timings: TsneTimings = { pcaMs: 0, knnMs: 0, affinitiesMs: 0, optimizeMs: 0 }
  private readonly data: Float32Array
  private P: SparseP | null = null
  private knn: KnnGraph | null = null
  private reduced: Float32Array | null = null
  private reducedDim = 0
  private Y = new Float64Array(0)
  private update = new Float64Array(0)
  private gains = new Float64Array(0)
  private grad = new Float64Array(0)
  private rep = new Float64Array(0)
  private attr = new Float64Array(0)
  /** Upper triangle (j > i) of P: each symmetric pair is visited once per iteration. */
  private Pu: SparseP | null = null
  private readonly tree = new QuadTree(8)
  private iter = 0
  private lastKl = NaN
  private pSelfEntropy = 0

  constructor(data: Float32Array, n: number, d: number, options: TsneOptions = {}) {
    checkShape(data, n, d, 't-SNE')
    this.options = resolveTsneOptions(n, d, options)
    this.n = n
    this.d = d
    this.data = data
  }

  /** Completed gradient-descent iterations. */
  get iteration(): number {
    return this.iter
  }

  /** True once all `options.iterations` iterations have run. */
  get done(): boolean {
    return this.P !== null && this.iter >= this.options.iterations
  }

  get initialized(): boolean {
    return this.P !== null
  }

  /** KL divergence at the last iteration that computed it (step(n, true) or run()); NaN before. */
  get kl(): number {
    return this.lastKl
  }

  /** The symmetric input affinities (after init). */
  get affinities(): SparseP | null {
    return this.P
  }

  /** Runs every preparation phase synchronously. Idempotent. */
  init(): void {
    if (this.P) return
    const it = this.prepare(Infinity)
    while (!it.next().done) {
      /* run to completion */
    }
  }

  /**
   * Preparation as a generator that yields between phases and every `chunk` kNN queries, so an
   * async driver can report progress and honour cancellation.
   */
  private *prepare(chunk: number): Generator<{ phase: TsnePhase; fraction: number }> {
    const o = this.options
    const n = this.n
    Object.assign(this.timings, { pcaMs: 0, knnMs: 0, affinitiesMs: 0, optimizeMs: 0 })
    let t0 = now()
    // 1. PCA pre-reduction (and the PCA init, which is its first two columns)
    yield { phase: 'pca', fraction: 0 }
    const reduceTo = o.pcaDims > 0 && o.pcaDims < this.d ? Math.min(o.pcaDims, n) : 0
    let initPcs: Float32Array | null = null
    // wide rows (fc features): estimate the axes on 4096 evenly strided rows, project all of them
    const wide = this.d > 256 ? 4096 : undefined
    if (reduceTo > 0) {
      const res = pca(this.data, n, this.d, reduceTo, { seed: o.seed, sampleRows: wide, powerIterations: wide ? 2 : 4 })
      this.reduced = res.projections
      this.reducedDim = reduceTo
      if (reduceTo >= 2) initPcs = columns2(res.projections, n, reduceTo)
    } else {
      this.reduced = this.data
      this.reducedDim = this.d
    }
    if (o.init === 'pca' && !initPcs) {
      initPcs = this.d >= 2 ? pca(this.data, n, this.d, 2, { seed: o.seed, sampleRows: wide, powerIterations: wide ? 2 : 4 }).projections : null
    }
    this.timings.pcaMs = now() - t0
    // 2. kNN
    t0 = now()
    yield { phase: 'knn', fraction: 0 }
    const useBlocked = o.knn === 'blocked' || (o.knn === 'auto' && this.reducedDim >= 16)
    if (useBlocked) {
      const kb = blockedKnnBuilder(this.reduced, n, this.reducedDim, o.neighbors)
      const step = Number.isFinite(chunk) ? Math.max(1, Math.round(chunk / 4)) : Infinity
      while (!kb.step(step)) {
        this.timings.knnMs += now() - t0
        yield { phase: 'knn', fraction: kb.fraction }
        t0 = now()
      }
      this.knn = kb.result()
    } else {
      const kb = knnBuilder(this.reduced, n, this.reducedDim, o.neighbors, { seed: o.seed })
      const step = Number.isFinite(chunk) ? chunk : n
      while (!kb.step(step)) {
        this.timings.knnMs += now() - t0
        yield { phase: 'knn', fraction: kb.done / n }
        t0 = now()
      }
      this.knn = kb.result
    }
    this.timings.knnMs += now() - t0
    // 3. affinities
    t0 = now()
    yield { phase: 'affinities', fraction: 0 }
    const Pc = conditionalP(this.knn, n, o.perplexity)
    this.P = symmetrize(this.knn, Pc, n)
    this.Pu = upperTriangle(this.P)
    // the reduced data and the kNN graph are not needed any more
    this.reduced = null
    this.knn = null
    let h = 0
    for (const v of this.P.vals) if (v > 0) h += v * Math.log(v)
    this.pSelfEntropy = h
    this.timings.affinitiesMs = now() - t0
    // 4. initial layout
    this.Y = new Float64Array(n * 2)
    if (o.init instanceof Float32Array) {
      for (let i = 0; i < 2 * n; i++) this.Y[i] = o.init[i]!
    } else if (o.init === 'pca' && initPcs) {
      let m = 0
      for (let i = 0; i < n; i++) m += initPcs[2 * i]!
      m /= n
      let s = 0
      for (let i = 0; i < n; i++) s += (initPcs[2 * i]! - m) ** 2
      const std = Math.sqrt(s / n)
      const scale = std > 0 ? 1e-4 / std : 1
      for (let i = 0; i < 2 * n; i++) this.Y[i] = initPcs[i]! * scale
    } else {
      const rng = new Rng(o.seed)
      for (let i = 0; i < 2 * n; i++) this.Y[i] = 1e-4 * rng.normal()
    }
    this.update = new Float64Array(2 * n)
    this.gains = new Float64Array(2 * n).fill(1)
    this.grad = new Float64Array(2 * n)
    this.rep = new Float64Array(2 * n)
    this.attr = new Float64Array(2 * n)
    this.iter = 0
  }

  /**
   * Runs up to `count` iterations (never past options.iterations); returns how many ran.
   * With `withKl`, the KL divergence at the last of them is computed (a few % extra cost) and
   * available as `kl`. Calls init() first if needed.
   */
  step(count = 1, withKl = false): number {
    this.init()
    const o = this.options
    const t0 = now()
    const end = Math.min(o.iterations, this.iter + Math.max(0, Math.floor(count)))
    const ran = end - this.iter
    for (; this.iter < end; this.iter++) {
      const t = this.iter
      if (t === o.exaggerationIters && t > 0) {
        // phase switch (scikit-learn restarts its optimiser here)
        this.update.fill(0)
        this.gains.fill(1)
      }
      const exag = t < o.exaggerationIters ? o.earlyExaggeration : 1
      const momentum = t < o.exaggerationIters ? o.initialMomentum : o.finalMomentum
      const kl = this.gradient(exag, withKl && t === end - 1)
      if (withKl && t === end - 1) this.lastKl = kl
      this.applyUpdate(momentum)
    }
    this.timings.optimizeMs += now() - t0
    return ran
  }

  /** Copy of the current layout, Float32Array [N, 2]. */
  embedding(): Float32Array {
    const out = new Float32Array(this.n * 2)
    for (let i = 0; i < out.length; i++) out[i] = this.Y[i]!
    return out
  }

  /**
   * Async driver: prepares (yielding progress), then optimises, yielding every `reportEvery`
   * iterations (default 50) with the KL divergence and a copy of the layout. Between chunks it
   * gives the event loop a turn and checks `signal`; on abort it throws the signal's reason
   * (an AbortError DOMException by default), leaving the object usable (step() continues).
   */
  async *run(opts: { signal?: AbortSignal; reportEvery?: number; knnChunk?: number } = {}): AsyncGenerator<TsneProgress> {
    const every = opts.reportEvery ?? 50
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`t-SNE option reportEvery must be an integer >= 1 (got ${every})`)
    const signal = opts.signal
    const o = this.options
    const pause = () => new Promise<void>((r) => setTimeout(r, 0))
    if (!this.P) {
      for (const p of this.prepare(opts.knnChunk ?? 2000)) {
        signal?.throwIfAborted()
        yield { phase: p.phase, iteration: 0, iterations: o.iterations, fraction: p.fraction }
        await pause()
        signal?.throwIfAborted()
      }
      yield { phase: 'optimize', iteration: 0, iterations: o.iterations, fraction: 0, embedding: this.embedding() }
    }
    while (!this.done) {
      signal?.throwIfAborted()
      const ran = this.step(Math.min(every, o.iterations - this.iter), true)
      yield {
        phase: 'optimize',
        iteration: this.iter,
        iterations: o.iterations,
        fraction: o.iterations > 0 ? this.iter / o.iterations : 1,
        kl: ran > 0 ? this.lastKl : undefined,
        embedding: this.embedding()
      }
      await pause()
    }
    signal?.throwIfAborted()
    yield { phase: 'done', iteration: this.iter, iterations: o.iterations, fraction: 1, kl: this.lastKl, embedding: this.embedding() }
  }

  /** grad = 4 (exag * attractive - repulsive / Z); returns KL(P || Q) when asked, else NaN. */
  private gradient(exag: number, withKl: boolean): number {
    const n = this.n
    const Y = this.Y
    const P = this.Pu!
    const rep = this.rep
    const grad = this.grad
    const attr = this.attr
    this.tree.build(Y, n)
    const Z = this.tree.repulsiveGrouped(this.options.theta, rep, 32)
    const invZ = 1 / Math.max(Z, 1e-300)
    const rowPtr = P.rowPtr
    const cols = P.cols
    const vals = P.vals
    attr.fill(0)
    let plogq = 0
    for (let i = 0; i < n; i++) {
      const xi = Y[2 * i]!
      const yi = Y[2 * i + 1]!
      let fx = 0
      let fy = 0
      const e1 = rowPtr[i + 1]!
      if (withKl) {
        for (let e = rowPtr[i]!; e < e1; e++) {
          const j = cols[e]!
          const dx = xi - Y[2 * j]!
          const dy = yi - Y[2 * j + 1]!
          const a = 1 + dx * dx + dy * dy
          const pq = vals[e]! / a
          fx += pq * dx
          fy += pq * dy
          attr[2 * j] = attr[2 * j]! - pq * dx
          attr[2 * j + 1] = attr[2 * j + 1]! - pq * dy
          plogq -= vals[e]! * Math.log(a)
        }
      } else {
        for (let e = rowPtr[i]!; e < e1; e++) {
          const j = cols[e]!
          const dx = xi - Y[2 * j]!
          const dy = yi - Y[2 * j + 1]!
          const pq = vals[e]! / (1 + dx * dx + dy * dy)
          fx += pq * dx
          fy += pq * dy
          attr[2 * j] = attr[2 * j]! - pq * dx
          attr[2 * j + 1] = attr[2 * j + 1]! - pq * dy
        }
      }
      attr[2 * i] = attr[2 * i]! + fx
      attr[2 * i + 1] = attr[2 * i + 1]! + fy
    }
    for (let i = 0; i < 2 * n; i++) grad[i] = 4 * (exag * attr[i]! - rep[i]! * invZ)
    // KL = sum p log p - sum p log(q / Z); each symmetric pair counted twice
    return withKl ? this.pSelfEntropy - 2 * plogq + Math.log(Z) : NaN
  }

  private applyUpdate(momentum: number): void {
    const o = this.options
    const lr = o.learningRate
    const minGain = o.minGain
    const Y = this.Y
    const g = this.grad
    const u = this.update
    const gains = this.gains
    for (let i = 0; i < Y.length; i++) {
      const gi = g[i]!
      const ui = u[i]!
      let gain = gains[i]!
      gain = ui * gi < 0 ? gain + 0.2 : gain * 0.8
      if (gain < minGain) gain = minGain
      gains[i] = gain
      const nu = momentum * ui - lr * gain * gi
      u[i] = nu
      Y[i] = Y[i]! + nu
    }
  }
}

/** Entries (i, j) of a symmetric CSR matrix with j > i. */
function upperTriangle(P: SparseP): SparseP {
  const n = P.n
  const rowPtr = new Int32Array(n + 1)
  let nnz = 0
  for (let i = 0; i < n; i++) {
    for (let e = P.rowPtr[i]!; e < P.rowPtr[i + 1]!; e++) if (P.cols[e]! > i) nnz++
    rowPtr[i + 1] = nnz
  }
  const cols = new Int32Array(nnz)
  const vals = new Float64Array(nnz)
  let o = 0
  for (let i = 0; i < n; i++) {
    for (let e = P.rowPtr[i]!; e < P.rowPtr[i + 1]!; e++) {
      if (P.cols[e]! > i) {
        cols[o] = P.cols[e]!
        vals[o] = P.vals[e]!
        o++
      }
    }
  }
  return { n, rowPtr, cols, vals }
}

function columns2(proj: Float32Array, n: number, k: number): Float32Array {
  const out = new Float32Array(n * 2)
  for (let i = 0; i < n; i++) {
    out[2 * i] = proj[i * k]!
    out[2 * i + 1] = proj[i * k + 1]!
  }
  return out
}

export interface TsneResult {
  /** Final layout, Float32Array [N, 2]. */
  embedding: Float32Array
  /** KL(P || Q) at the last iteration. */
  kl: number
  iterations: number
  options: ResolvedTsneOptions
  timings: TsneTimings
}

/**
 * Convenience: the whole t-SNE, reporting progress (with the layout every `reportEvery`
 * iterations) and cancellable through `signal` (rejects with the signal's reason).
 */
export async function runTsne(
  data: Float32Array,
  n: number,
  d: number,
  opts: TsneOptions & { signal?: AbortSignal; reportEvery?: number } = {},
  onProgress?: (p: TsneProgress) => void
): Promise<TsneResult> {
  const { signal, reportEvery, ...tsneOpts } = opts
  const t = new TSNE(data, n, d, tsneOpts)
  for await (const p of t.run({ signal, reportEvery })) onProgress?.(p)
  return { embedding: t.embedding(), kl: t.kl, iterations: t.iteration, options: t.options, timings: { ...t.timings } }
}

/** Synchronous whole t-SNE (no progress); for workers that block anyway, tests and benchmarks. */
export function tsneSync(data: Float32Array, n: number, d: number, opts: TsneOptions = {}): TsneResult {
  const t = new TSNE(data, n, d, opts)
  t.init()
  t.step(t.options.iterations, true)
  return { embedding: t.embedding(), kl: t.kl, iterations: t.iteration, options: t.options, timings: { ...t.timings } }
}
