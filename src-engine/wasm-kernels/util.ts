// Shared plumbing: a minimal view of tfjs-backend-wasm's backend object, calls into the wasm
// backend's own kernels, and a scope that frees every intermediate a kernel makes.
import { getKernel, type DataId, type DataType, type KernelBackend, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core'

/** The few members of tfjs-backend-wasm's BackendWasm that these kernels use. */
export interface WasmBackend extends KernelBackend {
  /** Allocates an (uninitialised) tensor on the wasm heap. */
  makeOutput(shape: number[], dtype: DataType): TensorInfo
  /** A live view of a tensor's bytes on the wasm heap. Any later allocation may grow the heap and detach it. */
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array
  disposeData(dataId: DataId, force?: boolean): boolean
}

export const BACKEND = 'wasm'

/** The wasm backend's original kernels that this library replaced, kept for fallbacks and benchmarks. */
const stockKernels = new Map<string, KernelConfig>()
const stockSetUp = new Map<string, WeakSet<object>>()

export function rememberStockKernel(config: KernelConfig): void {
  if (!stockKernels.has(config.kernelName)) stockKernels.set(config.kernelName, config)
}

export function stockKernel(kernelName: string): KernelConfig | undefined {
  return stockKernels.get(kernelName)
}

function ensureSetUp(config: KernelConfig, backend: WasmBackend): void {
  if (config.setupFunc == null) return
  let done = stockSetUp.get(config.kernelName)
  if (done == null) stockSetUp.set(config.kernelName, (done = new WeakSet()))
  if (done.has(backend)) return
  config.setupFunc(backend)
  done.add(backend)
}

/** Runs a wasm kernel: the original one where this library replaced it, else whatever is registered. */
export function runKernel(kernelName: string, backend: WasmBackend, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
  const stock = stockKernels.get(kernelName)
  const config = stock ?? getKernel(kernelName, BACKEND)
  if (config == null) throw new Error(`wasm-kernels: kernel '${kernelName}' is not registered for the wasm backend`)
  // Re-running setupFunc once per backend object is cheap (it only cwraps wasm exports) and covers a
  // backend that was re-initialised after the stock kernel was unregistered.
  if (stock != null) ensureSetUp(stock, backend)
  const out = config.kernelFunc({ inputs, attrs: attrs as NamedAttrMap, backend })
  return Array.isArray(out) ? (out[0] as TensorInfo) : out
}

/**
 * Tracks the intermediates of one kernel call. `run` registers its result; `keep` takes the final
 * result out of the scope; `dispose` frees the rest. Use through `withScope`.
 */
export class Scope {
  private readonly temps: TensorInfo[] = []
  constructor(readonly backend: WasmBackend) {}

  track<T extends TensorInfo>(t: T): T {
    this.temps.push(t)
    return t
  }

  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown> = {}): TensorInfo {
    return this.track(runKernel(kernelName, this.backend, inputs, attrs))
  }

  make(shape: number[], dtype: DataType = 'float32'): TensorInfo {
    return this.track(this.backend.makeOutput(shape, dtype))
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape })
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm })
  }

  f32(t: TensorInfo): Float32Array {
    return this.backend.typedArrayFromHeap(t) as Float32Array
  }

  /** Removes `t` from the scope so that `dispose` leaves it alone. */
  keep(t: TensorInfo): TensorInfo {
    const i = this.temps.lastIndexOf(t)
    if (i >= 0) this.temps.splice(i, 1)
    return t
  }

  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId)
    this.temps.length = 0
  }
}

/** Runs `f` with a fresh scope and frees everything it made except the tensor it returns. */
export function withScope(backend: WasmBackend, f: (s: Scope) => TensorInfo): TensorInfo {
  const s = new Scope(backend)
  try {
    return s.keep(f(s))
  } finally {
    s.dispose()
  }
}

export function pair(v: number | [number, number] | undefined, fallback = 1): [number, number] {
  if (v == null) return [fallback, fallback]
  return typeof v === 'number' ? [v, v] : v
}

export function assertNhwc(kernel: string, dataFormat: string | undefined): void {
  if (dataFormat != null && dataFormat !== 'NHWC') {
    throw new Error(`wasm-kernels: ${kernel} supports dataFormat 'NHWC' only, got '${dataFormat}'`)
  }
}

export function assertFloat32(kernel: string, ...ts: TensorInfo[]): void {
  for (const t of ts) {
    if (t.dtype !== 'float32') throw new Error(`wasm-kernels: ${kernel} supports float32 tensors only, got ${t.dtype}`)
  }
}
