// rotate / rotateBatch: exact pixel mapping against hand-written arrays and plain-JS index
// formulas, interleaving with distinct images, and the same results on the wasm backend.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { imageIndexOfView, rotate, rotateBatch, rotationOfView, viewsOfRotation } from '../../../src-engine/data/rotate'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

/** Plain-JS rotation of a [H][W][C] nested array, counter-clockwise by 90*k degrees. */
function rotJs(img: number[][][], k: number): number[][][] {
  const n = img.length
  const at = (i: number, j: number): number[] => (img[i] as number[][])[j] as number[]
  const out: number[][][] = []
  for (let i = 0; i < n; i++) {
    const row: number[][] = []
    for (let j = 0; j < n; j++) {
      if (k === 0) row.push(at(i, j))
      else if (k === 1) row.push(at(j, n - 1 - i))
      else if (k === 2) row.push(at(n - 1 - i, n - 1 - j))
      else row.push(at(n - 1 - j, i))
    }
    out.push(row)
  }
  return out
}

/** Image b of a batch: n x n x c with values 1000*b + 10*(i*n + j) + ch, all distinct. */
function image(b: number, n: number, c: number): number[][][] {
  return Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Array.from({ length: c }, (_, ch) => 1000 * b + 10 * (i * n + j) + ch)))
}

describe('rotate (cpu)', () => {
  const x3 = (): tf.Tensor4D => tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1])
  // np.rot90([[1,2,3],[4,5,6],[7,8,9]], k), written out by hand.
  const expected3: Record<number, number[][]> = {
    0: [
      [1, 2, 3],
      [4, 5, 6],
      [7, 8, 9]
    ],
    1: [
      [3, 6, 9],
      [2, 5, 8],
      [1, 4, 7]
    ],
    2: [
      [9, 8, 7],
      [6, 5, 4],
      [3, 2, 1]
    ],
    3: [
      [7, 4, 1],
      [8, 5, 2],
      [9, 6, 3]
    ]
  }

  it.each([0, 1, 2, 3])('3x3, k=%i matches the hand-written np.rot90 result', (k) => {
    const x = x3()
    const y = rotate(x, k)
    expect(y.shape).toEqual([1, 3, 3, 1])
    expect((y.arraySync() as number[][][][])[0]?.map((r) => r.map((p) => p[0]))).toEqual(expected3[k])
    tf.dispose([x, y])
  })

  it.each([0, 1, 2, 3])('4x4x2, k=%i matches the index formula per pixel and channel', (k) => {
    const img = image(0, 4, 2)
    const x = tf.tensor4d([img])
    const y = rotate(x, k)
    expect((y.arraySync() as number[][][][])[0]).toEqual(rotJs(img, k))
    tf.dispose([x, y])
  })

  it('k=1 is out[i][j] = in[j][W-1-i] (counter-clockwise), not clockwise', () => {
    const img = image(0, 4, 1)
    const x = tf.tensor4d([img])
    const y = (rotate(x, 1).arraySync() as number[][][][])[0] as number[][][]
    for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) expect(y[i]?.[j]).toEqual(img[j]?.[3 - i])
    tf.dispose(x)
  })

  it('four quarter turns are the identity; negative k is clockwise', () => {
    const x = tf.tensor4d([image(0, 4, 3), image(1, 4, 3)])
    let y = tf.clone(x)
    for (let t = 0; t < 4; t++) {
      const next = rotate(y, 1)
      y.dispose()
      y = next
    }
    expect(y.arraySync()).toEqual(x.arraySync())
    const a = rotate(x, -1)
    const b = rotate(x, 3)
    expect(a.arraySync()).toEqual(b.arraySync())
    tf.dispose([x, y, a, b])
  })

  it('rejects non-square, wrong rank and non-integer k', () => {
    const r = tf.zeros([1, 2, 3, 1]) as tf.Tensor4D
    const bad = tf.zeros([3, 3, 1]) as unknown as tf.Tensor4D
    const sq = tf.zeros([1, 3, 3, 1]) as tf.Tensor4D
    expect(() => rotate(r, 1)).toThrow(/square/)
    expect(() => rotateBatch(r)).toThrow(/square/)
    expect(() => rotate(bad, 1)).toThrow(/rank 4/)
    expect(() => rotate(sq, 1.5)).toThrow(/integer/)
    tf.dispose([r, bad, sq])
  })
})

describe('rotateBatch (cpu)', () => {
  it('view j is rotate(image floor(j/4), j%4), labels[j] = j%4, with 3 distinct images', () => {
    const imgs = [image(0, 3, 2), image(1, 3, 2), image(2, 3, 2)]
    const x = tf.tensor4d(imgs)
    const { views, labels } = rotateBatch(x)
    expect(views.shape).toEqual([12, 3, 3, 2])
    expect(labels.dtype).toBe('int32')
    expect(Array.from(labels.dataSync())).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
    const v = views.arraySync() as number[][][][]
    for (let j = 0; j < 12; j++) {
      expect(v[j]).toEqual(rotJs(imgs[Math.floor(j / 4)] as number[][][], j % 4))
    }
    tf.dispose([x, views, labels])
  })

  it('viewsOfRotation(views, r) = views[r::4] = rotation r of every image', () => {
    const imgs = [image(0, 4, 1), image(1, 4, 1), image(2, 4, 1)]
    const x = tf.tensor4d(imgs)
    const { views, labels } = rotateBatch(x)
    for (let r = 0; r < 4; r++) {
      const s = viewsOfRotation(views, r)
      expect(s.shape).toEqual([3, 4, 4, 1])
      expect(s.arraySync()).toEqual(imgs.map((im) => rotJs(im, r)))
      s.dispose()
    }
    // Works on any rank, e.g. [4B, D] features: rows r, r+4, r+8.
    const f = tf.tensor2d(Array.from({ length: 12 }, (_, j) => [j, -j]))
    const f2 = viewsOfRotation(f, 2)
    expect(f2.arraySync()).toEqual([
      [2, -2],
      [6, -6],
      [10, -10]
    ])
    expect(() => viewsOfRotation(f, 4)).toThrow(/0\.\.3/)
    const odd = tf.zeros([6, 2])
    expect(() => viewsOfRotation(odd, 0)).toThrow(/multiple of 4/)
    tf.dispose([x, views, labels, f, f2, odd])
  })

  it('view index helpers', () => {
    expect([0, 1, 2, 3, 4, 5, 11].map(imageIndexOfView)).toEqual([0, 0, 0, 0, 1, 1, 2])
    expect([0, 1, 2, 3, 4, 5, 11].map(rotationOfView)).toEqual([0, 1, 2, 3, 0, 1, 3])
    expect(() => imageIndexOfView(-1)).toThrow(RangeError)
    expect(() => rotationOfView(0.5)).toThrow(RangeError)
  })

  it('leaks no tensors', () => {
    const x = tf.tensor4d([image(0, 3, 1), image(1, 3, 1)])
    const before = tf.memory().numTensors
    const { views, labels } = rotateBatch(x)
    const r = rotate(x, 3)
    const s = viewsOfRotation(views, 1)
    tf.dispose([views, labels, r, s])
    expect(tf.memory().numTensors).toBe(before)
    x.dispose()
  })
})

describe('rotate (wasm)', () => {
  afterAll(async () => {
    await tf.setBackend('cpu')
  })

  it('gives the same exact results on the wasm backend', async () => {
    await import('@tensorflow/tfjs-backend-wasm')
    await tf.setBackend('wasm')
    expect(tf.getBackend()).toBe('wasm')
    const imgs = [image(0, 4, 3), image(1, 4, 3), image(2, 4, 3)]
    const x = tf.tensor4d(imgs)
    const { views, labels } = rotateBatch(x)
    const v = views.arraySync() as number[][][][]
    for (let j = 0; j < 12; j++) expect(v[j]).toEqual(rotJs(imgs[Math.floor(j / 4)] as number[][][], j % 4))
    expect(Array.from(labels.dataSync())).toEqual([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3])
    const s = viewsOfRotation(views, 3)
    expect(s.arraySync()).toEqual(imgs.map((im) => rotJs(im, 3)))
    tf.dispose([x, views, labels, s])
  })
})
