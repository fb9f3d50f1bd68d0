// Invariance MSE and the mean over rotations, against plain-JS hand computations.
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '../../../src-engine/tf-gradients' // tfjs-core alone registers no gradient functions
import { invarianceMse, meanOverRotations, stopGradient } from '../../../src-engine/losses/invariance'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

// B = 2 images x 4 views (interleaved), D = 3.
const F = [
  [1, 2, 0],
  [3, 0, 1],
  [2, 2, 2],
  [-2, 4, 1],
  [0.5, -1, 3],
  [1.5, 1, -3],
  [0, 0, 0],
  [2, 4, 4]
]
/** fbar[i] = mean of rows 4i..4i+3, by hand. */
function meansJs(f: number[][]): number[][] {
  const out: number[][] = []
  for (let i = 0; i < f.length / 4; i++) {
    const m = [0, 0, 0]
    for (let r = 0; r < 4; r++) for (let d = 0; d < 3; d++) m[d] = (m[d] as number) + (f[4 * i + r]?.[d] as number) / 4
    out.push(m)
  }
  return out
}

describe('meanOverRotations', () => {
  it('averages the 4 interleaved views per image', () => {
    const f = tf.tensor2d(F)
    const m = meanOverRotations(f)
    expect(m.shape).toEqual([2, 3])
    const want = meansJs(F) // [[1, 2, 1], [1, 1, 1]]
    expect(want).toEqual([
      [1, 2, 1],
      [1, 1, 1]
    ])
    ;(m.arraySync() as number[][]).forEach((row, i) => row.forEach((v, d) => expect(v).toBeCloseTo(want[i]?.[d] as number, 6)))
    tf.dispose([f, m])
  })

  it('is not detached: d sum(fbar) / df = 1/4', () => {
    const f = tf.tensor2d(F)
    const g = tf.grad((x: tf.Tensor) => tf.sum(meanOverRotations(x as tf.Tensor2D)))(f)
    for (const v of g.dataSync()) expect(v).toBeCloseTo(0.25, 7)
    tf.dispose([f, g])
  })
})

describe('invarianceMse', () => {
  it('is the mean over 4B*D elements of (f - fbar)^2', () => {
    const fb = meansJs(F)
    let s = 0
    F.forEach((row, j) => row.forEach((v, d) => (s += (v - (fb[Math.floor(j / 4)]?.[d] as number)) ** 2)))
    const f = tf.tensor2d(F)
    const loss = invarianceMse(f)
    expect(loss.shape).toEqual([])
    expect(loss.dataSync()[0]).toBeCloseTo(s / 24, 5)
    tf.dispose([f, loss])
  })

  it('gradient is 2 (f - fbar) / (4B*D) (target detached)', () => {
    const fb = meansJs(F)
    const f = tf.tensor2d(F)
    const g = tf
      .grad((x: tf.Tensor) => invarianceMse(x as tf.Tensor2D))(f)
      .arraySync() as number[][]
    F.forEach((row, j) => row.forEach((v, d) => expect(g[j]?.[d]).toBeCloseTo((2 * (v - (fb[Math.floor(j / 4)]?.[d] as number))) / 24, 6)))
    f.dispose()
  })

  it('is 0 for rotation-invariant features', () => {
    const f = tf.tensor2d([
      [1, 2],
      [1, 2],
      [1, 2],
      [1, 2]
    ])
    const loss = invarianceMse(f)
    expect(loss.dataSync()[0]).toBe(0)
    tf.dispose([f, loss])
  })

  it('rejects features whose first dim is not a multiple of 4, or not rank 2', () => {
    const bad = tf.zeros([6, 2]) as tf.Tensor2D
    const r3 = tf.zeros([4, 2, 1]) as unknown as tf.Tensor2D
    expect(() => invarianceMse(bad)).toThrow(/multiple of 4/)
    expect(() => meanOverRotations(bad)).toThrow(/multiple of 4/)
    expect(() => invarianceMse(r3)).toThrow(/\[4B, D\]/)
    tf.dispose([bad, r3])
  })

  it('leaks no tensors', () => {
    const f = tf.tensor2d(F)
    const before = tf.memory().numTensors
    invarianceMse(f).dispose()
    meanOverRotations(f).dispose()
    expect(tf.memory().numTensors).toBe(before)
    f.dispose()
  })
})

describe('stopGradient', () => {
  it('passes values and blocks the gradient: d/dx sum(sg(x) * x) = x, not 2x', () => {
    const x = tf.tensor1d([1, -2, 3])
    const y = stopGradient(x)
    expect(Array.from(y.dataSync())).toEqual([1, -2, 3])
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(stopGradient(t), t)))(x)
    expect(Array.from(g.dataSync())).toEqual([1, -2, 3])
    const g0 = tf.grad((t: tf.Tensor) => tf.sum(stopGradient(tf.square(t))))(x)
    for (const v of g0.dataSync()) expect(Math.abs(v)).toBe(0)
    tf.dispose([x, y, g, g0])
  })
})
