// The native kernels of the wasm backend (src-engine/wasm-kernels/native-gemm.ts, native/gemm.c):
// products, convolutions and convolution filter gradients against the cpu backend over sizes that hit every edge
// (rows not a multiple of 4, columns not a multiple of 8, fewer than 8 columns, reductions over
// several 256-deep blocks, channels that are and are not a multiple of 8, strides, paddings), the
// same on the threaded build (columns split with the worker) in child processes, and a whole
// training step at width 0.25 with and without them. (Odd-sized filter gradients are covered by
// wasm-kernels.test.ts, which now runs them on the native kernel too.)
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import '../../../src-engine/tf-gradients'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerWasmTrainingKernels, type WasmBackend } from '../../../src-engine/wasm-kernels'
import { nativeGemmAvailable, setNativeConvDisabled, setNativeFilterGradDisabled, setNativeGemmDisabled } from '../../../src-engine/wasm-kernels/native-gemm'
import type { FilterGradCase } from '../../helpers/native-gemm-run'
import { firstStep, stepCheckConfig, withNoisePixels, worstError, worstMetricError } from '../../helpers/step-check'
import { generateSampleDataset } from '../../../src-shared/sample-dataset'

// [M, K, N]: every one has K*N >= 65536, so it takes the native path.
const SHAPES: [number, number, number][] = [
  [32, 576, 1024],
  [5, 300, 257],
  [1, 513, 129],
  [7, 22000, 3],
  [3, 256, 256],
  [33, 1025, 72]
]

// Channels a multiple of 8 take the contiguous gather; the others the per-lane one.
const FILTER_GRADS: FilterGradCase[] = [
  { x: [3, 15, 15, 16], k: 3, cout: 6, s: 1, pad: 'same' },
  { x: [2, 16, 16, 8], k: 5, cout: 13, s: 2, pad: 2 },
  { x: [4, 17, 17, 24], k: 3, cout: 5, s: 2, pad: 'valid' },
  { x: [5, 15, 15, 8], k: 3, cout: 7, s: 1, pad: 'same' },
  { x: [2, 9, 11, 5], k: 5, cout: 9, s: 1, pad: 1 },
  { x: [3, 8, 8, 3], k: 5, cout: 16, s: 2, pad: 'same' }
]

function rel(got: Float32Array, ref: Float32Array): number {
  let diff = 0
  let big = 0
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - ref[i]!))
    big = Math.max(big, Math.abs(ref[i]!))
  }
  return diff / big
}

beforeAll(async () => {
  await tf.setBackend('wasm')
  registerWasmTrainingKernels()
})
afterAll(() => {
  setNativeGemmDisabled(false)
  setNativeFilterGradDisabled(false)
  setNativeConvDisabled(false)
})

describe('native GEMM on the wasm heap', () => {
  it('loads on the wasm backend', async () => {
    await tf.setBackend('wasm')
    expect(nativeGemmAvailable(tf.backend() as unknown as WasmBackend)).toBe(true)
  })

  it.each(SHAPES)('[%i,%i] x [%i] matches the cpu backend', async (M, K, N) => {
    const a = new Float32Array(M * K).map((_, i) => Math.sin(i * 0.37) + 0.1)
    const b = new Float32Array(K * N).map((_, i) => Math.cos(i * 0.11) - 0.2)
    await tf.setBackend('cpu')
    const ref = tf.matMul(tf.tensor2d(a, [M, K]), tf.tensor2d(b, [K, N])).dataSync() as Float32Array
    await tf.setBackend('wasm')
    const before = tf.memory().numTensors
    const got = tf.tidy(() => tf.matMul(tf.tensor2d(a, [M, K]), tf.tensor2d(b, [K, N])).dataSync() as Float32Array)
    expect(tf.memory().numTensors).toBe(before)
    expect(got.length).toBe(M * N)
    expect(rel(got, ref)).toBeLessThan(1e-5)
  })

  it.each(FILTER_GRADS)('filter gradient of $x k$k s$s pad $pad -> $cout matches the cpu backend', async (c) => {
    const filterShape = [c.k, c.k, c.x[3], c.cout] as [number, number, number, number]
    const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.s, 1, c.pad)
    const x = new Float32Array(c.x.reduce((p, q) => p * q, 1)).map((_, i) => Math.sin(i * 0.37))
    const dy = new Float32Array(info.outShape.reduce((p, q) => p * q, 1)).map((_, i) => Math.cos(i * 0.13))
    const run = () =>
      tf.tidy(
        () =>
          (
            tf
              .engine()
              .runKernel(
                'Conv2DBackpropFilter',
                { x: tf.tensor(x, c.x), dy: tf.tensor(dy, info.outShape) },
                { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape }
              ) as tf.Tensor
          ).dataSync() as Float32Array
      )
    await tf.setBackend('cpu')
    const ref = run()
    await tf.setBackend('wasm')
    const before = tf.memory().numTensors
    const got = run()
    expect(tf.memory().numTensors).toBe(before)
    expect(rel(got, ref)).toBeLessThan(1e-5)
  })

  it.each(FILTER_GRADS.filter((c) => c.x[3] >= 8))('convolution of $x k$k s$s pad $pad -> $cout matches the cpu backend', async (c) => {
    const filterShape = [c.k, c.k, c.x[3], c.cout] as [number, number, number, number]
    const x = new Float32Array(c.x.reduce((p, q) => p * q, 1)).map((_, i) => Math.sin(i * 0.37))
    const w = new Float32Array(filterShape.reduce((p, q) => p * q, 1)).map((_, i) => Math.cos(i * 0.13))
    const run = () => tf.tidy(() => tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(w, filterShape), c.s, c.pad).dataSync() as Float32Array)
    await tf.setBackend('cpu')
    const ref = run()
    await tf.setBackend('wasm')
    const before = tf.memory().numTensors
    const got = run()
    expect(tf.memory().numTensors).toBe(before)
    expect(rel(got, ref)).toBeLessThan(1e-5)
  })

  it('gives the same results split between two threads, bit for bit', async () => {
    interface Out {
      products: { shape: number[]; rel: number; checksum: number }[]
      filterGrads: { shape: number[]; rel: number; checksum: number }[]
      convs: { shape: number[]; rel: number; checksum: number }[]
    }
    const run = (threads: number) =>
      new Promise<Out>((resolve, reject) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', path.resolve('test/helpers/native-gemm-run.ts'), String(threads), JSON.stringify(SHAPES), JSON.stringify(FILTER_GRADS)],
          { timeout: 60_000 },
          (err, stdout, stderr) => {
            const line = stdout.trim().split('\n').at(-1) ?? ''
            if (err || !line.startsWith('{')) return reject(new Error(`threads=${threads}: ${err?.message ?? ''} ${stderr.trim().split('\n').at(-1)}`))
            resolve(JSON.parse(line) as Out)
          }
        )
      })
    const [one, two] = await Promise.all([run(1), run(2)])
    for (const r of [...one.products, ...two.products, ...one.filterGrads, ...two.filterGrads, ...one.convs, ...two.convs])
      expect(r.rel, `vs XNNPACK at ${r.shape}`).toBeLessThan(1e-5)
    expect(two.products.map((r) => r.checksum)).toEqual(one.products.map((r) => r.checksum))
    expect(two.filterGrads.map((r) => r.checksum)).toEqual(one.filterGrads.map((r) => r.checksum))
    expect(two.convs.map((r) => r.checksum)).toEqual(one.convs.map((r) => r.checksum))
  }, 60_000)

  it('leaves a whole training step at width 0.25 as the XNNPACK route has it', async () => {
    await tf.setBackend('wasm')
    const data = withNoisePixels(generateSampleDataset({ perClass: 1, size: 32, seed: 2 }))
    const config = stepCheckConfig('rfd-contrastive', { arch: 'alexnet32', width: 0.25, batchSize: 4 })
    setNativeGemmDisabled(true)
    setNativeFilterGradDisabled(true)
    setNativeConvDisabled(true)
    const ref = firstStep(config, data)
    setNativeGemmDisabled(false)
    setNativeFilterGradDisabled(false)
    setNativeConvDisabled(false)
    const got = firstStep(config, data)
    const g = worstError(ref.grads, got.grads)
    const w = worstError(ref.after, got.after)
    const m = worstMetricError(ref.metrics, got.metrics)
    expect(g.err, `worst gradient: ${g.name}`).toBeLessThan(1e-4)
    expect(w.err, `worst weight after the step: ${w.name}`).toBeLessThan(1e-4)
    expect(m.err, `worst metric: ${m.name}`).toBeLessThan(1e-4)
  }, 30_000)
})
