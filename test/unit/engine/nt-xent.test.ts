// NT-Xent (SimCLR) and the RFD-contrastive view-vs-mean form, against plain-JS hand computations.
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '../../../src-engine/tf-gradients' // tfjs-core alone registers no gradient functions
import { ntXent, ntXentRotationsVsMean, ntXentViewVsMean } from '../../../src-engine/losses/nt-xent'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const dot = (u: number[], v: number[]): number => u.reduce((s, x, i) => s + x * (v[i] as number), 0)
const unit = (v: number[]): number[] => {
  const n = Math.sqrt(dot(v, v))
  return v.map((x) => x / n)
}

/** Mean over 2B rows of log(sum_{k != i} exp(s_ik)) - s_i,partner, in double precision (max-shifted). */
function ntXentJs(a: number[][], b: number[][], tau: number): number {
  const x = [...a, ...b]
  const n = a.length
  let total = 0
  for (let i = 0; i < 2 * n; i++) {
    const s = x.map((xk) => dot(x[i] as number[], xk) / tau)
    const others = s.filter((_, k) => k !== i)
    const m = Math.max(...others)
    const lse = m + Math.log(others.reduce((acc, v) => acc + Math.exp(v - m), 0))
    const partner = i < n ? i + n : i - n
    total += lse - (s[partner] as number)
  }
  return total / (2 * n)
}

/** The reference's literal form: -log(pos / (rowsum(exp S) - exp(1/tau))). */
function ntXentReferenceJs(a: number[][], b: number[][], tau: number): number {
  const x = [...a, ...b]
  const n = a.length
  let total = 0
  for (let i = 0; i < 2 * n; i++) {
    const row = x.map((xk) => Math.exp(dot(x[i] as number[], xk) / tau))
    const denom = row.reduce((s, v) => s + v, 0) - Math.exp(1 / tau)
    const pos = Math.exp(dot(a[i % n] as number[], b[i % n] as number[]) / tau)
    total += -Math.log(pos / denom)
  }
  return total / (2 * n)
}

const A = [
  [1, 0],
  [0, 1]
]
const Bm = [
  [0.6, 0.8],
  [0.8, -0.6]
]

function lossOf(fn: () => tf.Scalar): number {
  const l = fn()
  const v = l.dataSync()[0] as number
  l.dispose()
  return v
}

describe('ntXent / ntXentViewVsMean', () => {
  it('B=2, d=2: matches the hand computation and the reference form for unit vectors', () => {
    const a = tf.tensor2d(A)
    const b = tf.tensor2d(Bm)
    for (const tau of [0.5, 0.1, 1]) {
      const want = ntXentJs(A, Bm, tau)
      expect(want).toBeCloseTo(ntXentReferenceJs(A, Bm, tau), 9)
      expect(lossOf(() => ntXent(a, b, tau))).toBeCloseTo(want, 4)
      expect(lossOf(() => ntXentViewVsMean(a, b, tau))).toBeCloseTo(want, 4)
    }
    // Defaults: tau 0.5 for SimCLR, 0.1 for the RFD-contrastive form.
    expect(lossOf(() => ntXent(a, b))).toBeCloseTo(ntXentJs(A, Bm, 0.5), 4)
    expect(lossOf(() => ntXentViewVsMean(a, b))).toBeCloseTo(ntXentJs(A, Bm, 0.1), 4)
    tf.dispose([a, b])
  })

  it('masks the self term exactly for non-unit vectors', () => {
    const a2 = [
      [2, 0],
      [0, 0.5],
      [1, 1]
    ]
    const b2 = [
      [0.3, 0.1],
      [-1, 2],
      [0.5, -0.2]
    ]
    const a = tf.tensor2d(a2)
    const b = tf.tensor2d(b2)
    expect(lossOf(() => ntXent(a, b, 0.7))).toBeCloseTo(ntXentJs(a2, b2, 0.7), 4)
    tf.dispose([a, b])
  })

  it('is symmetric in swapping its arguments', () => {
    const a = tf.tensor2d([
      [0.2, 0.9, -0.1],
      [0.5, -0.5, 0.7],
      [1, 0, 0]
    ])
    const b = tf.tensor2d([
      [0.1, 0.8, 0.3],
      [-0.6, 0.2, 0.4],
      [0.9, 0.3, -0.2]
    ])
    expect(lossOf(() => ntXent(a, b, 0.3))).toBeCloseTo(
      lossOf(() => ntXent(b, a, 0.3)),
      5
    )
    tf.dispose([a, b])
  })

  it('B=1 gives 0 (the only non-self entry is the positive)', () => {
    const a = tf.tensor2d([[1, 0]])
    const b = tf.tensor2d([[0, 1]])
    expect(lossOf(() => ntXent(a, b))).toBeCloseTo(0, 6)
    tf.dispose([a, b])
  })

  it('stays finite where a naive exp form overflows float32 (tau = 0.005: e^200)', () => {
    const naive = tf.exp(tf.scalar(1 / 0.005))
    expect(naive.dataSync()[0]).toBe(Infinity)
    naive.dispose()
    const a2 = [unit([1, 0.2]), unit([0.3, 1])]
    const b2 = [unit([0.9, 0.1]), unit([-0.2, 1])]
    const a = tf.tensor2d(a2)
    const b = tf.tensor2d(b2)
    const v = lossOf(() => ntXentViewVsMean(a, b, 0.005))
    expect(Number.isFinite(v)).toBe(true)
    const want = ntXentJs(a2, b2, 0.005)
    expect(Math.abs(v - want)).toBeLessThan(1e-3 * Math.max(1, Math.abs(want)))
    const g = tf.grad((x: tf.Tensor) => ntXentViewVsMean(x as tf.Tensor2D, b, 0.005))(a)
    for (const x of g.dataSync()) expect(Number.isFinite(x)).toBe(true)
    tf.dispose([a, b, g])
  })

  it('decreases when positives are pulled together, and under SGD', () => {
    const a = tf.tensor2d(A)
    const far = tf.tensor2d(Bm)
    const near = tf.tensor2d(Bm.map((row, i) => unit(row.map((v, d) => v + 2 * ((A[i] as number[])[d] as number)))))
    expect(lossOf(() => ntXent(a, near))).toBeLessThan(lossOf(() => ntXent(a, far)))

    const z = tf.variable(
      tf.tensor2d([
        [0.3, 1, -0.2],
        [1, -0.4, 0.5],
        [-0.7, 0.2, 0.9]
      ])
    )
    const t = tf.tensor2d([
      [1, 0.1, 0],
      [0, 1, 0.2],
      [0.1, 0, 1]
    ])
    const opt = tf.train.sgd(0.5)
    const f = (): tf.Scalar => ntXent(z, t, 0.5, { normalize: true })
    const l0 = lossOf(f)
    for (let i = 0; i < 5; i++) opt.minimize(f)
    expect(lossOf(f)).toBeLessThan(l0 - 0.05)
    tf.dispose([a, far, near, z, t])
    opt.dispose()
  })

  it('normalize: true uses cosine similarity', () => {
    const a = tf.tensor2d(A.map((r) => r.map((v) => 2 * v)))
    const b = tf.tensor2d(Bm.map((r) => r.map((v) => 3 * v)))
    expect(lossOf(() => ntXent(a, b, 0.5, { normalize: true }))).toBeCloseTo(ntXentJs(A, Bm, 0.5), 4)
    tf.dispose([a, b])
  })

  it('ntXentRotationsVsMean is the sum of the 4 per-rotation losses', () => {
    const zBar = [unit([1, 0.5]), unit([-0.3, 1]), unit([0.2, -1])]
    const zs = [0, 1, 2, 3].map((r) => zBar.map((v, i) => unit([(v[0] as number) + 0.1 * r, (v[1] as number) - 0.2 * i + 0.05 * r])))
    const want = zs.reduce((s, z) => s + ntXentJs(z, zBar, 0.1), 0)
    const tb = tf.tensor2d(zBar)
    const tz = zs.map((z) => tf.tensor2d(z))
    expect(lossOf(() => ntXentRotationsVsMean(tz, tb))).toBeCloseTo(want, 3)
    expect(() => ntXentRotationsVsMean(tz.slice(0, 3), tb)).toThrow(/4 per-rotation/)
    tf.dispose([tb, ...tz])
  })

  it('rejects tau <= 0 and mismatched shapes', () => {
    const a = tf.tensor2d(A)
    const c = tf.tensor2d([[1, 0, 0]])
    expect(() => ntXent(a, a, 0)).toThrow(/tau must be a finite number > 0 \(got 0\)/)
    expect(() => ntXentViewVsMean(a, a, -0.1)).toThrow(RangeError)
    expect(() => ntXent(a, a, Number.NaN)).toThrow(/tau/)
    expect(() => ntXent(a, c)).toThrow(/same shape/)
    tf.dispose([a, c])
  })

  it('leaks no tensors', () => {
    const a = tf.tensor2d(A)
    const b = tf.tensor2d(Bm)
    const before = tf.memory().numTensors
    ntXent(a, b).dispose()
    ntXent(a, b, 0.5, { normalize: true }).dispose()
    ntXentViewVsMean(a, b).dispose()
    ntXentRotationsVsMean([a, b, a, b], b).dispose()
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([a, b])
  })
})
