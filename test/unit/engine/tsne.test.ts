// Barnes-Hut t-SNE (src-engine/analysis): separation and neighbour preservation on planted
// clusters, determinism per seed, the step/embedding API, cancellation and option validation.
import { describe, expect, it } from 'vitest'
import { clusteredGaussians } from '../../../src-engine/analysis/synthetic'
import { TSNE, resolveTsneOptions, runTsne, tsneSync, type TsneProgress } from '../../../src-engine/analysis/tsne'
import { knnClassify, knnPreservation, trustworthiness } from '../../../src-engine/analysis/metrics'
import { pca } from '../../../src-engine/analysis/pca'

// 400 points, 5 well-separated Gaussian clusters in 50-D (centres ~ N(0, 1), noise 0.9: the
// peer benchmark's generator at a test size). Between-centre squared distance ~ 100 against
// ~ 81 within a cluster, so every point's 10 nearest input neighbours are in its own cluster.
const N = 400
const D = 50
const { data, labels } = clusteredGaussians(N, D, 5, 7)

describe('t-SNE on planted clusters', () => {
  const res = tsneSync(data, N, D, { perplexity: 20, iterations: 400, seed: 1 })
  const y = res.embedding

  it('separates the clusters: leave-one-out 10-NN label accuracy in the map is ~1', () => {
    expect(knnClassify(y, labels, N, 2, 10)).toBeGreaterThanOrEqual(0.99)
  })

  it('keeps neighbours far better than the PCA map and chance', () => {
    // Chance level of 10-NN preservation is k/N = 0.025. Within a cluster the input is isotropic
    // 50-D noise, so no 2-D map can keep most of a point's 10 neighbours; the 2-D PCA map keeps
    // ~0.15 here and t-SNE ~0.39 (measured with seeds 1..3). Thresholds leave a margin.
    const kt = knnPreservation(data, y, N, D, 10)
    const p2 = pca(data, N, D, 2).projections
    const kp = knnPreservation(data, p2, N, D, 10)
    expect(kt).toBeGreaterThan(0.3)
    expect(kt).toBeGreaterThan(1.8 * kp)
    // trustworthiness ~0.96 (PCA ~0.9)
    expect(trustworthiness(data, y, N, D, 10)).toBeGreaterThan(0.93)
  })

  it('reports a finite, decreasing KL divergence', () => {
    expect(Number.isFinite(res.kl)).toBe(true)
    const t = new TSNE(data, N, D, { perplexity: 20, iterations: 400, seed: 1 })
    t.step(260, true)
    const klAfterExaggeration = t.kl
    t.step(1000, true)
    expect(t.kl).toBeLessThan(klAfterExaggeration)
    expect(t.kl).toBeCloseTo(res.kl, 12)
  })
})

describe('t-SNE determinism', () => {
  const small = clusteredGaussians(200, 20, 4, 3)
  const run = (seed: number, init: 'pca' | 'random') =>
    tsneSync(small.data, 200, 20, { perplexity: 15, iterations: 120, exaggerationIters: 60, seed, init }).embedding

  it('same seed and input give a bit-identical embedding', () => {
    expect(run(5, 'random')).toEqual(run(5, 'random'))
    expect(run(5, 'pca')).toEqual(run(5, 'pca'))
  })

  it('a different seed gives a different embedding (random init)', () => {
    const a = run(5, 'random')
    const b = run(6, 'random')
    let diff = 0
    for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - b[i]!)
    expect(diff / a.length).toBeGreaterThan(1e-3)
  })

  it('the vantage-point tree and the blocked kNN give the same affinities', () => {
    const a = new TSNE(small.data, 200, 20, { perplexity: 15, iterations: 0, knn: 'vptree' })
    const b = new TSNE(small.data, 200, 20, { perplexity: 15, iterations: 0, knn: 'blocked' })
    a.init()
    b.init()
    const dense = (t: TSNE) => {
      const P = t.affinities!
      const m = new Float64Array(200 * 200)
      for (let i = 0; i < 200; i++) for (let e = P.rowPtr[i]!; e < P.rowPtr[i + 1]!; e++) m[i * 200 + P.cols[e]!] = P.vals[e]!
      return m
    }
    const da = dense(a)
    const db = dense(b)
    let maxDiff = 0
    for (let i = 0; i < da.length; i++) maxDiff = Math.max(maxDiff, Math.abs(da[i]! - db[i]!))
    // same neighbour sets; distances differ only by float32 rounding (the blocked search uses
    // |x|^2 + |y|^2 - 2 x.y), so the P entries (~1e-3) agree to ~1e-8
    expect(maxDiff).toBeLessThan(1e-7)
  })
})

describe('t-SNE API', () => {
  const small = clusteredGaussians(150, 10, 3, 11)

  it('init/step/embedding/iteration: stepwise equals one-shot, never past the end', () => {
    const opts = { perplexity: 10, iterations: 60, exaggerationIters: 20, seed: 2 }
    const t = new TSNE(small.data, 150, 10, opts)
    expect(t.iteration).toBe(0)
    t.init()
    const y0 = t.embedding()
    expect(y0).toHaveLength(300)
    // PCA init scaled to std 1e-4 on the first axis
    let m = 0
    for (let i = 0; i < 150; i++) m += y0[2 * i]!
    m /= 150
    let s = 0
    for (let i = 0; i < 150; i++) s += (y0[2 * i]! - m) ** 2
    expect(Math.sqrt(s / 150)).toBeCloseTo(1e-4, 8)
    expect(t.step(15)).toBe(15)
    expect(t.step(40)).toBe(40)
    expect(t.step(40)).toBe(5)
    expect(t.iteration).toBe(60)
    expect(t.done).toBe(true)
    expect(t.embedding()).toEqual(tsneSync(small.data, 150, 10, opts).embedding)
  })

  it('resolves documented defaults (learning rate auto = max(N / 12 / 4, 50))', () => {
    const o = resolveTsneOptions(10000, 256)
    expect(o).toMatchObject({
      perplexity: 30,
      iterations: 1000,
      earlyExaggeration: 12,
      exaggerationIters: 250,
      initialMomentum: 0.5,
      finalMomentum: 0.8,
      theta: 0.5,
      init: 'pca',
      pcaDims: 50,
      seed: 0,
      neighbors: 91
    })
    expect(o.learningRate).toBeCloseTo(10000 / 48, 10)
    expect(resolveTsneOptions(1000, 10).learningRate).toBe(50)
    expect(resolveTsneOptions(1000, 10, { learningRate: 123 }).learningRate).toBe(123)
  })

  it('runTsne reports progress with live layouts and cancels through AbortSignal', async () => {
    const ac = new AbortController()
    const seen: TsneProgress[] = []
    const p = runTsne(small.data, 150, 10, { perplexity: 10, iterations: 500, seed: 1, signal: ac.signal, reportEvery: 10 }, (ev) => {
      seen.push(ev)
      if (ev.phase === 'optimize' && ev.iteration >= 20) ac.abort()
    })
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
    const last = seen[seen.length - 1]!
    expect(last.iteration).toBe(20)
    expect(last.embedding).toHaveLength(300)
    expect(Number.isFinite(last.kl)).toBe(true)
    expect(seen.some((e) => e.phase === 'knn')).toBe(true)
    expect(seen.some((e) => e.phase === 'optimize' && e.iteration === 10)).toBe(true)
  })

  it('run() stops at once when the signal is already aborted', async () => {
    const t = new TSNE(small.data, 150, 10, { perplexity: 10, iterations: 100 })
    const gen = t.run({ signal: AbortSignal.abort() })
    await expect(gen.next()).rejects.toMatchObject({ name: 'AbortError' })
    expect(t.iteration).toBe(0)
  })

  it('runTsne completes and matches tsneSync', async () => {
    const opts = { perplexity: 10, iterations: 50, exaggerationIters: 20, seed: 4 }
    const a = await runTsne(small.data, 150, 10, { ...opts, reportEvery: 7 })
    expect(a.iterations).toBe(50)
    expect(a.embedding).toEqual(tsneSync(small.data, 150, 10, opts).embedding)
  })
})

describe('t-SNE option validation', () => {
  const x = new Float32Array(30 * 4)
  const bad = (o: Parameters<typeof resolveTsneOptions>[2], re: RegExp) => {
    expect(() => new TSNE(x, 30, 4, { perplexity: 5, ...o })).toThrow(RangeError)
    expect(() => new TSNE(x, 30, 4, { perplexity: 5, ...o })).toThrow(re)
  }
  it('throws RangeError naming the option and its allowed range', () => {
    bad({ perplexity: 10 }, /perplexity must be a number in \[1, N\/3\) = \[1, 10\) for N = 30 \(got 10\)/)
    bad({ perplexity: 0.5 }, /perplexity/)
    bad({ iterations: -1 }, /iterations must be an integer in \[0, 10000000\] \(got -1\)/)
    bad({ iterations: 2.5 }, /iterations/)
    bad({ learningRate: 0 }, /learningRate must be a number > 0 or 'auto'/)
    bad({ earlyExaggeration: 0.5 }, /earlyExaggeration must be a number >= 1/)
    bad({ iterations: 100, exaggerationIters: 200 }, /exaggerationIters must be an integer in \[0, iterations\] = \[0, 100\]/)
    bad({ theta: 1.5 }, /theta must be a number in \[0, 1\]/)
    bad({ pcaDims: -1 }, /pcaDims must be an integer >= 0/)
    bad({ init: new Float32Array(3) }, /init must be/)
    bad({ initialMomentum: 1 }, /initialMomentum must be a number in \[0, 1\)/)
  })
  it('rejects inconsistent shapes', () => {
    expect(() => new TSNE(x, 31, 4)).toThrow(RangeError)
    expect(() => new TSNE(new Float32Array(8), 2, 4)).toThrow(/N >= 4/)
  })
  it('defaults exaggerationIters to min(250, iterations)', () => {
    expect(resolveTsneOptions(30, 4, { perplexity: 5, iterations: 100 }).exaggerationIters).toBe(100)
  })
})
