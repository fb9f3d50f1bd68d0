// PU probability estimation: out-of-sample RotNet probabilities that a rotated copy looks
// upright. On images that are identical under 90-degree turns the weights 1 - p^2 go down; on
// upright, photo-like images they stay near 1.
import { beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src-engine/backends'
import { cuedSample } from '../../helpers/cued-sample'
import type { ImageSet } from '../../../src-shared/image-set'
import { estimatePuProbabilities, meanRotatedWeight } from '../../../src-engine/pu'

/** Make every image invariant to 90-degree turns: the mean of its four rotations. */
function symmetrise(set: ImageSet): ImageSet {
  const s = set.size
  const out = new Uint8Array(set.images.length)
  for (let n = 0; n < set.n; n++) {
    const base = n * s * s * 3
    for (let y = 0; y < s; y++)
      for (let x = 0; x < s; x++)
        for (let c = 0; c < 3; c++) {
          const at = (yy: number, xx: number): number => set.images[base + (yy * s + xx) * 3 + c]!
          const v = at(y, x) + at(x, s - 1 - y) + at(s - 1 - y, s - 1 - x) + at(s - 1 - x, y)
          out[base + (y * s + x) * 3 + c] = Math.round(v / 4)
        }
  }
  return { ...set, images: out }
}

const opts = { folds: 2, epochs: 8, batchSize: 10, backbone: { arch: 'alexnet32' as const, width: 0.125 }, seed: 5 }

beforeAll(async () => {
  await selectBackend('wasm')
})

describe('PU estimation', () => {
  const upright = cuedSample({ perClass: 6, size: 32, seed: 11 })

  it('keeps weights near 1 on upright images and lowers them on rotation-symmetric ones', () => {
    const pUp = estimatePuProbabilities(upright, opts)
    const pSym = estimatePuProbabilities(symmetrise(upright), opts)
    expect(pUp).toHaveLength(upright.n * 4)
    for (const p of [...pUp, ...pSym]) expect(p >= 0 && p <= 1).toBe(true)
    const wUp = meanRotatedWeight(pUp)
    const wSym = meanRotatedWeight(pSym)
    const meanRotatedP = (p: Float32Array): number => p.filter((_, j) => j % 4 !== 0).reduce((a, b) => a + b, 0) / (p.length * 0.75)
    console.log(
      `PU: upright mean w ${wUp.toFixed(4)} (rotated p ${meanRotatedP(pUp).toFixed(3)}); symmetric mean w ${wSym.toFixed(4)} (rotated p ${meanRotatedP(pSym).toFixed(3)})`
    )
    // Upright photos-like images: rotated copies rarely look upright, weights stay near 1.
    expect(wUp).toBeGreaterThan(0.98)
    expect(meanRotatedP(pUp)).toBeLessThan(0.08)
    // Symmetric images: a rotated copy is indistinguishable from the original (chance is 0.25).
    expect(meanRotatedP(pSym)).toBeGreaterThan(0.15)
    expect(wSym).toBeLessThan(wUp - 0.015)
    // The upright copies themselves are recognised as upright more often than not.
    let up0 = 0
    for (let i = 0; i < upright.n; i++) up0 += pUp[4 * i]!
    expect(up0 / upright.n).toBeGreaterThan(0.5)
  }, 120_000)

  it('rejects fewer than two folds', () => {
    expect(() => estimatePuProbabilities(upright, { ...opts, folds: 1 })).toThrow(/folds must be an integer >= 2/)
  })
})
