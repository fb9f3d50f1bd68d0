// PCA and the symmetric eigen-solver behind it (src-engine/analysis).
import { describe, expect, it } from 'vitest'
import { pca } from '../../../src-engine/analysis/pca'
import { symmetricEigen } from '../../../src-engine/analysis/eigen'
import { Rng } from '../../../src-shared/rng'

describe('symmetricEigen', () => {
  it('decomposes random symmetric matrices to machine precision', () => {
    const rng = new Rng(1)
    for (const n of [1, 2, 3, 7, 40]) {
      const a = new Float64Array(n * n)
      for (let i = 0; i < n; i++) {
        for (let j = i; j < n; j++) {
          const v = rng.normal()
          a[i * n + j] = v
          a[j * n + i] = v
        }
      }
      const { values, vectors } = symmetricEigen(a, n)
      for (let r = 1; r < n; r++) expect(values[r]!).toBeLessThanOrEqual(values[r - 1]!)
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < n; i++) {
          let av = 0
          for (let j = 0; j < n; j++) av += a[i * n + j]! * vectors[r * n + j]!
          expect(Math.abs(av - values[r]! * vectors[r * n + i]!)).toBeLessThan(1e-12)
        }
        for (let s = 0; s < n; s++) {
          let dot = 0
          for (let j = 0; j < n; j++) dot += vectors[r * n + j]! * vectors[s * n + j]!
          expect(Math.abs(dot - (r === s ? 1 : 0))).toBeLessThan(1e-12)
        }
      }
    }
  })

  it('handles a diagonal matrix and repeated eigenvalues', () => {
    const e = symmetricEigen(Float64Array.of(2, 0, 0, 0, 5, 0, 0, 0, 2), 3)
    expect(Array.from(e.values)).toEqual([5, 2, 2])
    expect(Array.from(e.vectors.subarray(0, 3), (v) => v + 0)).toEqual([0, 1, 0])
  })
})

describe('pca', () => {
  it('matches a hand-computed 2-D case', () => {
    // Rows (2,2), (-2,-2), (1,-1), (-1,1): mean 0, covariance (ddof 1) = [[10/3, 2], [2, 10/3]],
    // eigenvalues 16/3 along (1,1)/sqrt2 and 4/3 along (1,-1)/sqrt2.
    const x = Float32Array.of(2, 2, -2, -2, 1, -1, -1, 1)
    const r = pca(x, 4, 2, 2)
    expect(r.explainedVariance[0]).toBeCloseTo(16 / 3, 12)
    expect(r.explainedVariance[1]).toBeCloseTo(4 / 3, 12)
    expect(r.explainedVarianceRatio[0]).toBeCloseTo(0.8, 12)
    expect(r.totalVariance).toBeCloseTo(20 / 3, 12)
    const s = Math.SQRT1_2
    expect(r.components[0]).toBeCloseTo(s, 12)
    expect(r.components[1]).toBeCloseTo(s, 12)
    expect(r.components[2]).toBeCloseTo(s, 12)
    expect(r.components[3]).toBeCloseTo(-s, 12)
    const expected = [2 * Math.SQRT2, 0, -2 * Math.SQRT2, 0, 0, Math.SQRT2, 0, -Math.SQRT2]
    for (let i = 0; i < 8; i++) expect(r.projections[i]).toBeCloseTo(expected[i]!, 5)
  })

  it('recovers a planted rank-3 structure (exact and randomized solvers agree)', () => {
    const rng = new Rng(9)
    const n = 1500
    const d = 64
    // orthonormal planted axes W (3 x d) with scales 5, 3, 2; isotropic noise 0.05
    const W = new Float64Array(3 * d)
    for (let i = 0; i < W.length; i++) W[i] = rng.normal()
    for (let c = 0; c < 3; c++) {
      for (let p = 0; p < c; p++) {
        let dot = 0
        for (let t = 0; t < d; t++) dot += W[c * d + t]! * W[p * d + t]!
        for (let t = 0; t < d; t++) W[c * d + t] = W[c * d + t]! - dot * W[p * d + t]!
      }
      let nrm = 0
      for (let t = 0; t < d; t++) nrm += W[c * d + t]! ** 2
      for (let t = 0; t < d; t++) W[c * d + t] = W[c * d + t]! / Math.sqrt(nrm)
    }
    const scales = [5, 3, 2]
    const x = new Float32Array(n * d)
    for (let i = 0; i < n; i++) {
      const z = scales.map((s) => s * rng.normal())
      for (let t = 0; t < d; t++) x[i * d + t] = 10 + z[0]! * W[t]! + z[1]! * W[d + t]! + z[2]! * W[2 * d + t]! + 0.05 * rng.normal()
    }
    for (const method of ['exact', 'randomized'] as const) {
      const r = pca(x, n, d, 3, { method, seed: 3 })
      expect(r.method).toBe(method)
      const ratio = r.explainedVarianceRatio[0]! + r.explainedVarianceRatio[1]! + r.explainedVarianceRatio[2]!
      expect(ratio).toBeGreaterThan(0.99)
      for (let c = 0; c < 3; c++) {
        // variance along each recovered axis ~ planted scale^2 (sampling error of 1500 draws)
        expect(r.explainedVariance[c]! / scales[c]! ** 2).toBeGreaterThan(0.85)
        expect(r.explainedVariance[c]! / scales[c]! ** 2).toBeLessThan(1.15)
        // |<component, planted axis c>| ~ 1
        let dot = 0
        for (let t = 0; t < d; t++) dot += r.components[c * d + t]! * W[c * d + t]!
        expect(Math.abs(dot)).toBeGreaterThan(0.999)
      }
      // means are recovered and projections are centred
      expect(r.mean[0]).toBeCloseTo(10, 0)
      let m = 0
      for (let i = 0; i < n; i++) m += r.projections[i * 3]!
      expect(Math.abs(m / n)).toBeLessThan(1e-3)
    }
  })

  it('validates k and shapes', () => {
    const x = new Float32Array(12)
    expect(() => pca(x, 4, 3, 4)).toThrow(/k must be an integer in \[1, min\(n, d\) = 3\]/)
    expect(() => pca(x, 4, 3, 0)).toThrow(RangeError)
    expect(() => pca(x, 5, 3, 1)).toThrow(/expected n\*d = 15/)
  })
})
