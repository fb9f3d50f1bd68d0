// The project's tiled webgpu kernels (src-engine/webgpu/kernels) against the cpu backend, on
// whatever adapter this machine has (in CI Mesa's software llvmpipe, so shapes are AlexNet's
// layer shapes at small batches and reduced widths), and the shader warm-up at worker start.
// Skipped, with the reason printed, where no adapter exists.
//
// Relative error: max_i |webgpu_i - cpu_i| / max_i |cpu_i|, as in wasm-kernels.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { selectBackend } from '../../../src-engine/backends'
import { disposeNodeWebGpu, initNodeWebGpu } from '../../../src-engine/webgpu/node-gpu'
import { parseTrainConfig } from '../../../src-shared/config/train'
import { warmUpGpuKernels, type WarmUpProgress } from '../../../src-engine/webgpu/warm-up'
import { conv2DBackpropFilterConfig, conv2dBackpropFilterOptions, planFilterGrad } from '../../../src-engine/webgpu/kernels/conv2d-backprop-filter'

const found = await initNodeWebGpu().then(
  (adapter) => ({ ok: true, why: '', name: adapter.description || adapter.device }),
  (err: unknown) => ({ ok: false, why: (err as Error).message, name: '' })
)
if (!found.ok) console.warn(`webgpu kernel tests skipped: ${found.why}`)

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]]

function values(n: number, seed: number): Float32Array {
  const out = new Float32Array(n)
  let s = (seed * 2654435761) >>> 0
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    out[i] = s / 2 ** 31 - 1
  }
  return out
}

function relErr(ref: Float32Array, got: Float32Array): number {
  expect(got.length).toBe(ref.length)
  let scale = 0
  let diff = 0
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i]!))
    diff = Math.max(diff, Math.abs(ref[i]! - got[i]!))
  }
  return Number.isFinite(diff) ? diff / Math.max(scale, 1e-12) : Infinity
}

const explicit = (p: number): Pad => [
  [0, 0],
  [p, p],
  [p, p],
  [0, 0]
]

interface Case {
  name: string
  x: [number, number, number, number]
  k: number
  s: number
  pad: Pad
  co: number
}

// AlexNet's conv layer kernels, strides and pads (explicit symmetric pads, as the engine passes
// them) on small images, batches and widths: the cpu backend computes a filter gradient at only
// a few million multiply-adds a second. Plus odd sizes that no tile divides and tfjs's string
// paddings. The K split is forced on one case (at these sizes the planner splits none).
const CASES: Case[] = [
  { name: 'alexnet224 conv1 k11 s4 p2 (63 px)', x: [2, 63, 63, 3], k: 11, s: 4, pad: explicit(2), co: 8 },
  { name: 'alexnet64 conv1 k5 s2 p2 (31 px)', x: [2, 31, 31, 3], k: 5, s: 2, pad: explicit(2), co: 16 },
  { name: 'alexnet32 conv1 k3 s1 p1', x: [1, 32, 32, 3], k: 3, s: 1, pad: explicit(1), co: 16 },
  { name: 'conv2 k5 p2 (13 px)', x: [1, 13, 13, 16], k: 5, s: 1, pad: explicit(2), co: 24 },
  { name: 'conv3 k3 p1 (7 px)', x: [2, 7, 7, 32], k: 3, s: 1, pad: explicit(1), co: 40 },
  { name: 'conv4 k3 p1, 64 x 64 tiles', x: [1, 5, 5, 96], k: 3, s: 1, pad: explicit(1), co: 72 },
  { name: 'odd 7x9x5 -> 7, k3 s2 same', x: [3, 7, 9, 5], k: 3, s: 2, pad: 'same', co: 7 },
  { name: 'odd 7x9x5 -> 7, k3 s2 valid', x: [3, 7, 9, 5], k: 3, s: 2, pad: 'valid', co: 7 },
  {
    name: 'odd 11x10x3 -> 33, k4 s3 asymmetric pads',
    x: [1, 11, 10, 3],
    k: 4,
    s: 3,
    pad: [
      [0, 0],
      [1, 2],
      [0, 1],
      [0, 0]
    ],
    co: 33
  }
]

/** dW of one case from the kernel, on the current backend. */
function filterGrad(c: Case): Float32Array {
  const wShape: [number, number, number, number] = [c.k, c.k, c.x[3], c.co]
  const info = tf.backend_util.computeConv2DInfo(c.x, wShape, c.s, 1, c.pad)
  return tf.tidy(() => {
    const x = tf.tensor4d(
      values(
        c.x.reduce((a, b) => a * b),
        1
      ),
      c.x
    )
    const dy = tf.tensor4d(
      values(
        info.outShape.reduce((a, b) => a * b),
        2
      ),
      info.outShape
    )
    const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: wShape }) as tf.Tensor
    return dw.dataSync() as Float32Array
  })
}

describe.skipIf(!found.ok)(`webgpu kernels on ${found.name || 'no adapter'}`, () => {
  const reference = new Map<string, Float32Array>()
  beforeAll(async () => {
    await tf.setBackend('cpu')
    for (const c of CASES) {
      const t0 = performance.now()
      reference.set(c.name, filterGrad(c))
      console.info(`cpu ${c.name}: ${(performance.now() - t0).toFixed(0)} ms`)
    }
    expect((await selectBackend('webgpu')).name).toBe('webgpu')
  }, 60_000)
  afterAll(async () => {
    conv2dBackpropFilterOptions.tile = null
    conv2dBackpropFilterOptions.splits = null
    await tf.setBackend('cpu')
    disposeNodeWebGpu()
  })

  it('plans a K split where the filter is small and K is large, none where K is small', () => {
    // alexnet224 conv1, batch 128: 363 x 64 outputs over 128 * 55 * 55 products.
    const conv1 = planFilterGrad(363, 64, 128 * 55 * 55)
    expect(conv1.splits).toBeGreaterThan(8)
    expect(conv1.splits * conv1.chunksPerSplit * conv1.tile.tk).toBeGreaterThanOrEqual(128 * 55 * 55)
    expect((conv1.splits - 1) * conv1.chunksPerSplit * conv1.tile.tk).toBeLessThan(128 * 55 * 55)
    expect(planFilterGrad(3456, 384, 2 * 3 * 3).splits).toBe(1)
    // The partial sums stay within a small binding limit.
    const capped = planFilterGrad(1600, 192, 64 * 27 * 27, 4 * 1600 * 192 * 3)
    expect(capped.splits).toBeLessThanOrEqual(3)
  })

  it.each(CASES.map((c) => [c.name, c] as const))('Conv2DBackpropFilter %s matches cpu within 1e-4 relative', (_, c) => {
    const err = relErr(reference.get(c.name)!, filterGrad(c))
    console.info(`Conv2DBackpropFilter ${c.name}: ${err.toExponential(2)}`)
    expect(err).toBeLessThan(1e-4)
  })

  it('every tile shape and split count gives the same result (odd sizes, forced)', () => {
    const c = CASES.find((k) => k.name.startsWith('conv2'))!
    const ref = reference.get(c.name)!
    try {
      for (const tile of ['small', 'large'] as const) {
        for (const splits of [1, 3, 7]) {
          conv2dBackpropFilterOptions.tile = tile
          conv2dBackpropFilterOptions.splits = splits
          expect(relErr(ref, filterGrad(c)), `${tile} tile, ${splits} splits`).toBeLessThan(1e-4)
        }
      }
    } finally {
      conv2dBackpropFilterOptions.tile = null
      conv2dBackpropFilterOptions.splits = null
    }
  })

  it('is what tf.grad of a conv2d uses, and leaves no tensors behind', async () => {
    const x = values(2 * 9 * 9 * 4, 3)
    const w = values(3 * 3 * 4 * 6, 4)
    const grad = (): Float32Array =>
      tf.tidy(() => {
        const f = (v: tf.Tensor): tf.Scalar => tf.sum(tf.square(tf.conv2d(tf.tensor4d(x, [2, 9, 9, 4]), v as tf.Tensor4D, 2, 'same')))
        return tf
          .grad(f)(tf.tensor4d(w, [3, 3, 4, 6]))
          .dataSync() as Float32Array
      })
    expect(tf.getKernel('Conv2DBackpropFilter', 'webgpu')).toBe(conv2DBackpropFilterConfig)
    const before = tf.memory().numTensors
    const got = grad()
    expect(tf.memory().numTensors).toBe(before)
    await tf.setBackend('cpu')
    const ref = grad()
    await selectBackend('webgpu')
    expect(relErr(ref, got)).toBeLessThan(1e-4)
  })

  it('the warm-up runs a step of the configured network, reports "compiling GPU kernels" and leaves no tensors', () => {
    const config = parseTrainConfig({ seed: 1, backbone: { arch: 'alexnet32', width: 0.0625 }, method: { method: 'rotnet' }, batchSize: 4, epochs: 1 })
    const events: WarmUpProgress[] = []
    const before = tf.memory().numTensors
    const seconds = warmUpGpuKernels(config, (p) => events.push(p))
    expect(tf.memory().numTensors).toBe(before)
    expect(events.map((e) => e.phase)).toEqual(['compiling', 'done'])
    expect(events[0]!.message).toMatch(/^Compiling GPU kernels…/)
    expect(events[1]!.seconds).toBe(seconds)
    console.info(`warm-up (alexnet32 width 1/16, batch 4, rotnet): ${seconds.toFixed(1)} s`)
  }, 60_000)
})
