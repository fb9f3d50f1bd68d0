// Owns synchronous GPU reads under Dawn's Node bindings. The engine reads small results with
// dataSync() (the loss every step, the NCE normaliser inside the gradient tape, the memory bank
// update, features, predictions). tfjs-backend-webgpu's readSync goes through OffscreenCanvas,
// which only a browser has; under Node every dataSync() would throw. Here readSync copies the
// tensor's buffer to a staging buffer, maps it, and runs Dawn's event processing itself until the
// mapping completes.
//
// Dawn's Node bindings process GPU events (wgpuInstanceProcessEvents) only in a callback they
// hand to setImmediate while work is pending (src/dawn/node/binding/AsyncRunner.cpp), so the
// callback is captured from setImmediate and called in a loop. A captured callback stays valid
// while its GPU instance lives (it holds the runner weakly), so any one of them will do.
import { util } from '@tensorflow/tfjs-core'

type Fn = () => void

let pump: Fn | null = null

/** A function Dawn's binding creates with Napi::Function::New: native code, no name. */
function isDawnCallback(fn: unknown): fn is Fn {
  return typeof fn === 'function' && fn.name === '' && /\{\s*\[native code\]\s*\}\s*$/.test(Function.prototype.toString.call(fn))
}

/**
 * Runs `work` with setImmediate wrapped so that a Dawn event-processing callback scheduled during
 * it is kept (and still scheduled as usual). Async work keeps the wrapper until it settles.
 */
export async function captureDawnPump<T>(work: () => Promise<T>): Promise<T> {
  const restore = wrapSetImmediate()
  try {
    return await work()
  } finally {
    restore()
  }
}

/** The same around synchronous work (a mapAsync call: a newer callback, if Dawn schedules one). */
function captureDawnPumpSync<T>(work: () => T): T {
  const restore = wrapSetImmediate()
  try {
    return work()
  } finally {
    restore()
  }
}

function wrapSetImmediate(): () => void {
  const original = globalThis.setImmediate
  const wrapped = function (this: unknown, ...args: unknown[]) {
    if (isDawnCallback(args[0])) pump = args[0]
    return Reflect.apply(original, this, args) as unknown
  } as typeof setImmediate
  Object.assign(wrapped, original)
  globalThis.setImmediate = wrapped
  return () => {
    if (globalThis.setImmediate === wrapped) globalThis.setImmediate = original
  }
}

/** Whether a Dawn event pump has been captured (synchronous reads can work). */
export function hasDawnPump(): boolean {
  return pump !== null
}

export function forgetDawnPump(): void {
  pump = null
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4))

/** Process Dawn's events until `done()`; sleeps a little between polls once the wait is not short. */
function pumpUntil(done: () => boolean, what: string, timeoutMs: number): void {
  if (!pump) throw new Error(`WebGPU: cannot wait for ${what} synchronously (no Dawn event pump captured)`)
  const t0 = Date.now()
  for (let spins = 0; !done(); spins++) {
    pump()
    if (done()) return
    // A step on a software adapter takes seconds: poll without burning the core it needs.
    if (spins > 64) Atomics.wait(sleepCell, 0, 0, spins > 4096 ? 1 : 0.05)
    if (Date.now() - t0 > timeoutMs) throw new Error(`WebGPU: ${what} did not finish within ${Math.round(timeoutMs / 1000)} s`)
  }
}

interface GpuBufferLike {
  readonly size: number
  readonly mapState: 'unmapped' | 'pending' | 'mapped'
  mapAsync(mode: number, offset?: number, size?: number): Promise<void>
  getMappedRange(): ArrayBuffer
  unmap(): void
}

/** The WebGPUBackend internals a synchronous read uses (all public on the JS object). */
interface BackendInternals {
  tensorMap: { get(dataId: object): { values: unknown; dtype: string; resource: unknown; complexTensorInfos?: unknown } }
  bufferManager: { acquireBuffer(size: number, usage: number): GpuBufferLike; releaseBuffer(b: GpuBufferLike): void }
  commandEncoder: { copyBufferToBuffer(src: unknown, so: number, dst: unknown, dO: number, size: number): void }
  ensureCommandEncoderReady(): void
  endComputePassEncoder(): void
  submitQueue(): void
  convertAndCacheOnCPU(dataId: object, data: unknown): unknown
  readSync(dataId: object): unknown
}

/**
 * Replaces the backend's readSync (OffscreenCanvas, browser only) with a staging-buffer map that
 * waits by running Dawn's events. Values are cached on the CPU side, as tfjs's own read does.
 */
export function installSyncRead(backend: object, timeoutMs = 600_000): void {
  const b = backend as BackendInternals
  const g = globalThis as unknown as { GPUBufferUsage: { COPY_DST: number; MAP_READ: number }; GPUMapMode: { READ: number } }
  const usage = g.GPUBufferUsage.COPY_DST | g.GPUBufferUsage.MAP_READ
  const READ = g.GPUMapMode.READ
  const original = b.readSync.bind(b)
  b.readSync = (dataId: object) => {
    const td = b.tensorMap.get(dataId)
    // Already on the CPU, strings, complex (read as two float tensors by the original): as before.
    if (td.values != null || td.dtype === 'string' || td.dtype === 'complex64') return original(dataId)
    const src = td.resource as GpuBufferLike | null
    if (!src || typeof src.size !== 'number') return original(dataId)
    const size = src.size
    const staging = b.bufferManager.acquireBuffer(size, usage)
    b.ensureCommandEncoderReady()
    b.endComputePassEncoder()
    b.commandEncoder.copyBufferToBuffer(src, 0, staging, 0, size)
    b.submitQueue()
    captureDawnPumpSync(() => staging.mapAsync(READ)).catch(() => {}) // the state below says whether it failed
    try {
      pumpUntil(() => staging.mapState !== 'pending', `reading a ${size}-byte tensor`, timeoutMs)
      if (staging.mapState !== 'mapped') throw new Error('WebGPU: mapping a staging buffer for a read failed (device lost?)')
      const bytes = staging.getMappedRange().slice(0)
      const vals = util.convertBackendValuesAndArrayBuffer(bytes, td.dtype as 'float32')
      b.convertAndCacheOnCPU(dataId, vals)
      return vals
    } finally {
      // Back to the pool unmapped, as tfjs's own read leaves it; a timed-out one is dropped.
      if (staging.mapState === 'mapped') staging.unmap()
      if (staging.mapState === 'unmapped') b.bufferManager.releaseBuffer(staging)
    }
  }
}

/**
 * Waits until the GPU has finished every command submitted so far (with the backend's pending
 * commands submitted first): a 4-byte buffer cleared after them is mapped. For timing kernels.
 */
export function finishGpuWork(backend: object, timeoutMs = 600_000): void {
  const b = backend as BackendInternals & { commandEncoder: { clearBuffer(buf: unknown, offset?: number, size?: number): void } }
  const g = globalThis as unknown as { GPUBufferUsage: { COPY_DST: number; MAP_READ: number }; GPUMapMode: { READ: number } }
  const marker = b.bufferManager.acquireBuffer(4, g.GPUBufferUsage.COPY_DST | g.GPUBufferUsage.MAP_READ)
  b.ensureCommandEncoderReady()
  b.endComputePassEncoder()
  b.commandEncoder.clearBuffer(marker, 0, 4)
  b.submitQueue()
  captureDawnPumpSync(() => marker.mapAsync(g.GPUMapMode.READ)).catch(() => {})
  try {
    pumpUntil(() => marker.mapState !== 'pending', 'the GPU to finish', timeoutMs)
  } finally {
    if (marker.mapState === 'mapped') marker.unmap()
    if (marker.mapState === 'unmapped') b.bufferManager.releaseBuffer(marker)
  }
}
