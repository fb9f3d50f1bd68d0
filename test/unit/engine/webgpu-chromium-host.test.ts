// The engine's webgpu setup as the app's trainer window runs it: inside Electron, with navigator.gpu
// already provided by the page (Chromium's). It must take that navigator.gpu as it is, never load
// Dawn (the webgpu package), still register the project's webgpu kernels, describe the adapter
// with host 'chromium', and leave the page's navigator.gpu alone on teardown. Under plain Node
// there is no Chromium, so the page's navigator.gpu is played by a fake (everywhere) and by Dawn's
// own object, set up by the test as a page would have it (where an adapter exists; skipped with
// the reason where none does). Dawn's object cannot read back synchronously without the engine's
// Dawn-only sync-read (Chromium reads through its canvas), so that test reads with data().
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createRequire } from 'node:module'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '../../../src-engine/tf-gradients'
import { disposeNodeWebGpu, initNodeWebGpu, nodeGpuAdapter } from '../../../src-engine/webgpu/node-gpu'
import { WEBGPU_TRAINING_KERNELS } from '../../../src-engine/webgpu/kernels'

const dawn = vi.hoisted(() => ({ imports: 0 }))
// The engine's import('webgpu') lands here: it must never happen when navigator.gpu exists.
vi.mock('webgpu', () => {
  dawn.imports++
  throw new Error('Dawn was loaded although navigator.gpu exists')
})

type Nav = { navigator?: Record<string, unknown> }
const g = globalThis as unknown as Nav
const hadNavigator = g.navigator !== undefined
const versions = Object.getOwnPropertyDescriptor(process.versions, 'electron')

/** As in Electron's renderer: process.versions.electron and a navigator.gpu from the page. */
function asTrainerWindow(gpu: unknown): void {
  Object.defineProperty(process.versions, 'electron', { value: '45.5.0', configurable: true, enumerable: true })
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true })
  Object.defineProperty(g.navigator!, 'gpu', { value: gpu, configurable: true, writable: true })
}

afterEach(() => {
  disposeNodeWebGpu()
  if (versions) Object.defineProperty(process.versions, 'electron', versions)
  else delete (process.versions as Record<string, string | undefined>).electron
  if (g.navigator) delete g.navigator.gpu
  if (!hadNavigator) delete (globalThis as { navigator?: unknown }).navigator
})

beforeEach(() => {
  dawn.imports = 0
})

function fakeGpu(): { gpu: unknown; destroyed: () => boolean; asked: Record<string, number>[] } {
  let destroyed = false
  const asked: Record<string, number>[] = []
  const limits = {
    maxStorageBufferBindingSize: 2 ** 30,
    maxBufferSize: 2 ** 31,
    maxComputeWorkgroupStorageSize: 32768,
    maxComputeWorkgroupsPerDimension: 65535,
    maxComputeWorkgroupSizeX: 1024,
    maxComputeInvocationsPerWorkgroup: 1024
  }
  const adapter = {
    info: { vendor: 'nvidia', architecture: 'ada', device: 'RTX 4090', description: 'NVIDIA GeForce RTX 4090', isFallbackAdapter: false },
    limits,
    features: { has: () => false },
    requestDevice: async (d: { requiredLimits: Record<string, number> }) => {
      asked.push(d.requiredLimits)
      return {
        limits: { ...limits, ...d.requiredLimits },
        lost: new Promise(() => {}),
        onuncapturederror: null,
        destroy: () => void (destroyed = true)
      }
    }
  }
  return { gpu: { requestAdapter: async () => adapter }, destroyed: () => destroyed, asked }
}

describe("webgpu on the page's own navigator.gpu (the trainer window)", () => {
  it("uses it without loading Dawn, asks for the adapter's maximum limits, registers the project's kernels and describes the adapter with host 'chromium'", async () => {
    const fake = fakeGpu()
    asTrainerWindow(fake.gpu)
    const adapter = await initNodeWebGpu()
    expect(dawn.imports).toBe(0)
    expect(adapter).toMatchObject({
      vendor: 'nvidia',
      description: 'NVIDIA GeForce RTX 4090',
      software: null,
      host: 'chromium',
      limits: { maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 31 }
    })
    expect(fake.asked[0]).toMatchObject({ maxStorageBufferBindingSize: 2 ** 30, maxBufferSize: 2 ** 31 })
    expect(nodeGpuAdapter()).toEqual(adapter)
    expect(tf.findBackendFactory('webgpu')).toBeTruthy()
    for (const k of WEBGPU_TRAINING_KERNELS) expect(tf.getKernel(k.kernelName, 'webgpu'), k.kernelName).toBe(k)

    // Teardown destroys the device and removes the backend, but the page's navigator.gpu stays.
    disposeNodeWebGpu()
    expect(fake.destroyed()).toBe(true)
    expect(tf.findBackendFactory('webgpu')).toBeFalsy()
    expect(g.navigator!.gpu).toBe(fake.gpu)
  })

  it('a software adapter there is reported as such, as under Dawn', async () => {
    const fake = fakeGpu()
    const gpu = fake.gpu as { requestAdapter: () => Promise<{ info: Record<string, unknown> }> }
    const real = gpu.requestAdapter
    gpu.requestAdapter = async () => {
      const a = await real()
      return { ...a, info: { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader Device (Subzero)', isFallbackAdapter: true } }
    }
    asTrainerWindow(gpu)
    const adapter = await initNodeWebGpu()
    expect(adapter.host).toBe('chromium')
    expect(adapter.software).toMatch(/fallback/)
  })

  it('inside Electron without a navigator.gpu (a utility process), it refuses with the way to the GPU', async () => {
    asTrainerWindow(undefined)
    delete g.navigator!.gpu
    await expect(initNodeWebGpu()).rejects.toThrow(/utility processes.*memory cage.*GPU window/)
    expect(dawn.imports).toBe(0)
  })

  it('a page without an adapter gives the reason, and keeps its navigator.gpu', async () => {
    const gpu = { requestAdapter: async () => null }
    asTrainerWindow(gpu)
    await expect(initNodeWebGpu()).rejects.toThrow(/Chromium's WebGPU found no usable GPU/)
    expect(g.navigator!.gpu).toBe(gpu)
  })
})

// Dawn's own navigator.gpu, loaded by the test (Node's require, not the engine's mocked import).
const realDawn = createRequire(import.meta.url)('webgpu') as { create(o: string[]): { requestAdapter(): Promise<unknown> }; globals: object }
const probeGpu = realDawn.create([])
const hasAdapter = (await probeGpu.requestAdapter().catch(() => null)) !== null
if (!hasAdapter)
  console.warn('webgpu-chromium-host: the Dawn-object test is skipped: no WebGPU adapter on this machine (see webgpu.test.ts for how to get one).')

describe.skipIf(!hasAdapter)("webgpu on Dawn's object as the page's navigator.gpu", () => {
  it('trains through it without the engine loading Dawn: a conv2d gradient matches the cpu backend', async () => {
    // What a page has: the GPU* constants as globals and navigator.gpu.
    Object.assign(globalThis, realDawn.globals)
    asTrainerWindow(probeGpu)
    const adapter = await initNodeWebGpu()
    expect(dawn.imports).toBe(0)
    expect(adapter.host).toBe('chromium')
    expect(adapter.description).not.toBe('')

    const grad = async (): Promise<Float32Array> => {
      const x = tf.tensor4d(
        Array.from({ length: 2 * 6 * 6 * 3 }, (_, i) => Math.sin(i)),
        [2, 6, 6, 3]
      )
      const w = tf.tensor4d(
        Array.from({ length: 3 * 3 * 3 * 4 }, (_, i) => Math.cos(i)),
        [3, 3, 3, 4]
      )
      const dw = tf.grad((k: tf.Tensor) => tf.sum(tf.square(tf.conv2d(x, k as tf.Tensor4D, 1, 'same'))))(w)
      const out = (await dw.data()) as Float32Array
      tf.dispose([x, w, dw])
      return out
    }
    await tf.setBackend('webgpu')
    const onGpu = await grad()
    await tf.setBackend('cpu')
    const onCpu = await grad()
    const scale = Math.max(...onCpu.map(Math.abs))
    const worst = Math.max(...onGpu.map((v, i) => Math.abs(v - onCpu[i]!)))
    expect(worst / scale).toBeLessThan(1e-4)
  }, 120_000)
})
