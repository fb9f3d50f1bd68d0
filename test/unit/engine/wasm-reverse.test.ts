// The wasm Reverse kernel (src-engine/wasm-kernels/reverse.ts) against the cpu backend, bit for
// bit: ranks 0-5, every combination of axes (negative ones too), size-1 and empty dims, odd sizes,
// float32 / int32 / bool, and the four rotations of a batch of views as training makes them.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { registerWasmTrainingKernels } from '../../../src-engine/wasm-kernels'
import { rotate } from '../../../src-engine/data/rotate'

beforeAll(async () => {
  await tf.setBackend('wasm')
  registerWasmTrainingKernels()
})

async function onBoth(f: () => tf.Tensor): Promise<{ cpu: number[]; wasm: number[]; shapes: number[][] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend)
    const t = tf.tidy(f)
    const r = { data: Array.from(t.dataSync() as ArrayLike<number>), shape: t.shape }
    t.dispose()
    return r
  }
  const c = await run('cpu')
  const before = tf.memory().numTensors
  const w = await run('wasm')
  expect(tf.memory().numTensors).toBe(before)
  return { cpu: c.data, wasm: w.data, shapes: [c.shape, w.shape] }
}

function axesOf(rank: number): number[][] {
  const all: number[][] = []
  for (let m = 0; m < 1 << rank; m++) all.push([...Array(rank).keys()].filter((k) => m & (1 << k)))
  return all
}

const SHAPES = [[], [7], [3, 5], [2, 1, 4], [2, 3, 5, 3], [2, 3, 1, 2, 17], [3, 0, 2]]

describe('wasm Reverse vs cpu', () => {
  for (const shape of SHAPES) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      it(`[${shape}] ${dtype}, every set of axes`, async () => {
        const n = shape.reduce((a, b) => a * b, 1)
        const values = Array.from({ length: n }, (_, i) => (dtype === 'bool' ? Number(i % 3 === 0) : dtype === 'int32' ? i * 7 - 50 : Math.sin(i) * 100))
        for (const axes of axesOf(shape.length)) {
          const r = await onBoth(() => tf.reverse(tf.tensor(values, shape, dtype), axes))
          expect(r.wasm, `axes [${axes}]`).toEqual(r.cpu)
          expect(r.shapes[1]).toEqual(r.shapes[0])
        }
      })
    }
  }

  it('takes negative axes', async () => {
    const r = await onBoth(() => tf.reverse(tf.reshape(tf.range(0, 60), [3, 4, 5]), [-1, -3]))
    expect(r.wasm).toEqual(r.cpu)
  })

  it('rotates a batch of views as the cpu backend does', async () => {
    for (const k of [0, 1, 2, 3] as const) {
      const r = await onBoth(() => rotate(tf.randomUniform([5, 9, 9, 3], 0, 1, 'float32', 4) as tf.Tensor4D, k))
      expect(r.wasm, `k=${k}`).toEqual(r.cpu)
    }
  })
})
