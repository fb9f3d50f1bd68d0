// The webgpu training backend (tfjs-backend-webgpu on Dawn's Node bindings) against the cpu and
// wasm backends, on whatever adapter this machine has: in CI, Mesa's software Vulkan driver
// (llvmpipe through lavapipe, installed by .ci/run), forced because auto-selection skips software
// adapters. A full training step of every method against cpu; a two-epoch loss curve against
// wasm; the project's MaxPoolGrad kernel; backend selection, synchronous reads and the
// buffer-limit error. Skipped, with the reason printed, where no adapter exists.
//
// The comparison (relative errors, why only the first step, random pixels) is
// test/helpers/step-check.ts, shared with the GPU check for machines without Node
// (scripts/gpu-check/).
//
// The cpu backend is the reference and the slow part (pure JS: ~3 s a step even for this
// width-1/16 network at 4 images), so networks and batches are as small as still exercise every
// kernel of a step.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { detectBackends, selectBackend } from '../../../src-engine/backends'
import { disposeNodeWebGpu, GpuBufferLimitError, initNodeWebGpu, softwareReason } from '../../../src-engine/webgpu/node-gpu'
import { Trainer } from '../../../src-engine/trainer'
import { generateSampleDataset } from '../../../src-shared/sample-dataset'
import { Rng } from '../../../src-shared/rng'
import { METHOD_NAMES } from '../../../src-shared/config/train'
import type { GpuAdapter } from '../../../src-shared/contract/gpu'
import { compareSteps, firstStep, stepCheckConfig, withNoisePixels } from '../../helpers/step-check'

const found = await initNodeWebGpu().then(
  (adapter): { adapter: GpuAdapter | null; why: string } => ({ adapter, why: '' }),
  (err: unknown): { adapter: GpuAdapter | null; why: string } => ({ adapter: null, why: (err as Error).message })
)
disposeNodeWebGpu()
if (!found.adapter) {
  console.warn(
    `webgpu tests skipped: ${found.why}. On Debian 12: apt-get install libvulkan1 && apt-get install -t bookworm-backports mesa-vulkan-drivers (.ci/run does this).`
  )
}

// 10 classes x 2 images of 32 px: the sample dataset for the loss curve, random pixels (same
// labels) for the gradient check.
const sample = generateSampleDataset({ perClass: 2, size: 32, seed: 3 })
const noise = withNoisePixels(sample)

describe('webgpu inside Electron', () => {
  it("reports that Dawn cannot run there (the app's GPU window is the way) instead of loading it", async () => {
    disposeNodeWebGpu()
    Object.defineProperty(process.versions, 'electron', { value: '45.5.0', configurable: true })
    try {
      await expect(selectBackend('webgpu')).rejects.toThrow(/Electron.*memory cage.*GPU window/)
      expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined()
    } finally {
      delete (process.versions as { electron?: string }).electron
    }
  })
})

describe.skipIf(!found.adapter)(`webgpu on ${found.adapter?.description || found.adapter?.device || 'no adapter'}`, () => {
  beforeAll(() => {
    console.info(`webgpu adapter: ${JSON.stringify(found.adapter)}`)
  })
  afterAll(async () => {
    await tf.setBackend('cpu')
    disposeNodeWebGpu()
  })

  it('auto-selection reports the adapter and skips a software one unless allowed', async () => {
    const statuses = await detectBackends()
    const s = statuses.find((b) => b.name === 'webgpu')!
    expect(statuses.map((b) => b.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'])
    expect(s.adapter?.description).toBe(found.adapter!.description)
    expect(s.detail).toMatch(/ran a conv2d gradient/)
    if (softwareReason(found.adapter!)) {
      expect(s.ok).toBe(false)
      expect(s.detail).toMatch(/software adapter/)
      expect(s.fix).toMatch(/QUARTERTURN_WEBGPU_ALLOW_SOFTWARE/)
      const auto = await selectBackend('auto')
      expect(auto.name).not.toBe('webgpu')
      expect(auto.statuses.find((b) => b.name === 'webgpu')?.detail).toMatch(/not tried/)
      process.env.QUARTERTURN_WEBGPU_ALLOW_SOFTWARE = '1'
      try {
        expect((await selectBackend('auto')).name).toBe('webgpu')
      } finally {
        delete process.env.QUARTERTURN_WEBGPU_ALLOW_SOFTWARE
      }
    } else {
      expect(s.ok).toBe(true)
    }
  })

  it('reads tensors back synchronously and refuses a tensor past the storage-binding limit with a clear error', async () => {
    expect((await selectBackend('webgpu')).name).toBe('webgpu')
    // Over 1000 elements, so tfjs computes it on the GPU instead of on the CPU side.
    const x = tf.tidy(() => tf.add(tf.range(0, 2000), 1))
    expect(x.dataSync()[1999]).toBe(2000)
    x.dispose()
    const limit = found.adapter!.limits.maxStorageBufferBindingSize
    // Only where the limit is small enough to allocate past it here (128 MiB on llvmpipe).
    if (limit <= 2 ** 30) {
      const before = tf.memory().numTensors
      const tooBig = (): unknown => tf.tidy(() => tf.add(tf.zeros([limit / 4 + 1024]), 1).dataSync())
      expect(tooBig).toThrow(GpuBufferLimitError)
      expect(tooBig).toThrow(/maxStorageBufferBindingSize/)
      expect(tf.memory().numTensors).toBe(before)
    }
  })

  it('MaxPoolGrad routes each window to its first maximum, as cpu does (ties, strides, padding)', async () => {
    // Values in halves: many exact ties. Over 1000 elements, so the GPU kernels run.
    const rng = new Rng(9)
    const x = Float32Array.from({ length: 2 * 13 * 11 * 5 }, () => Math.round(rng.uniform() * 4) / 2)
    const cases: [number, number, 'valid' | 'same'][] = [
      [3, 2, 'valid'],
      [3, 2, 'same'],
      [2, 2, 'valid'],
      [3, 1, 'same']
    ]
    for (const [k, s, pad] of cases) {
      const run = (): Float32Array =>
        tf.tidy(() => {
          const input = tf.tensor4d(x, [2, 13, 11, 5])
          const w = tf.tensor(Float32Array.from({ length: 4000 }, (_, i) => (i % 7) - 3))
          const f = (v: tf.Tensor): tf.Scalar => {
            const p = tf.maxPool(v as tf.Tensor4D, k, s, pad)
            return tf.sum(tf.mul(p, tf.reshape(tf.slice(w, 0, p.size), p.shape)))
          }
          return tf.grad(f)(input).dataSync() as Float32Array
        })
      await tf.setBackend('cpu')
      const ref = run()
      await selectBackend('webgpu')
      expect(Array.from(run()), `${k}x${k}/${s} ${pad}`).toEqual(Array.from(ref))
    }
  })

  it.each(METHOD_NAMES)(
    '%s: a full training step matches cpu within 1e-4 relative (gradients, metrics, weights after the step)',
    async (method) => {
      await tf.setBackend('cpu')
      const ref = firstStep(stepCheckConfig(method), noise)
      await selectBackend('webgpu')
      const got = firstStep(stepCheckConfig(method), noise)
      const { grads: g, weights: w, metrics: m } = compareSteps(ref, got)
      console.info(`${method}: worst gradient error ${g.err.toExponential(2)} (${g.name}), weights after the step ${w.err.toExponential(2)} (${w.name})`)
      expect(g.err, `worst gradient: ${g.name}`).toBeLessThan(1e-4)
      expect(w.err, `worst weight after the step: ${w.name}`).toBeLessThan(1e-4)
      expect(m.err, `worst metric: ${m.name}`).toBeLessThan(1e-4)
    },
    60_000
  )

  it('a two-epoch rotnet run on the sample dataset gives the wasm loss curve within 1e-3 relative per step', async () => {
    const curve = (): number[] => {
      const t = new Trainer(stepCheckConfig('rotnet', { epochs: 2, batchSize: 5 }), sample)
      const losses: number[] = []
      while (t.epoch < 2) losses.push(t.step().metrics.loss!)
      t.dispose()
      return losses
    }
    await selectBackend('wasm')
    const wasm = curve()
    await selectBackend('webgpu')
    const before = tf.memory().numTensors
    const gpu = curve()
    expect(tf.memory().numTensors).toBe(before)
    expect(gpu.length).toBe(8)
    const worst = Math.max(...gpu.map((l, i) => Math.abs(l - wasm[i]!) / Math.abs(wasm[i]!)))
    console.info(`two-epoch rotnet: ${wasm.length} steps, worst relative loss difference webgpu vs wasm ${worst.toExponential(2)}`)
    expect(worst).toBeLessThan(1e-3)
  }, 60_000)
})
