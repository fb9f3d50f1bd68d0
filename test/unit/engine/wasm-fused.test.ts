// The fused training kernels of the wasm backend against the composites they replace:
// BatchNorm(+ReLU) in training mode (src-engine/wasm-kernels/batch-norm-relu.ts) against
// tf.moments + tf.batchNorm (+ tf.relu) on the cpu backend — values, batch statistics, gradients
// for x, gamma and beta, running statistics through the BatchNorm layer — over NHWC with odd sizes,
// [N, D], batch 1 and several eps; the fused SGD step (src-engine/wasm-kernels/sgd.ts) bit for bit
// against the op sequence on cpu; and a whole training step at width 0.25 with and without them.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import { beforeAll, describe, expect, it } from 'vitest'
import { batchNormTrain, registerWasmTrainingKernels, setFusedBatchNormDisabled, setFusedSgdDisabled } from '../../../src-engine/wasm-kernels'
import { setNativeBatchNormDisabled, setNativeSgdDisabled } from '../../../src-engine/wasm-kernels/native-gemm'
import { SGD_STEP } from '../../../src-engine/wasm-kernels/sgd'
import { BatchNorm, newCtx, applyBnUpdates } from '../../../src-engine/models/layers'
import { ParamStore } from '../../../src-engine/models/params'
import { Sgd } from '../../../src-engine/optim/optimizers'
import { Rng } from '../../../src-shared/rng'
import { generateSampleDataset } from '../../../src-shared/sample-dataset'
import { firstStep, stepCheckConfig, withNoisePixels, worstError, worstMetricError } from '../../helpers/step-check'

beforeAll(async () => {
  await tf.setBackend('wasm')
  registerWasmTrainingKernels()
})

function randoms(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const rng = new Rng(seed)
  return Float32Array.from({ length: n }, () => offset + scale * (rng.uniform() * 2 - 1))
}

/** max |a - b| / max |b|. */
function rel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length)
  let d = 0
  let m = 0
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!))
    m = Math.max(m, Math.abs(b[i]!))
  }
  return m === 0 ? d : d / m
}

type BnOut = { y: Float32Array; mean: Float32Array; variance: Float32Array; dx: Float32Array; dgamma: Float32Array; dbeta: Float32Array }

/** The forward values, batch statistics and gradients of sum(w · bn(x)) on the current backend. */
function bnCase(shape: number[], eps: number, relu: boolean, fused: boolean, seed: number): BnOut {
  const n = shape.reduce((a, b) => a * b, 1)
  const C = shape.at(-1)!
  const x = tf.tensor(randoms(n, seed, 2, 0.7), shape)
  const w = tf.tensor(randoms(n, seed + 1), shape)
  const gamma = tf.tensor(randoms(C, seed + 2, 0.5, 1), [C])
  const beta = tf.tensor(randoms(C, seed + 3, 0.3), [C])
  const axes = shape.length === 4 ? [0, 1, 2] : [0]
  let stats: { mean: Float32Array; variance: Float32Array } | null = null
  const f = (xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor): tf.Tensor => {
    let y: tf.Tensor
    if (fused) {
      setFusedBatchNormDisabled(false)
      // Through the public entry point, as layers.ts calls it.
      const r = batchNormTrainOrThrow(xx, g, b, eps, relu)
      stats = { mean: r.mean.dataSync() as Float32Array, variance: r.variance.dataSync() as Float32Array }
      y = r.y
    } else {
      const { mean, variance } = tf.moments(xx, axes)
      stats = { mean: mean.dataSync() as Float32Array, variance: variance.dataSync() as Float32Array }
      y = tf.batchNorm(xx, mean, variance, b, g, eps)
      if (relu) y = tf.relu(y)
    }
    return y
  }
  const y = tf.tidy(() => f(x, gamma, beta))
  const grads = tf.grads((xx: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(xx, g, b), w)))([x, gamma, beta])
  const out: BnOut = {
    y: y.dataSync() as Float32Array,
    mean: stats!.mean,
    variance: stats!.variance,
    dx: grads[0]!.dataSync() as Float32Array,
    dgamma: grads[1]!.dataSync() as Float32Array,
    dbeta: grads[2]!.dataSync() as Float32Array
  }
  tf.dispose([x, w, gamma, beta, y, ...grads])
  return out
}

function batchNormTrainOrThrow(x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number, relu: boolean): { y: tf.Tensor; mean: tf.Tensor; variance: tf.Tensor } {
  const r = batchNormTrain(x, g, b, eps, relu)
  if (!r) throw new Error('the fused BatchNorm kernel is not available on this backend')
  return r
}

describe('fused training-mode BatchNorm(+ReLU) on wasm vs the composite on cpu', () => {
  const cases: { shape: number[]; eps: number; relu: boolean }[] = [
    { shape: [3, 5, 7, 9], eps: 1e-5, relu: true },
    { shape: [3, 5, 7, 9], eps: 1e-5, relu: false },
    { shape: [2, 1, 1, 3], eps: 1e-5, relu: true },
    { shape: [1, 4, 6, 5], eps: 1e-3, relu: true },
    { shape: [4, 8, 8, 16], eps: 1e-5, relu: true },
    { shape: [17, 33], eps: 1e-5, relu: true },
    { shape: [17, 33], eps: 0.1, relu: false },
    { shape: [5, 1], eps: 1e-5, relu: true },
    { shape: [1, 6], eps: 1e-5, relu: true },
    { shape: [1, 6], eps: 1e-5, relu: false }
  ]
  for (const c of cases)
    for (const route of ['native SIMD', 'JS'] as const) {
      it(`[${c.shape}] eps ${c.eps}${c.relu ? ' + relu' : ''}, ${route} passes: values, statistics, gradients`, async () => {
        await tf.setBackend('cpu')
        const ref = bnCase(c.shape, c.eps, c.relu, false, 11)
        await tf.setBackend('wasm')
        const before = tf.memory().numTensors
        setNativeBatchNormDisabled(route === 'JS')
        const got = bnCase(c.shape, c.eps, c.relu, true, 11)
        setNativeBatchNormDisabled(false)
        expect(tf.memory().numTensors).toBe(before)
        for (const k of ['y', 'mean', 'variance', 'dgamma', 'dbeta'] as const) expect(rel(got[k], ref[k]), k).toBeLessThan(1e-5)
        // dx is a difference of terms of size γ/sqrt(var + eps)·|dy| that cancel (exactly, in a batch of
        // one row), so its rounding is measured against that size rather than against the result.
        const C = c.shape.at(-1)!
        const gamma = randoms(C, 11 + 2, 0.5, 1)
        const dyMax = Math.max(...Array.from(randoms(ref.dx.length, 11 + 1), Math.abs))
        let scale = 0
        for (let k = 0; k < C; k++) scale = Math.max(scale, (Math.abs(gamma[k]!) / Math.sqrt(ref.variance[k]! + c.eps)) * dyMax)
        let diff = 0
        for (let i = 0; i < ref.dx.length; i++) diff = Math.max(diff, Math.abs(got.dx[i]! - ref.dx[i]!))
        expect(diff / scale, 'dx').toBeLessThan(1e-5)
      })
    }

  it('batch 1 of [N, D]: y is beta (after ReLU), no gradient reaches x', async () => {
    await tf.setBackend('wasm')
    const got = bnCase([1, 6], 1e-5, false, true, 3)
    const beta = randoms(6, 6, 0.3)
    expect(rel(got.y, beta)).toBeLessThan(1e-6)
    expect(Array.from(got.variance)).toEqual([0, 0, 0, 0, 0, 0])
    expect(Math.max(...Array.from(got.dx, Math.abs))).toBe(0)
  })

  it('updates the running statistics as the composite does (momentum 0.1, unbiased variance)', async () => {
    const run = async (backend: string, fused: boolean) => {
      await tf.setBackend(backend)
      const ps = new ParamStore(new Rng(1))
      const bn = new BatchNorm(ps, 'bn', 7)
      const ctx = newCtx(true)
      const x = tf.tensor(randoms(3 * 4 * 5 * 7, 9, 3, 1), [3, 4, 5, 7])
      for (let s = 0; s < 3; s++) {
        const y = fused ? bn.applyRelu(x, ctx) : tf.relu(bn.apply(x, ctx))
        y.dispose()
        applyBnUpdates(ctx)
      }
      const r = { mean: bn.mean.dataSync().slice(), variance: bn.variance.dataSync().slice() }
      x.dispose()
      ps.dispose()
      return r
    }
    const ref = await run('cpu', false)
    const got = await run('wasm', true)
    expect(rel(got.mean, ref.mean)).toBeLessThan(1e-6)
    expect(rel(got.variance, ref.variance)).toBeLessThan(1e-6)
  })

  it('is not used on other backends (the composite stays)', async () => {
    await tf.setBackend('cpu')
    const x = tf.ones([2, 3])
    expect(batchNormTrain(x, tf.ones([3]), tf.zeros([3]), 1e-5, true)).toBeNull()
    x.dispose()
    await tf.setBackend('wasm')
  })
})

describe('fused SGD step on wasm vs the op sequence on cpu', () => {
  for (const cfg of [
    { momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    { momentum: 0.9, nesterov: false, weightDecay: 5e-4 },
    { momentum: 0.5, nesterov: true, weightDecay: 0 }
  ]) {
    it(`${JSON.stringify(cfg)}: parameters and buffers bit for bit over 3 steps`, async () => {
      const run = async (backend: string) => {
        await tf.setBackend(backend)
        const init = { a: tf.tensor(randoms(37, 1), [37]), b: tf.tensor(randoms(5 * 3 * 2, 2, 4), [5, 3, 2]) }
        const vars = new Map([
          ['a', tf.variable(init.a)],
          ['b', tf.variable(init.b)]
        ])
        tf.dispose([init.a, init.b])
        const opt = new Sgd(cfg)
        for (let s = 0; s < 3; s++) {
          const grads = { a: tf.tensor(randoms(37, 10 + s), [37]), b: tf.tensor(randoms(30, 20 + s, 3), [5, 3, 2]) }
          opt.apply(vars, grads, 0.03 * (s + 1))
          tf.dispose(Object.values(grads))
        }
        const state = await opt.getState()
        const r = { a: Array.from(vars.get('a')!.dataSync()), b: Array.from(vars.get('b')!.dataSync()), state }
        opt.dispose()
        for (const v of vars.values()) v.dispose()
        return r
      }
      const ref = await run('cpu')
      const before = tf.memory().numTensors
      const got = await run('wasm')
      expect(tf.memory().numTensors).toBe(before)
      expect(got.a).toEqual(ref.a)
      expect(got.b).toEqual(ref.b)
      expect(Array.from(got.state.slots.a![0]!.data)).toEqual(Array.from(ref.state.slots.a![0]!.data))
      expect(Array.from(got.state.slots.b![0]!.data)).toEqual(Array.from(ref.state.slots.b![0]!.data))
    })
  }

  it('runs as one kernel per parameter on wasm', async () => {
    await tf.setBackend('wasm')
    const p = tf.variable(tf.zeros([9]))
    const g = tf.ones([9])
    const opt = new Sgd({ momentum: 0.9, nesterov: true, weightDecay: 5e-4 })
    const prof = await tf.profile(() => opt.apply(new Map([['p', p]]), { p: g }, 0.1))
    expect(prof.kernels.map((k) => k.name)).toEqual([SGD_STEP])
    opt.dispose()
    tf.dispose([p, g])
  })

  it("the kernel's JS loop (no native module) gives the native pass's bits", async () => {
    await tf.setBackend('wasm')
    const n = 4 * 1000 + 3
    const p = tf.tensor(randoms(n, 1, 2))
    const g = tf.tensor(randoms(n, 2))
    const buf = tf.tensor(randoms(n, 3, 0.5))
    const attrs = { lr: 0.07, momentum: 0.9, nesterov: true, weightDecay: 5e-4 }
    const run = (): number[][] => {
      const sets: Record<string, tf.Tensor>[] = [
        { p, g, buf },
        { p, g }
      ]
      return sets.flatMap((inputs) => {
        const out = tf.engine().runKernel(SGD_STEP, inputs, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[]
        const r = out.map((t) => Array.from(t.dataSync()))
        tf.dispose(out)
        return r
      })
    }
    const native = run()
    setNativeSgdDisabled(true)
    const js = run()
    setNativeSgdDisabled(false)
    expect(js).toEqual(native)
    tf.dispose([p, g, buf])
  })
})

describe('a whole training step at width 0.25 with the fused kernels', () => {
  it('matches the step with the composites (gradients, weights and running statistics after, metrics)', async () => {
    await tf.setBackend('wasm')
    const data = withNoisePixels(generateSampleDataset({ perClass: 1, size: 64, seed: 2 }))
    const config = stepCheckConfig('rfd-contrastive', { arch: 'alexnet64', width: 0.25, batchSize: 4 })
    setFusedBatchNormDisabled(true)
    setFusedSgdDisabled(true)
    const ref = firstStep(config, data)
    setFusedBatchNormDisabled(false)
    setFusedSgdDisabled(false)
    const got = firstStep(config, data)
    const g = worstError(ref.grads, got.grads)
    const w = worstError(ref.after, got.after)
    const m = worstMetricError(ref.metrics, got.metrics)
    expect(g.err, `worst gradient: ${g.name}`).toBeLessThan(1e-4)
    expect(w.err, `worst weight after the step: ${w.name}`).toBeLessThan(1e-4)
    expect(m.err, `worst metric: ${m.name}`).toBeLessThan(1e-4)
  }, 60_000)
})
