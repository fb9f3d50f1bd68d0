// The preview PNG encoder and the quarter turns it shows: the same pixel mapping as the
// network's rotations (np.rot90, counter-clockwise), and PNGs that a real decoder reads back.
import { describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { inflateSync } from 'node:zlib'
import { encodePngRgb, rotateRgb } from '../../../src-engine/util/png'
import { rotate } from '../../../src-engine/data/rotate'

describe('preview images', () => {
  it('rotates like the training views', async () => {
    await tf.setBackend('cpu')
    const size = 3
    const rgb = Uint8Array.from({ length: size * size * 3 }, (_, i) => i)
    for (const k of [0, 1, 2, 3]) {
      const t = rotate(tf.tensor4d(Float32Array.from(rgb), [1, size, size, 3]), k)
      expect(Array.from(rotateRgb(rgb, size, k))).toEqual(Array.from(t.dataSync()))
      t.dispose()
    }
  })

  it('encodes a PNG whose pixels decode back exactly', () => {
    const w = 4
    const h = 2
    const rgb = Uint8Array.from({ length: w * h * 3 }, (_, i) => (i * 37) % 256)
    const png = encodePngRgb(rgb, w, h)
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
    expect(png.readUInt32BE(16)).toBe(w)
    expect(png.readUInt32BE(20)).toBe(h)
    const idatLen = png.readUInt32BE(33)
    const raw = inflateSync(png.subarray(41, 41 + idatLen))
    const rows = Array.from({ length: h }, (_, y) => raw.subarray(y * (w * 3 + 1) + 1, (y + 1) * (w * 3 + 1)))
    expect(Buffer.concat(rows)).toEqual(Buffer.from(rgb))
  })
})
