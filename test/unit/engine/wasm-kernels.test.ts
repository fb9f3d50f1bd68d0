// The wasm training kernels (src-engine/wasm-kernels) against the cpu backend: real gradients and
// direct kernel/op calls over strides, paddings, kernel sizes, odd input sizes, batches, channels.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import '../../../src-engine/tf-gradients'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../../../src-engine/wasm-kernels'
import { setNativeMaxPoolGradDisabled } from '../../../src-engine/wasm-kernels/native-gemm'

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]]
type Shape = number[]

/** Deterministic values in [-1, 1) (or small integers/halves when `quantize`, to make ties). */
function values(shape: Shape, seed: number, quantize = false): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1)
  const out = new Float32Array(n)
  let s = (seed * 2654435761) >>> 0
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    const v = s / 2 ** 31 - 1
    out[i] = quantize ? Math.round(v * 2) / 2 : v
  }
  return out
}

/** Runs `f` on the cpu backend, then on wasm, and returns both results' data. */
async function onBoth(f: () => tf.Tensor | tf.Tensor[]): Promise<{ cpu: Float32Array[]; wasm: Float32Array[] }> {
  const run = async (backend: string) => {
    await tf.setBackend(backend)
    const outs = tf.tidy(() => {
      const r = f()
      return Array.isArray(r) ? r : [r]
    })
    const data = outs.map((t) => t.dataSync() as Float32Array)
    tf.dispose(outs)
    return data
  }
  const cpu = await run('cpu')
  const wasm = await run('wasm')
  return { cpu, wasm }
}

function relErr(ref: Float32Array, got: Float32Array): number {
  expect(got.length).toBe(ref.length)
  let scale = 0
  let diff = 0
  for (let i = 0; i < ref.length; i++) {
    scale = Math.max(scale, Math.abs(ref[i] as number))
    diff = Math.max(diff, Math.abs((ref[i] as number) - (got[i] as number)))
  }
  if (!Number.isFinite(diff)) return Infinity
  return diff / Math.max(scale, 1e-6)
}

async function expectSame(f: () => tf.Tensor | tf.Tensor[], tol = 1e-4): Promise<void> {
  const { cpu, wasm } = await onBoth(f)
  expect(wasm.length).toBe(cpu.length)
  cpu.forEach((ref, i) => {
    expect(relErr(ref, wasm[i] as Float32Array), `output ${i}`).toBeLessThan(tol)
  })
}

function wasmDataIds(): number {
  return (tf.engine().findBackend('wasm') as unknown as { numDataIds(): number }).numDataIds()
}

beforeAll(async () => {
  await tf.setBackend('wasm')
  registerWasmTrainingKernels()
})

afterAll(async () => {
  await tf.setBackend('cpu')
})

interface ConvCase {
  x: Shape
  k: number | [number, number]
  cout: number
  s: number | [number, number]
  pad: Pad
}

const EXPLICIT: Pad = [
  [0, 0],
  [1, 2],
  [2, 1],
  [0, 0]
]

const CONV_CASES: ConvCase[] = [
  { x: [1, 7, 9, 3], k: 3, cout: 4, s: 1, pad: 'same' },
  { x: [3, 7, 9, 2], k: 3, cout: 5, s: 2, pad: 'same' },
  { x: [3, 15, 15, 4], k: 5, cout: 3, s: 2, pad: 'valid' },
  { x: [1, 15, 15, 3], k: 5, cout: 8, s: 1, pad: 'same' },
  { x: [1, 13, 11, 3], k: 1, cout: 6, s: 2, pad: 'same' },
  { x: [3, 13, 11, 3], k: 1, cout: 2, s: 1, pad: 'valid' },
  { x: [1, 15, 15, 2], k: 11, cout: 3, s: 1, pad: 'valid' },
  { x: [3, 15, 15, 2], k: 11, cout: 2, s: 2, pad: 'same' },
  { x: [1, 13, 11, 1], k: 11, cout: 4, s: 1, pad: 'same' },
  { x: [3, 7, 9, 4], k: 3, cout: 4, s: 2, pad: EXPLICIT },
  { x: [1, 13, 11, 3], k: 5, cout: 2, s: 1, pad: EXPLICIT },
  { x: [3, 9, 7, 3], k: 3, cout: 3, s: 2, pad: 1 },
  { x: [1, 9, 7, 2], k: 5, cout: 3, s: 1, pad: 2 },
  { x: [3, 13, 11, 2], k: 5, cout: 3, s: 3, pad: 'same' },
  { x: [1, 13, 11, 2], k: [5, 3], cout: 3, s: [2, 1], pad: 'valid' },
  {
    x: [1, 9, 8, 2],
    k: 3,
    cout: 2,
    s: 2,
    pad: [
      [0, 0],
      [4, 0],
      [0, 5],
      [0, 0]
    ]
  }
]

function label(c: { x: Shape; k: unknown; s: unknown; pad: unknown }): string {
  return `x=${c.x.join('x')} k=${String(c.k)} s=${String(c.s)} pad=${JSON.stringify(c.pad)}`
}

function kdims(k: number | [number, number]): [number, number] {
  return typeof k === 'number' ? [k, k] : k
}

describe('wasm training kernels vs cpu', () => {
  describe('conv2d gradients (Conv2DBackpropFilter + Conv2DBackpropInput)', () => {
    for (const c of CONV_CASES) {
      it(label(c), async () => {
        const [kh, kw] = kdims(c.k)
        const wShape = [kh, kw, c.x[3] as number, c.cout]
        await expectSame(() => {
          const x = tf.tensor4d(values(c.x, 1), c.x as [number, number, number, number])
          const w = tf.tensor4d(values(wShape, 2), wShape as [number, number, number, number])
          const y0 = tf.conv2d(x, w, c.s, c.pad)
          const r = tf.tensor(values(y0.shape, 3), y0.shape)
          const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), r))
          return tf.grads(loss)([x, w])
        })
      })
    }
  })

  describe('direct kernel calls', () => {
    const direct: Array<ConvCase & { round?: 'floor' | 'ceil' | 'round' }> = [
      { x: [3, 9, 7, 3], k: 3, cout: 4, s: 2, pad: 1, round: 'ceil' },
      { x: [1, 10, 9, 2], k: 4, cout: 3, s: 3, pad: 1, round: 'floor' },
      { x: [3, 15, 15, 4], k: 5, cout: 6, s: 2, pad: 'same' },
      { x: [1, 7, 9, 3], k: 11, cout: 2, s: 1, pad: 'same' }
    ]
    for (const c of direct) {
      it(`Conv2DBackpropFilter/Input ${label(c)} round=${c.round ?? '-'}`, async () => {
        const [kh, kw] = kdims(c.k)
        const wShape = [kh, kw, c.x[3] as number, c.cout] as [number, number, number, number]
        const info = tf.backend_util.computeConv2DInfo(c.x as [number, number, number, number], wShape, c.s, 1, c.pad, c.round)
        const attrs: tf.NamedAttrMap = { strides: c.s, pad: c.pad, dataFormat: 'NHWC' }
        if (c.round != null) attrs.dimRoundingMode = c.round
        await expectSame(() => {
          const x = tf.tensor(values(c.x, 4), c.x)
          const w = tf.tensor(values(wShape, 5), wShape)
          const dy = tf.tensor(values(info.outShape, 6), info.outShape)
          const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: wShape }) as tf.Tensor
          const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: c.x }) as tf.Tensor
          return [dw, dx]
        })
      })
    }

    it('conv2dTranspose (Conv2DBackpropInput as an op)', async () => {
      await expectSame(() => {
        const x = tf.tensor4d(values([3, 5, 4, 6], 7), [3, 5, 4, 6])
        const w = tf.tensor4d(values([3, 3, 2, 6], 8), [3, 3, 2, 6])
        return [tf.conv2dTranspose(x, w, [3, 10, 8, 2], 2, 'same'), tf.conv2dTranspose(x, w, [3, 11, 9, 2], 2, 'valid')]
      })
    })
  })

  describe('maxPool gradient (MaxPoolGrad), including ties', () => {
    const cases: Array<{ x: Shape; f: number | [number, number]; s: number; pad: 'same' | 'valid' | number }> = [
      { x: [1, 7, 9, 3], f: 2, s: 2, pad: 'valid' },
      { x: [3, 7, 9, 2], f: 3, s: 2, pad: 'same' },
      { x: [3, 15, 15, 4], f: 3, s: 2, pad: 'valid' },
      { x: [1, 13, 11, 5], f: 3, s: 1, pad: 'same' },
      { x: [3, 13, 11, 1], f: 5, s: 2, pad: 'same' },
      { x: [1, 9, 7, 3], f: 3, s: 2, pad: 1 },
      { x: [1, 9, 7, 2], f: [2, 3], s: 1, pad: 'valid' },
      { x: [1, 8, 8, 33], f: 1, s: 2, pad: 'valid' },
      { x: [5, 15, 15, 16], f: 3, s: 2, pad: 'valid' },
      { x: [2, 9, 9, 12], f: 3, s: 2, pad: 'same' }
    ]
    it('the JS loop (no native module) as the native pass, on random, ReLU and quantized inputs', async () => {
      for (const kind of ['random', 'relu', 'quantized'] as const) {
        const grad = (): tf.Tensor => {
          let x: tf.Tensor4D = tf.tensor4d(values([3, 15, 15, 6], 9, kind === 'quantized'), [3, 15, 15, 6])
          if (kind === 'relu') x = tf.relu(x)
          const r = tf.tensor(values([3, 7, 7, 6], 10), [3, 7, 7, 6])
          return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, 3, 2, 'valid'), r)))(x)
        }
        await tf.setBackend('wasm')
        const native = tf.tidy(() => Array.from(grad().dataSync()))
        setNativeMaxPoolGradDisabled(true)
        const js = tf.tidy(() => Array.from(grad().dataSync()))
        setNativeMaxPoolGradDisabled(false)
        expect(js, kind).toEqual(native)
      }
    })
    for (const c of cases) {
      for (const kind of ['random', 'relu', 'quantized'] as const) {
        it(`${label({ ...c, k: c.f })} ${kind}`, async () => {
          await expectSame(() => {
            let x: tf.Tensor4D = tf.tensor4d(values(c.x, 9, kind === 'quantized'), c.x as [number, number, number, number])
            if (kind === 'relu') x = tf.relu(x)
            const y0 = tf.maxPool(x, c.f, c.s, c.pad)
            const r = tf.tensor(values(y0.shape, 10), y0.shape)
            return tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.maxPool(a as tf.Tensor4D, c.f, c.s, c.pad), r)))(x)
          }, 1e-5)
        })
      }
    }

    it('routes an all-tied window to its first element, like cpu', async () => {
      const { cpu, wasm } = await onBoth(() => {
        const x = tf.zeros([1, 4, 4, 2]) as tf.Tensor4D
        const dy = tf.tensor(values([1, 3, 3, 2], 11), [1, 3, 3, 2])
        const y = tf.maxPool(x, 2, 1, 'valid')
        return tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: 2, strides: 1, pad: 'valid' }) as tf.Tensor
      })
      expect(Array.from(wasm[0] as Float32Array)).toEqual(Array.from(cpu[0] as Float32Array))
      // First window's first element is (0,0); nothing reaches the last row or column.
      expect((cpu[0] as Float32Array)[(3 * 4 + 3) * 2]).toBe(0)
    })
  })

  describe('matMul with transposes and batches (BatchMatMul)', () => {
    const combos: Array<[boolean, boolean]> = [
      [false, false],
      [true, false],
      [false, true],
      [true, true]
    ]
    for (const [ta, tb] of combos) {
      it(`2-D ${ta ? 'aT' : 'a'} x ${tb ? 'bT' : 'b'} and its gradients`, async () => {
        await expectSame(() => {
          const a = tf.tensor2d(values([37, 53], 12), ta ? [53, 37] : [37, 53])
          const b = tf.tensor2d(values([53, 29], 13), tb ? [29, 53] : [53, 29])
          const r = tf.tensor2d(values([37, 29], 14), [37, 29])
          const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x as tf.Tensor2D, y as tf.Tensor2D, ta, tb), r))
          return [tf.matMul(a, b, ta, tb), ...tf.grads(loss)([a, b])]
        })
      })
    }

    const batched: Array<{ a: Shape; b: Shape; ta: boolean; tb: boolean }> = [
      { a: [3, 40, 30], b: [3, 30, 20], ta: false, tb: false },
      { a: [3, 30, 40], b: [3, 20, 30], ta: true, tb: true },
      { a: [3, 40, 30], b: [1, 30, 20], ta: false, tb: false },
      { a: [3, 40, 30], b: [30, 20], ta: false, tb: false },
      { a: [1, 30, 40], b: [3, 30, 20], ta: true, tb: false },
      { a: [2, 3, 40, 30], b: [3, 20, 30], ta: false, tb: true },
      { a: [4, 5, 6], b: [4, 7, 6], ta: false, tb: true }, // tiny: stock path
      { a: [1, 5, 6], b: [4, 6, 7], ta: false, tb: false }, // tiny, a broadcast: looped
      // Small M, big transposed B: computed as (B·Aᵀ)ᵀ.
      { a: [8, 300], b: [200, 300], ta: false, tb: true },
      { a: [300, 8], b: [200, 300], ta: true, tb: true },
      { a: [1, 5, 300], b: [1, 200, 300], ta: false, tb: true }
    ]
    for (const c of batched) {
      it(`batched ${c.a.join('x')}${c.ta ? 'T' : ''} x ${c.b.join('x')}${c.tb ? 'T' : ''}`, async () => {
        await expectSame(() => tf.matMul(tf.tensor(values(c.a, 15), c.a), tf.tensor(values(c.b, 16), c.b), c.ta, c.tb))
      })
    }
  })

  describe('fused matMul (_FusedMatMul)', () => {
    const cases: Array<{ a: Shape; b: Shape; ta: boolean; tb: boolean; act: 'linear' | 'relu' | 'leakyrelu' | 'prelu' | 'sigmoid' }> = [
      { a: [17, 23], b: [19, 23], ta: false, tb: true, act: 'relu' }, // wrong on stock wasm (bias)
      { a: [23, 17], b: [23, 19], ta: true, tb: false, act: 'linear' },
      { a: [17, 23], b: [23, 19], ta: false, tb: false, act: 'leakyrelu' },
      { a: [3, 17, 23], b: [1, 23, 19], ta: false, tb: false, act: 'relu' },
      { a: [3, 23, 17], b: [3, 19, 23], ta: true, tb: true, act: 'sigmoid' },
      { a: [3, 17, 23], b: [3, 23, 40], ta: false, tb: false, act: 'prelu' },
      { a: [8, 300], b: [200, 300], ta: false, tb: true, act: 'relu' }, // computed as (B·Aᵀ)ᵀ
      { a: [300, 8], b: [200, 300], ta: true, tb: true, act: 'prelu' }
    ]
    for (const c of cases) {
      it(`${c.a.join('x')}${c.ta ? 'T' : ''} x ${c.b.join('x')}${c.tb ? 'T' : ''} + bias, ${c.act}`, async () => {
        const n = c.tb ? (c.b[c.b.length - 2] as number) : (c.b[c.b.length - 1] as number)
        await expectSame(() => {
          const a = tf.tensor(values(c.a, 17), c.a)
          const b = tf.tensor(values(c.b, 18), c.b)
          const bias = tf.tensor1d(values([n], 19))
          const preluActivationWeights = c.act === 'prelu' ? tf.tensor1d(values([n], 20)) : undefined
          return tf.fused.matMul({ a, b, transposeA: c.ta, transposeB: c.tb, bias, activation: c.act, preluActivationWeights, leakyreluAlpha: 0.1 })
        })
      })
    }

    it('dense-layer gradients through fused matMul', async () => {
      await expectSame(() => {
        const x = tf.tensor2d(values([16, 40], 21), [16, 40])
        const w = tf.tensor2d(values([40, 24], 22), [40, 24])
        const bias = tf.tensor1d(values([24], 23))
        const loss = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.square(tf.fused.matMul({ a: a as tf.Tensor2D, b: b as tf.Tensor2D, bias: c, activation: 'relu' })))
        return tf.grads(loss)([x, w, bias])
      })
    })
  })

  describe('depthwiseConv2d gradients', () => {
    const cases: Array<{ x: Shape; k: number; m: number; s: number; pad: Pad }> = [
      { x: [1, 7, 9, 3], k: 3, m: 1, s: 1, pad: 'same' },
      { x: [3, 7, 9, 2], k: 3, m: 2, s: 2, pad: 'same' },
      { x: [3, 15, 15, 4], k: 5, m: 1, s: 2, pad: 'valid' },
      { x: [1, 13, 11, 3], k: 1, m: 3, s: 2, pad: 'valid' },
      { x: [1, 15, 15, 2], k: 11, m: 1, s: 1, pad: 'same' },
      { x: [3, 9, 7, 3], k: 3, m: 2, s: 2, pad: EXPLICIT },
      { x: [1, 9, 7, 2], k: 5, m: 1, s: 1, pad: 2 }
    ]
    for (const c of cases) {
      it(`${label(c)} multiplier=${c.m}`, async () => {
        const wShape = [c.k, c.k, c.x[3] as number, c.m] as [number, number, number, number]
        await expectSame(() => {
          const x = tf.tensor4d(values(c.x, 24), c.x as [number, number, number, number])
          const w = tf.tensor4d(values(wShape, 25), wShape)
          const y0 = tf.depthwiseConv2d(x, w, c.s, c.pad)
          const r = tf.tensor(values(y0.shape, 26), y0.shape)
          const loss = (a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.depthwiseConv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), r))
          return tf.grads(loss)([x, w])
        })
      })
    }
  })

  describe('tile (Tile)', () => {
    const cases: Array<{ x: Shape; reps: number[]; dtype: 'float32' | 'int32' | 'bool' }> = [
      { x: [1, 1, 1, 5], reps: [3, 7, 9, 1], dtype: 'float32' },
      { x: [2, 3, 1, 4], reps: [2, 1, 5, 3], dtype: 'float32' },
      { x: [3, 5], reps: [4, 3], dtype: 'int32' },
      { x: [7], reps: [5], dtype: 'bool' },
      { x: [2, 1, 3, 1, 2], reps: [1, 4, 1, 3, 2], dtype: 'float32' },
      { x: [2, 3], reps: [0, 2], dtype: 'float32' },
      { x: [], reps: [], dtype: 'float32' }
    ]
    for (const c of cases) {
      it(`[${c.x.join(',')}] x [${c.reps.join(',')}] ${c.dtype}`, async () => {
        const { cpu, wasm } = await onBoth(() => {
          const v = values(c.x, 27, true)
          // (bool built from JS booleans: wasm 4.22's Cast to bool keeps the low byte, e.g. 0.5 -> false)
          const x =
            c.dtype === 'bool'
              ? tf.tensor(
                  Array.from(v, (e) => e > 0),
                  c.x,
                  'bool'
                )
              : tf.tensor(
                  v.map((e) => e * 4),
                  c.x,
                  c.dtype
                )
          return tf.tile(x, c.reps)
        })
        expect(Array.from(wasm[0] as Float32Array)).toEqual(Array.from(cpu[0] as Float32Array))
      })
    }
  })

  describe('sum and mean over leading axes (Sum, Mean)', () => {
    const cases: Array<{ x: Shape; axis: number | number[]; keepDims: boolean; dtype?: 'int32' }> = [
      { x: [4, 7, 9, 5], axis: [0, 1, 2], keepDims: false },
      { x: [4, 7, 9, 5], axis: [2, 0, 1], keepDims: true },
      { x: [4, 7, 9, 5], axis: [0], keepDims: false },
      { x: [6, 3], axis: -2, keepDims: true },
      { x: [5, 4], axis: [0, 1], keepDims: false },
      // Not a leading set: the stock kernels answer.
      { x: [4, 7, 9, 5], axis: [1, 2], keepDims: false },
      { x: [4, 7, 9, 5], axis: -1, keepDims: true },
      { x: [4, 7, 3], axis: [0, 1], keepDims: false, dtype: 'int32' },
      { x: [0, 3], axis: 0, keepDims: false }
    ]
    for (const c of cases) {
      it(`[${c.x.join(',')}] over ${JSON.stringify(c.axis)}${c.keepDims ? ' keepDims' : ''}${c.dtype ? ` ${c.dtype}` : ''}`, async () => {
        const make = (): tf.Tensor =>
          c.dtype
            ? tf.tensor(
                values(c.x, 31, true).map((e) => e * 4),
                c.x,
                'int32'
              )
            : tf.tensor(values(c.x, 31), c.x)
        const { cpu, wasm } = await onBoth(() => [tf.sum(make(), c.axis, c.keepDims), tf.mean(make(), c.axis, c.keepDims)])
        for (let i = 0; i < 2; i++) {
          expect(Array.from(wasm[i]!).map((v) => +v.toFixed(4))).toEqual(Array.from(cpu[i]!).map((v) => +v.toFixed(4)))
        }
        await tf.setBackend('wasm')
        expect(tf.tidy(() => tf.sum(make(), c.axis, c.keepDims).shape)).toEqual(tf.tidy(() => tf.mean(make(), c.axis, c.keepDims).shape))
      })
    }
    it('batchNorm statistics and their gradients, as training computes them', async () => {
      await expectSame(() => {
        const x = tf.tensor4d(values([6, 5, 5, 8], 33), [6, 5, 5, 8])
        const { mean, variance } = tf.moments(x, [0, 1, 2])
        const g = tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.sub(t, tf.mean(t, [0, 1, 2], true)))))(x)
        return [mean, variance, g]
      })
    })
  })

  describe('identity without a copy (Identity)', () => {
    it('shares the data, outlives its input, and is untouched when a variable it came from is assigned', async () => {
      await tf.setBackend('wasm')
      const before = wasmDataIds()
      const init = tf.tensor1d([1, 2, 3])
      const v = tf.variable(init)
      init.dispose()
      const held = wasmDataIds()
      const c = tf.clone(v)
      // No new heap data: the clone shares the variable's.
      expect(wasmDataIds()).toBe(held)
      const next = tf.tensor1d([7, 8, 9])
      v.assign(next)
      next.dispose()
      expect(Array.from(c.dataSync())).toEqual([1, 2, 3])
      expect(Array.from(v.dataSync())).toEqual([7, 8, 9])
      const x = tf.tensor2d([
        [1, 2],
        [3, 4]
      ])
      const y = tf.clone(x)
      x.dispose()
      expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4])
      y.dispose()
      c.dispose()
      v.dispose()
      expect(wasmDataIds()).toBe(before)
      expect(Array.from(tf.clone(tf.tensor1d(['a', 'b'], 'string')).dataSync())).toEqual(['a', 'b'])
    })
  })

  describe('gather gradient (UnsortedSegmentSum)', () => {
    it('embedding lookup gradient with repeated indices', async () => {
      await expectSame(() => {
        const table = tf.tensor2d(values([11, 6], 28), [11, 6])
        const idx = tf.tensor1d([3, 0, 3, 10, 7, 3, 0], 'int32')
        const r = tf.tensor2d(values([7, 6], 29), [7, 6])
        return tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, idx), r)))(table)
      })
    })

    it('gather along axis 1 of a 3-D tensor', async () => {
      await expectSame(() => {
        const x = tf.tensor3d(values([2, 9, 4], 30), [2, 9, 4])
        const idx = tf.tensor1d([8, 1, 1, 4], 'int32')
        return tf.grad((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, idx, 1))))(x)
      })
    })

    it('direct calls: float32 and int32, ids out of range dropped', async () => {
      const { cpu, wasm } = await onBoth(() => {
        const ids = tf.tensor1d([2, -1, 0, 2, 5, 1], 'int32')
        const f = tf.unsortedSegmentSum(tf.tensor2d(values([6, 3], 31, true), [6, 3]), ids, 4)
        const i = tf.unsortedSegmentSum(tf.tensor3d([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12], [6, 2, 1], 'int32'), ids, 3)
        return [f, i]
      })
      expect(Array.from(wasm[0] as Float32Array)).toEqual(Array.from(cpu[0] as Float32Array))
      expect(Array.from(wasm[1] as Float32Array)).toEqual(Array.from(cpu[1] as Float32Array))
    })
  })

  it('a conv+BN+ReLU+maxpool+dense SGD step gives the same gradients as cpu', async () => {
    await expectSame(() => {
      const x = tf.tensor4d(values([4, 12, 12, 3], 30), [4, 12, 12, 3])
      const labels = tf.oneHot(tf.tensor1d([0, 2, 1, 2], 'int32'), 3)
      const w1 = tf.tensor4d(values([3, 3, 3, 8], 31), [3, 3, 3, 8])
      const gamma = tf.ones([8])
      const beta = tf.zeros([8])
      const w2 = tf.tensor2d(values([6 * 6 * 8, 3], 32), [6 * 6 * 8, 3])
      const b2 = tf.zeros([3])
      const loss = (...p: tf.Tensor[]) => {
        const [cw, g, bt, dw, db] = p as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor2D, tf.Tensor1D]
        const c = tf.conv2d(x, cw, 1, 'same')
        const { mean, variance } = tf.moments(c, [0, 1, 2])
        const bn = tf.batchNorm(c, mean, variance, bt, g, 1e-3) as tf.Tensor4D
        const pooled = tf.maxPool(tf.relu(bn), 2, 2, 'valid')
        const logits = tf.add(tf.matMul(tf.reshape(pooled, [4, -1]), dw), db)
        return tf.losses.softmaxCrossEntropy(labels, logits)
      }
      return tf.grads(loss)([w1, gamma, beta, w2, b2])
    }, 2e-4)
  })
})

describe('wasm training kernels housekeeping', () => {
  it('leaks no tensors and no wasm heap data over repeated calls', async () => {
    await tf.setBackend('wasm')
    const x = tf.tensor4d(values([2, 9, 7, 3], 40), [2, 9, 7, 3])
    const w = tf.tensor4d(values([3, 3, 3, 4], 41), [3, 3, 3, 4])
    const dw = tf.tensor4d(values([3, 3, 3, 2], 42), [3, 3, 3, 2])
    const a = tf.tensor3d(values([3, 40, 30], 43), [3, 40, 30])
    const b = tf.tensor3d(values([3, 20, 30], 44), [3, 20, 30])
    const bias = tf.tensor1d(values([20], 45))
    const step = () => {
      tf.tidy(() => {
        tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.maxPool(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, EXPLICIT), 2, 1, 'same')))([x, w])
        tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.depthwiseConv2d(p as tf.Tensor4D, q as tf.Tensor4D, 2, 'same')))([x, dw])
        tf.matMul(a, b, false, true)
        tf.matMul(tf.reshape(a, [120, 30]), tf.reshape(b, [60, 30]), false, true)
        tf.matMul(tf.slice(tf.reshape(a, [120, 30]), [0, 0], [2, 30]), tf.reshape(b, [60, 30]), false, true)
        tf.fused.matMul({ a, b, transposeB: true, bias, activation: 'relu' })
        tf.tile(x, [1, 2, 1, 3])
        tf.grad((t: tf.Tensor) => tf.sum(tf.gather(t, [1, 1, 0])))(a)
        tf.moments(x, [0, 1, 2])
        tf.fused.matMul({ a, b: tf.slice(b, [0, 0, 0], [1, 20, 30]), transposeB: true, bias, activation: 'relu' })
      })
    }
    step()
    const tensors = tf.memory().numTensors
    const dataIds = wasmDataIds()
    for (let i = 0; i < 5; i++) step()
    expect(tf.memory().numTensors).toBe(tensors)
    expect(wasmDataIds()).toBe(dataIds)
    tf.dispose([x, w, dw, a, b, bias])
  })

  it('registering twice is harmless; unregistering restores the stock kernels', async () => {
    await tf.setBackend('wasm')
    const ours = WASM_TRAINING_KERNELS.map((k) => k.kernelFunc)
    expect(registerWasmTrainingKernels()).toEqual(WASM_TRAINING_KERNELS.map((k) => k.kernelName))
    registerWasmTrainingKernels()
    WASM_TRAINING_KERNELS.forEach((k, i) => expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(ours[i]))

    unregisterWasmTrainingKernels()
    expect(tf.getKernel('MaxPoolGrad', 'wasm')?.kernelFunc).not.toBe(ours[WASM_TRAINING_KERNELS.findIndex((k) => k.kernelName === 'MaxPoolGrad')])
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined()

    registerWasmTrainingKernels()
    WASM_TRAINING_KERNELS.forEach((k, i) => expect(tf.getKernel(k.kernelName, 'wasm')?.kernelFunc).toBe(ours[i]))
    await expectSame(() => {
      const x = tf.tensor4d(values([1, 7, 9, 3], 50), [1, 7, 9, 3])
      const w = tf.tensor4d(values([3, 3, 3, 2], 51), [3, 3, 3, 2])
      return tf.grads((p: tf.Tensor, q: tf.Tensor) => tf.sum(tf.relu(tf.conv2d(p as tf.Tensor4D, q as tf.Tensor4D, 1, 'same'))))([x, w])
    })
  })
})
