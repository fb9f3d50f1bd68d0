// Rotation cross-entropy and PU weights against plain-JS hand computations.
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '../../../src-engine/tf-gradients' // tfjs-core alone registers no gradient functions
import { puWeights, rotationCrossEntropy, rotationCrossEntropyPerView } from '../../../src-engine/losses/rotation-ce'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const LOGITS = [
  [2.0, 0.5, -1.0, 0.0],
  [0.1, 0.2, 0.3, 0.4],
  [-2.0, 3.0, 1.0, 0.5],
  [1.0, 1.0, 1.0, 1.0],
  [0.0, -0.5, 4.0, -3.0]
]
const LABELS = [0, 3, 1, 2, 0]
const WEIGHTS = [1, 0.25, 0.5, 0.9, 0]

/** CE_j = log(sum_c exp(l_jc)) - l_j,y, in double precision. */
function ceJs(logits: number[][], labels: number[]): number[] {
  return logits.map((row, j) => {
    let s = 0
    for (const v of row) s += Math.exp(v)
    return Math.log(s) - (row[labels[j] as number] as number)
  })
}

describe('rotationCrossEntropy', () => {
  it('unweighted: mean CE over views, per view matches by hand', () => {
    const l = tf.tensor2d(LOGITS)
    const y = tf.tensor1d(LABELS, 'int32')
    const ce = ceJs(LOGITS, LABELS)
    const per = rotationCrossEntropyPerView(l, y)
    Array.from(per.dataSync()).forEach((v, j) => expect(v).toBeCloseTo(ce[j] as number, 5))
    const loss = rotationCrossEntropy(l, y)
    expect(loss.shape).toEqual([])
    expect(loss.dataSync()[0]).toBeCloseTo(ce.reduce((a, b) => a + b, 0) / 5, 5)
    tf.dispose([l, y, per, loss])
  })

  it('weighted: sum(w*CE)/N, divided by N and not by sum(w)', () => {
    const l = tf.tensor2d(LOGITS)
    const ce = ceJs(LOGITS, LABELS)
    let s = 0
    for (let j = 0; j < 5; j++) s += (WEIGHTS[j] as number) * (ce[j] as number)
    const byN = s / 5
    const bySumW = s / WEIGHTS.reduce((a, b) => a + b, 0)
    for (const w of [tf.tensor1d(WEIGHTS), Float32Array.from(WEIGHTS), WEIGHTS]) {
      const loss = rotationCrossEntropy(l, Int32Array.from(LABELS), w)
      const v = loss.dataSync()[0] as number
      expect(v).toBeCloseTo(byN, 5)
      expect(Math.abs(v - bySumW)).toBeGreaterThan(1e-2)
      loss.dispose()
      if (w instanceof tf.Tensor) w.dispose()
    }
    l.dispose()
  })

  it('gradient w.r.t. logits is w_j * (softmax - onehot) / N', () => {
    const l = tf.tensor2d(LOGITS)
    const g = tf.grad((x: tf.Tensor) => rotationCrossEntropy(x as tf.Tensor2D, LABELS, WEIGHTS))(l)
    const got = g.arraySync() as number[][]
    LOGITS.forEach((row, j) => {
      const z = row.reduce((a, v) => a + Math.exp(v), 0)
      row.forEach((v, c) => {
        const want = ((WEIGHTS[j] as number) * (Math.exp(v) / z - (c === LABELS[j] ? 1 : 0))) / 5
        expect(got[j]?.[c]).toBeCloseTo(want, 6)
      })
    })
    tf.dispose([l, g])
  })

  it('is numerically stable for huge logits (log-softmax)', () => {
    const big = [
      [1000, 0, -1000, 500],
      [-800, 900, 0, 0]
    ]
    const l = tf.tensor2d(big)
    const loss = rotationCrossEntropy(l, [3, 1])
    // CE_0 = 1000 - 500 = 500 (other terms vanish), CE_1 = 0.
    expect(loss.dataSync()[0]).toBeCloseTo(250, 3)
    tf.dispose([l, loss])
  })

  it('rejects mismatched shapes and out-of-range array labels', () => {
    const l = tf.tensor2d(LOGITS)
    expect(() => rotationCrossEntropy(l, [0, 1])).toThrow(/length 5/)
    expect(() => rotationCrossEntropy(l, [0, 1, 2, 3, 4])).toThrow(/labels\[4\].*\[0, 4\)/)
    expect(() => rotationCrossEntropy(l, LABELS, [1, 1])).toThrow(/weights/)
    const flat = tf.zeros([4]) as unknown as tf.Tensor2D
    expect(() => rotationCrossEntropy(flat, [0])).toThrow(/rank 2/)
    tf.dispose([l, flat])
  })

  it('leaks no tensors', () => {
    const l = tf.tensor2d(LOGITS)
    const w = tf.tensor1d(WEIGHTS)
    const before = tf.memory().numTensors
    rotationCrossEntropy(l, LABELS, w).dispose()
    rotationCrossEntropy(l, Int32Array.from(LABELS)).dispose()
    rotationCrossEntropyPerView(l, LABELS).dispose()
    expect(tf.memory().numTensors).toBe(before)
    tf.dispose([l, w])
  })
})

describe('puWeights', () => {
  // 3 dataset images x 4 rotations, prob.dat layout (line 4i + r).
  const probs = Float32Array.from([0.9, 0.1, 0.2, 0.3, 0.8, 0.5, 0.0, 1.0, 0.7, 0.25, 0.6, 0.4])

  it('w = 1 for r = 0 and 1 - p^gamma for rotations, in the interleaved view layout', () => {
    const w = puWeights(probs, Int32Array.from([2, 0]))
    const want = [1, 1 - 0.25 ** 2, 1 - 0.6 ** 2, 1 - 0.4 ** 2, 1, 1 - 0.1 ** 2, 1 - 0.2 ** 2, 1 - 0.3 ** 2]
    expect(w.length).toBe(8)
    want.forEach((v, j) => expect(w[j]).toBeCloseTo(v, 6))
    const w3 = puWeights(probs, Int32Array.from([1]), 3)
    const want3 = [1, 1 - 0.5 ** 3, 1, 0]
    want3.forEach((v, j) => expect(w3[j]).toBeCloseTo(v, 6))
  })

  it('rejects out-of-table indices, p outside [0,1], bad gamma and a bad table length', () => {
    expect(() => puWeights(probs, Int32Array.from([3]))).toThrow(/outside the probability table \[0, 3\)/)
    expect(() => puWeights(Float32Array.from([1, 1.5, 0, 0]), Int32Array.from([0]))).toThrow(/probs\[1\].*\[0, 1\]/)
    expect(() => puWeights(Float32Array.from([1, Number.NaN, 0, 0]), Int32Array.from([0]))).toThrow(RangeError)
    expect(() => puWeights(probs, Int32Array.from([0]), 0)).toThrow(/gamma/)
    expect(() => puWeights(Float32Array.from([1, 0, 0]), Int32Array.from([0]))).toThrow(/multiple of 4/)
  })
})
