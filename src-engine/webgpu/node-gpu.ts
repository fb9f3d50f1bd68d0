// Owns the engine's WebGPU device, from either of its two hosts: under plain Node (CLI, web host,
// cluster jobs) Dawn's Node bindings (the `webgpu` package) become navigator.gpu; in the desktop
// app's trainer window (src-main/gpu-window.ts) Chromium's own navigator.gpu is already there and
// is used as it is (no Dawn, host 'chromium'). Either way: one adapter and one device per process
// (created with the adapter's largest buffer limits), the project's webgpu kernels and the tfjs
// 'webgpu' backend registered on that device, the adapter's description (hardware or software,
// its limits, its host), a clear error when a tensor does not fit the device's buffers, and the
// teardown that lets the process exit.
//
// Dawn inside Electron's own processes (utilityProcess) is refused: Electron's V8 memory cage
// forbids external ArrayBuffers, and dawn.node hands them out from GPUBuffer.getMappedRange
// (dawn-gpu/node-webgpu issue 5). The desktop app trains webgpu runs in its trainer window instead.
import * as tf from '@tensorflow/tfjs-core'
import type { GpuAdapter } from '../../src-shared/contract/gpu'
import { captureDawnPump, forgetDawnPump, hasDawnPump, installSyncRead } from './sync-read'

/** WebGPU could not be set up; `fix` says what the user can do (null when nothing can). */
export class WebGpuUnavailable extends Error {
  constructor(
    message: string,
    readonly fix: string | null,
    readonly adapter?: GpuAdapter
  ) {
    super(message)
    this.name = 'WebGpuUnavailable'
  }
}

/** A tensor larger than the device can hold in one buffer or bind as one storage buffer. */
export class GpuBufferLimitError extends Error {
  readonly code = 'GPU_BUFFER_LIMIT'
  constructor(message: string) {
    super(message)
    this.name = 'GpuBufferLimitError'
  }
}

export const ALLOW_SOFTWARE_ENV = 'QUARTERTURN_WEBGPU_ALLOW_SOFTWARE'

/** QUARTERTURN_WEBGPU_ALLOW_SOFTWARE=1 lets 'auto' pick a software adapter (the tests use it). */
export function softwareAllowedByEnv(env: NodeJS.ProcessEnv = process.env): boolean {
  return /^(1|true|yes)$/i.test(env[ALLOW_SOFTWARE_ENV] ?? '')
}

const SOFTWARE_NAMES = /llvmpipe|lavapipe|softpipe|swiftshader|microsoft basic render|\bwarp\b/i

/**
 * Why an adapter is a software rasteriser, or null for a hardware GPU. Dawn marks CPU
 * implementations as fallback adapters, but a Vulkan ICD such as lavapipe may also be reported
 * by name or architecture only, so all three are checked.
 */
export function softwareReason(info: {
  vendor?: string
  architecture?: string
  device?: string
  description?: string
  isFallbackAdapter?: boolean
}): string | null {
  if (info.isFallbackAdapter) return 'a fallback (CPU) adapter'
  if ((info.architecture ?? '').toLowerCase() === 'software') return "architecture 'software'"
  const name = [info.device, info.description, info.vendor].join(' ').match(SOFTWARE_NAMES)?.[0]
  return name ? `a software renderer (${name})` : null
}

const MIB = 2 ** 20
const mib = (n: number): string => `${(n / MIB).toFixed(n < 10 * MIB ? 1 : 0)} MiB`

/** The parts of Dawn's objects this module uses (the `webgpu` package's full types are global and large). */
interface GpuLike {
  requestAdapter(o?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<AdapterLike | null>
}
interface AdapterLike {
  readonly info: { vendor: string; architecture: string; device: string; description: string; isFallbackAdapter?: boolean }
  readonly isFallbackAdapter?: boolean
  readonly limits: Record<string, number>
  readonly features: { has(f: string): boolean }
  requestDevice(d: { requiredFeatures?: string[]; requiredLimits?: Record<string, number> }): Promise<DeviceLike>
}
interface DeviceLike {
  readonly limits: Record<string, number>
  readonly lost: Promise<{ reason: string; message: string }>
  onuncapturederror: ((ev: { error: { message: string } }) => void) | null
  destroy(): void
}

interface State {
  device: DeviceLike
  adapter: GpuAdapter
  /** navigator was created here (Node 20 has none) and is removed again on teardown. */
  ownNavigator: boolean
  /** navigator.gpu was set here from Dawn (false for Chromium's own, which is left alone). */
  ownGpu: boolean
  disposing: boolean
}

let state: State | null = null
let starting: Promise<GpuAdapter> | null = null

/** The adapter of the set-up device, or null before setup / after teardown. */
export function nodeGpuAdapter(): GpuAdapter | null {
  return state?.adapter ?? null
}

/**
 * Why the set-up adapter is used only when the backend is named: it is a software adapter and
 * QUARTERTURN_WEBGPU_ALLOW_SOFTWARE is not set. Null for a hardware GPU.
 */
export function webGpuSkipReason(): { reason: string; fix: string } | null {
  const a = state?.adapter
  if (!a?.software || softwareAllowedByEnv()) return null
  return {
    reason: `it is a software adapter (${a.software}), not used for training: it is about 10x slower than the wasm backend`,
    fix: `For GPU training, install a GPU driver with Vulkan, D3D12 or Metal support. To train on this software adapter anyway (correctness tests), name the backend (backend: 'webgpu' in the run config) or set ${ALLOW_SOFTWARE_ENV}=1.`
  }
}

/**
 * Takes the page's navigator.gpu (Chromium's, in the app's trainer window) or sets one up from
 * Dawn, creates the device and registers the tfjs 'webgpu' backend on it (not selected:
 * tf.setBackend('webgpu') does that). Idempotent. Throws WebGpuUnavailable with the reason and the
 * fix when there is no usable adapter.
 */
export function initNodeWebGpu(): Promise<GpuAdapter> {
  if (state) return Promise.resolve(state.adapter)
  starting ??= start().finally(() => {
    starting = null
  })
  return starting
}

/**
 * navigator.gpu as the page provides it: Chromium's own in the app's trainer window. Null under
 * plain Node (and in a utilityProcess), where there is none until Dawn's is set up here.
 */
function existingGpu(): GpuLike | null {
  const nav = (globalThis as unknown as { navigator?: { gpu?: unknown } }).navigator
  const gpu = nav?.gpu
  return gpu && typeof (gpu as GpuLike).requestAdapter === 'function' ? (gpu as GpuLike) : null
}

async function start(): Promise<GpuAdapter> {
  // Loading a GPU driver runs native code in the worker: a broken driver that crashes it would
  // take every run down with it, so it can be kept out of auto-selection entirely.
  if (process.env.QUARTERTURN_WEBGPU === '0') {
    throw new WebGpuUnavailable('turned off (QUARTERTURN_WEBGPU=0): no GPU adapter was looked for', 'Unset QUARTERTURN_WEBGPU to look for a GPU again.')
  }
  const native = existingGpu()
  if (native) return setUp(native, 'chromium', { ownNavigator: false, ownGpu: false })
  if (process.versions.electron) {
    throw new WebGpuUnavailable(
      "not available in Electron's utility processes: Electron's V8 memory cage forbids the external ArrayBuffers that Dawn's Node bindings (the webgpu package) map GPU buffers into. The app trains webgpu runs in its GPU window (a hidden trainer window) instead, on Chromium's WebGPU",
      "Name the backend (backend: 'webgpu') so the app trains the run in its GPU window, or train on the GPU from `quarterturn run` or `quarterturn serve` (plain Node, through Dawn)."
    )
  }
  let mod: { create(options: string[]): unknown; globals: object }
  try {
    mod = (await import('webgpu')) as unknown as typeof mod
  } catch (err) {
    throw new WebGpuUnavailable(
      `the webgpu package (Dawn's Node bindings) does not load: ${firstLine(err)}`,
      'Reinstall the project dependencies: npm ci (webgpu ships prebuilt dawn.node for linux-x64/arm64, darwin and win32).'
    )
  }
  // The tfjs backend and Dawn read these as globals, as in a browser.
  Object.assign(globalThis, mod.globals)
  const gpu = mod.create([]) as GpuLike
  const g = globalThis as unknown as { navigator?: Record<string, unknown> }
  const ownNavigator = g.navigator === undefined
  if (ownNavigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true })
  Object.defineProperty(g.navigator!, 'gpu', { value: gpu, configurable: true, writable: true })
  return setUp(gpu, 'node-dawn', { ownNavigator, ownGpu: true })
}

/** Adapter, device and backend on `gpu`; `own` says what of navigator teardown removes again. */
async function setUp(gpu: GpuLike, host: GpuAdapter['host'], own: { ownNavigator: boolean; ownGpu: boolean }): Promise<GpuAdapter> {
  const dawn = host === 'node-dawn'
  const clear = (): void => clearNavigator(own)
  // Dawn schedules its event processing inside these calls; captured for synchronous reads
  // (sync-read.ts). Chromium processes its own events and reads through its canvas path.
  const pumped = <T>(work: () => Promise<T>): Promise<T> => (dawn ? captureDawnPump(work) : work())
  let adapter: AdapterLike | null
  try {
    adapter = await pumped(() => gpu.requestAdapter({ powerPreference: 'high-performance' }))
  } catch (err) {
    clear()
    throw new WebGpuUnavailable(`requesting a WebGPU adapter failed: ${firstLine(err)}`, gpuDriverFix())
  }
  if (!adapter) {
    clear()
    throw new WebGpuUnavailable(
      dawn
        ? 'no WebGPU adapter: Dawn found no Vulkan, D3D12 or Metal device'
        : "no WebGPU adapter: Chromium's WebGPU found no usable GPU (or blocks this GPU or driver)",
      gpuDriverFix()
    )
  }
  const a = adapter.limits
  // tfjs's own factory asks for the same maxima; it cannot be handed a device, so this module
  // creates it and registers the backend itself, which also gives it the adapter to report.
  const requiredLimits: Record<string, number> = {}
  for (const k of [
    'maxStorageBufferBindingSize',
    'maxBufferSize',
    'maxComputeWorkgroupStorageSize',
    'maxComputeWorkgroupsPerDimension',
    'maxComputeWorkgroupSizeX',
    'maxComputeInvocationsPerWorkgroup'
  ]) {
    if (typeof a[k] === 'number') requiredLimits[k] = a[k]
  }
  const requiredFeatures = adapter.features.has('timestamp-query') ? ['timestamp-query'] : []
  let device: DeviceLike
  try {
    device = await pumped(() => adapter.requestDevice({ requiredFeatures, requiredLimits }))
  } catch (err) {
    clear()
    throw new WebGpuUnavailable(`the adapter refused a device with its own maximum limits: ${firstLine(err)}`, gpuDriverFix())
  }
  const info = adapter.info
  const l = device.limits
  const described: GpuAdapter = {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(info.isFallbackAdapter ?? adapter.isFallbackAdapter),
    software: null,
    limits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize ?? 0,
      maxBufferSize: l.maxBufferSize ?? 0,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize ?? 0,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup ?? 0
    },
    host
  }
  described.software = softwareReason(described)
  const st: State = { device, adapter: described, ...own, disposing: false }
  device.lost.then(
    (lost) => {
      if (!st.disposing) console.error(`WebGPU device lost (${lost.reason}): ${lost.message}`)
    },
    () => {}
  )
  // Validation errors are otherwise silent: the kernel's output is garbage and training goes on.
  device.onuncapturederror = (ev) => console.error(`WebGPU error: ${ev.error.message}`)

  const { WebGPUBackend } = await import('@tensorflow/tfjs-backend-webgpu')
  const { registerWebGpuTrainingKernels } = await import('./kernels')
  registerWebGpuTrainingKernels()
  // The matmul-based Conv2DBackpropInput gives the same results as the naive one and is faster.
  tf.env().set('WEBGPU_USE_NAIVE_CONV2D_TRANSPOSE', false)
  // Importing the package registers tfjs's own factory when navigator.gpu exists; ours replaces it.
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu')
  if (dawn && !hasDawnPump()) {
    device.destroy()
    clear()
    throw new WebGpuUnavailable(
      'this version of the webgpu package processes GPU events in a way the engine does not know, so tensors cannot be read back synchronously',
      'Reinstall the project dependencies (npm ci) to get the webgpu version in package-lock.json.'
    )
  }
  // Priority below wasm (2) and cpu (1): never picked implicitly by tf.ready(), only by name.
  tf.registerBackend(
    'webgpu',
    () => {
      const backend = new WebGPUBackend(device as never, info as never)
      // In Chromium, tfjs's own readSync (through an OffscreenCanvas) works as it is.
      if (dawn) installSyncRead(backend)
      return guardBufferLimits(backend, described)
    },
    0
  )
  state = st
  return described
}

/**
 * Throws GpuBufferLimitError before a buffer larger than the device allows is created: past
 * maxStorageBufferBindingSize Dawn only reports a validation error and the kernel reads zeros.
 */
function guardBufferLimits<B extends { bufferManager: { acquireBuffer(size: number, usage: number, ...rest: boolean[]): unknown } }>(
  backend: B,
  adapter: GpuAdapter
): B {
  const bm = backend.bufferManager
  const acquire = bm.acquireBuffer.bind(bm)
  const STORAGE = (globalThis as unknown as { GPUBufferUsage: { STORAGE: number } }).GPUBufferUsage.STORAGE
  const { maxBufferSize, maxStorageBufferBindingSize } = adapter.limits
  bm.acquireBuffer = (size: number, usage: number, ...rest: boolean[]) => {
    const storage = (usage & STORAGE) !== 0
    const limit = storage ? Math.min(maxBufferSize, maxStorageBufferBindingSize) : maxBufferSize
    if (size > limit) {
      const which =
        storage && maxStorageBufferBindingSize <= maxBufferSize
          ? `maxStorageBufferBindingSize, ${mib(maxStorageBufferBindingSize)}`
          : `maxBufferSize, ${mib(maxBufferSize)}`
      throw new GpuBufferLimitError(
        `A tensor of ${mib(size)} does not fit this GPU's largest buffer (${which}, on ${adapter.description || adapter.device || 'this adapter'}). ` +
          'Make it smaller (a narrower backbone width, a smaller batch or input size) or train on another backend (wasm, tensorflow).'
      )
    }
    return acquire(size, usage, ...rest)
  }
  return backend
}

/**
 * Removes the 'webgpu' backend, destroys the device and clears navigator.gpu, so that nothing
 * keeps the process alive and a later init starts afresh.
 */
export function disposeNodeWebGpu(): void {
  const st = state
  state = null
  if (!st) return
  st.disposing = true
  if (tf.findBackendFactory('webgpu')) tf.removeBackend('webgpu')
  st.device.onuncapturederror = null
  st.device.destroy()
  clearNavigator(st)
  if (st.ownGpu) forgetDawnPump()
}

/** Removes what setup added to navigator: Dawn's gpu (and navigator itself where Node had none), never Chromium's. */
function clearNavigator(own: { ownNavigator: boolean; ownGpu: boolean }): void {
  const g = globalThis as unknown as { navigator?: Record<string, unknown> }
  if (own.ownGpu && g.navigator) delete g.navigator.gpu
  if (own.ownNavigator) delete (globalThis as { navigator?: unknown }).navigator
}

function gpuDriverFix(): string {
  if (process.platform === 'linux') {
    return "Install the GPU's Vulkan driver and the Vulkan loader (Debian/Ubuntu: apt-get install libvulkan1 plus the vendor's driver, e.g. nvidia-driver or mesa-vulkan-drivers); check with vulkaninfo --summary."
  }
  if (process.platform === 'win32') return 'Update the GPU driver (WebGPU uses D3D12).'
  if (process.platform === 'darwin') return 'WebGPU uses Metal: needs macOS 11 or later.'
  return 'WebGPU needs a GPU with Vulkan, D3D12 or Metal drivers.'
}

function firstLine(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0]!
}
