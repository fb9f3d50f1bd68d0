// Embedding-map building blocks (src-engine/analysis): exact kNN searches, t-SNE affinities,
// map-quality metrics and the seeded UMAP wrapper.
import { describe, expect, it } from 'vitest'
import { blockedKnn } from '../../../src-engine/analysis/knn-blocked'
import { knnGraph, VpTree } from '../../../src-engine/analysis/vptree'
import { conditionalP, symmetrize } from '../../../src-engine/analysis/affinities'
import { graphOverlap, knnClassify, knnLabelAccuracy, knnPreservation, trustworthiness } from '../../../src-engine/analysis/metrics'
import { clusteredGaussians } from '../../../src-engine/analysis/synthetic'
import { runUmap } from '../../../src-engine/analysis/umap'
import { Rng } from '../../../src-shared/rng'

function bruteKnn(x: Float32Array, n: number, d: number, k: number): { idx: number[][]; dist: number[][] } {
  const idx: number[][] = []
  const dist: number[][] = []
  for (let i = 0; i < n; i++) {
    const all: [number, number][] = []
    for (let j = 0; j < n; j++) {
      if (j === i) continue
      let s = 0
      for (let t = 0; t < d; t++) s += (x[i * d + t]! - x[j * d + t]!) ** 2
      all.push([Math.sqrt(s), j])
    }
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1])
    idx.push(all.slice(0, k).map((a) => a[1]))
    dist.push(all.slice(0, k).map((a) => a[0]))
  }
  return { idx, dist }
}

describe('exact kNN', () => {
  const cases: [string, Float32Array, number, number][] = []
  const rng = new Rng(4)
  const uniform = (n: number, d: number) => Float32Array.from({ length: n * d }, () => rng.normal())
  cases.push(['gaussian 300 x 3', uniform(300, 3), 300, 3])
  cases.push(['gaussian 250 x 40', uniform(250, 40), 250, 40])
  cases.push(['clusters 300 x 120', clusteredGaussians(300, 120, 6, 2).data, 300, 120])

  for (const [name, x, n, d] of cases) {
    it(`vantage-point tree and blocked search equal brute force (${name})`, () => {
      const k = 12
      const ref = bruteKnn(x, n, d, k)
      for (const g of [knnGraph(x, n, d, k, { seed: 3 }), blockedKnn(x, n, d, k, { block: 16 })]) {
        for (let i = 0; i < n; i++) {
          const got = Array.from(g.indices.subarray(i * k, (i + 1) * k)).sort((a, b) => a - b)
          const want = [...ref.idx[i]!].sort((a, b) => a - b)
          if (got.join() !== want.join()) expect(got).toEqual(want)
          for (let s = 0; s < k; s++) {
            const e = Math.abs(g.distances[i * k + s]! - ref.dist[i]![s]!)
            if (e > 1e-3 * (1 + ref.dist[i]![s]!)) expect(g.distances[i * k + s]).toBeCloseTo(ref.dist[i]![s]!, 3)
          }
        }
      }
    })
  }

  it('VpTree answers queries for arbitrary vectors', () => {
    const x = uniform(200, 5)
    const t = new VpTree(x, 200, 5, 1)
    const outI = new Int32Array(3)
    const outD = new Float32Array(3)
    t.query(x.subarray(50, 55), 3, outI, outD)
    expect(outI[0]).toBe(10) // the row itself, at distance 0
    expect(outD[0]).toBe(0)
  })

  it('rejects k outside [1, n-1]', () => {
    const x = uniform(10, 2)
    expect(() => knnGraph(x, 10, 2, 10)).toThrow(/k must be an integer in \[1, n-1 = 9\]/)
    expect(() => blockedKnn(x, 10, 2, 0)).toThrow(RangeError)
  })
})

describe('t-SNE affinities', () => {
  it('each conditional row has the requested perplexity; P is symmetric and sums to 1', () => {
    const { data } = clusteredGaussians(300, 20, 3, 5)
    const g = knnGraph(data, 300, 20, 46)
    const Pc = conditionalP(g, 300, 15)
    for (let i = 0; i < 300; i++) {
      let h = 0
      let s = 0
      for (let j = 0; j < 46; j++) {
        const p = Pc[i * 46 + j]!
        s += p
        if (p > 0) h -= p * Math.log(p)
      }
      expect(s).toBeCloseTo(1, 12)
      expect(Math.abs(h - Math.log(15))).toBeLessThan(1e-4)
    }
    const P = symmetrize(g, Pc, 300)
    const dense = new Float64Array(300 * 300)
    let total = 0
    for (let i = 0; i < 300; i++) {
      for (let e = P.rowPtr[i]!; e < P.rowPtr[i + 1]!; e++) {
        if (dense[i * 300 + P.cols[e]!] !== 0) throw new Error('duplicate entry')
        dense[i * 300 + P.cols[e]!] = P.vals[e]!
        total += P.vals[e]!
      }
    }
    expect(total).toBeCloseTo(1, 12)
    let asym = 0
    for (let i = 0; i < 300; i++) for (let j = 0; j < 300; j++) if (dense[i * 300 + j] !== dense[j * 300 + i]) asym++
    expect(asym).toBe(0)
  })
})

describe('map-quality metrics', () => {
  it('a map equal to the input keeps every neighbour; a shuffled one about k/N', () => {
    const rng = new Rng(8)
    const n = 500
    const x = Float32Array.from({ length: n * 2 }, () => rng.normal())
    expect(knnPreservation(x, x, n, 2, 10)).toBe(1)
    expect(trustworthiness(x, x, n, 2, 10)).toBeCloseTo(1, 12)
    const perm = Array.from({ length: n }, (_, i) => i)
    for (let i = n - 1; i > 0; i--) {
      const j = rng.int(i + 1)
      ;[perm[i], perm[j]] = [perm[j]!, perm[i]!]
    }
    const y = new Float32Array(n * 2)
    for (let i = 0; i < n; i++) {
      y[2 * i] = x[2 * perm[i]!]!
      y[2 * i + 1] = x[2 * perm[i]! + 1]!
    }
    const kp = knnPreservation(x, y, n, 2, 10)
    expect(kp).toBeLessThan(0.06) // chance: 10 / 499 = 0.02
    expect(trustworthiness(x, y, n, 2, 10)).toBeLessThan(0.6) // chance ~0.5
  })

  it('label metrics follow the peer definition on a hand-made case', () => {
    // two tight groups far apart, labels 0 / 1, one mislabelled point in group 1
    const y = Float32Array.of(0, 0, 0, 1, 1, 0, 1, 1, 100, 100, 100, 101, 101, 100, 101, 101)
    const labels = Int32Array.of(0, 0, 0, 0, 1, 1, 1, 0)
    // k = 3: each point's neighbours are the other 3 of its group
    expect(knnLabelAccuracy(y, labels, 8, 2, 3)).toBeCloseTo((4 * 1 + 3 * (2 / 3) + 0) / 8, 12)
    expect(knnClassify(y, labels, 8, 2, 3)).toBeCloseTo(7 / 8, 12)
  })

  it('graphOverlap counts shared neighbours', () => {
    const a = { k: 2, indices: Int32Array.of(1, 2, 0, 2, 0, 1), distances: new Float32Array(6) }
    const b = { k: 2, indices: Int32Array.of(2, 1, 2, 0, 1, 0), distances: new Float32Array(6) }
    expect(graphOverlap(a, b, 3)).toBe(1)
    const c = { k: 2, indices: Int32Array.of(1, 0, 0, 1, 0, 2), distances: new Float32Array(6) }
    expect(graphOverlap(a, c, 3)).toBeCloseTo((0.5 + 0.5 + 0.5) / 3, 12)
  })
})

describe('UMAP (umap-js, seeded)', () => {
  const { data, labels } = clusteredGaussians(200, 30, 3, 6)
  const opts = { nNeighbors: 10, nEpochs: 60, seed: 3 }

  it('separates planted clusters and is reproducible per seed', async () => {
    const events: string[] = []
    const a = await runUmap(data, 200, 30, { ...opts, reportEvery: 20 }, (p) => events.push(`${p.phase}:${p.epoch}`))
    expect(a).toHaveLength(400)
    expect(knnClassify(a, labels, 200, 2, 10)).toBeGreaterThan(0.97)
    expect(events).toContain('optimize:20')
    expect(events[events.length - 1]).toBe('done:60')
    const b = await runUmap(data, 200, 30, opts)
    expect(b).toEqual(a)
    const c = await runUmap(data, 200, 30, { ...opts, seed: 4 })
    expect(c).not.toEqual(a)
  })

  it('cancels through AbortSignal and validates options', async () => {
    const ac = new AbortController()
    const p = runUmap(data, 200, 30, { ...opts, signal: ac.signal, reportEvery: 10 }, (ev) => {
      if (ev.phase === 'optimize' && ev.epoch >= 10) ac.abort()
    })
    await expect(p).rejects.toMatchObject({ name: 'AbortError' })
    await expect(runUmap(data, 200, 30, { nNeighbors: 1 })).rejects.toThrow(/nNeighbors must be an integer in \[2, N-1\]/)
    await expect(runUmap(data, 200, 30, { minDist: 2 })).rejects.toThrow(/minDist/)
  })
})
