// Our own float32 GEMM (native/gemm.c, WebAssembly SIMD128) running directly on the wasm
// backend's heap, for products whose right operand is new at every call (a dense layer's weight
// in training): XNNPACK packs such an operand, single-threaded, for about as long as it multiplies.
// With the threaded tfjs build (shared memory) the product is split by columns between this
// thread and one worker_thread that instantiates the same module on the same memory; they meet
// through Atomics.wait / notify, which sleep in the kernel instead of spinning, so a busy machine
// costs a wait, not a stalled spinning pool.
import { Worker } from 'node:worker_threads'
import type { TensorInfo } from '@tensorflow/tfjs-core'
import { GEMM_WASM_PLAIN, GEMM_WASM_SHARED } from './native/gemm-wasm'
import type { WasmBackend } from './util'

type GemmFn = (
  a: number,
  b: number,
  c: number,
  M: number,
  K: number,
  N: number,
  lda: number,
  ldb: number,
  ldc: number,
  n0: number,
  n1: number,
  pack: number
) => void

/** The WebAssembly API, typed here (the Node typings this project uses do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: Record<string, unknown> }
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

interface EmscriptenModule {
  wasmMemory?: WasmMemory
  asm?: { memory?: WasmMemory }
  _malloc(bytes: number): number
  _free(ptr: number): void
}

interface Native {
  gemm: GemmFn
  /** Scratch for the packed panel of each thread (256 x 8 floats, 16-byte aligned). */
  pack: [number, number]
  worker: Worker | null
  /** [state, 12 arguments]; state 0 idle, 1 work posted, 2 done (the worker sleeps in every state but 1). */
  ctl: Int32Array | null
}

const PACK_BYTES = 256 * 8 * 4
const instances = new WeakMap<object, Native | null>()
let disabled = process.env.QUARTERTURN_WASM_GEMM === '0'

/** Turns the native GEMM off (true) or back on; for comparisons. */
export function setNativeGemmDisabled(off: boolean): void {
  disabled = off
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { module, memory, ctl } = workerData
const gemm = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm
const s = new Int32Array(ctl)
for (;;) {
  let state
  while ((state = Atomics.load(s, 0)) !== 1) Atomics.wait(s, 0, state)
  gemm(s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], s[9], s[10], s[11], s[12])
  Atomics.store(s, 0, 2)
  Atomics.notify(s, 0)
}
`

function load(backend: WasmBackend): Native | null {
  const mod = (backend as unknown as { wasm: EmscriptenModule }).wasm
  const memory = mod.wasmMemory ?? mod.asm?.memory
  if (memory == null) return null
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer
  const module = new WA.Module(Buffer.from(shared ? GEMM_WASM_SHARED : GEMM_WASM_PLAIN, 'base64'))
  const gemm = new WA.Instance(module, { env: { memory } }).exports.gemm as GemmFn
  const p0 = mod._malloc(PACK_BYTES + 16)
  const p1 = mod._malloc(PACK_BYTES + 16)
  const pack: [number, number] = [(p0 + 15) & ~15, (p1 + 15) & ~15]
  let worker: Worker | null = null
  let ctl: Int32Array | null = null
  if (shared) {
    ctl = new Int32Array(new SharedArrayBuffer(13 * 4))
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctl: ctl.buffer } })
    // Work posted before the worker is up is taken by its first Atomics.wait (the state is no longer 0).
    worker.unref()
  }
  return { gemm, pack, worker, ctl }
}

function native(backend: WasmBackend): Native | null {
  if (!instances.has(backend)) {
    let n: Native | null = null
    try {
      n = load(backend)
    } catch (e) {
      console.warn(`wasm-kernels: native GEMM unavailable (${(e as Error).message}); using XNNPACK`)
    }
    instances.set(backend, n)
  }
  return instances.get(backend) ?? null
}

/** True when products can run here (the module loaded and is not turned off). */
export function nativeGemmAvailable(backend: WasmBackend): boolean {
  return !disabled && native(backend) != null
}

function addr(backend: WasmBackend, t: TensorInfo): number {
  const v = backend.typedArrayFromHeap(t)
  return v.byteOffset
}

/**
 * out[M,N] = a[M,K] · b[K,N] (float32, row-major, untransposed), `out` already allocated. Uses
 * the worker for half of the columns when there is one and the product is big enough to pay for
 * the hand-off (~20 µs).
 */
export function nativeGemm(backend: WasmBackend, a: TensorInfo, b: TensorInfo, out: TensorInfo, M: number, K: number, N: number): void {
  const n = native(backend) as Native
  const pa = addr(backend, a)
  const pb = addr(backend, b)
  const pc = addr(backend, out)
  const { worker, ctl } = n
  if (worker == null || ctl == null || M * K * N < 1 << 20 || N < 16) {
    n.gemm(pa, pb, pc, M, K, N, K, N, N, 0, N, n.pack[0])
    return
  }
  const half = Math.ceil(N / 2 / 8) * 8
  ctl.set([pa, pb, pc, M, K, N, K, N, N, half, N, n.pack[1]], 1)
  Atomics.store(ctl, 0, 1)
  Atomics.notify(ctl, 0)
  n.gemm(pa, pb, pc, M, K, N, K, N, N, 0, half, n.pack[0])
  while (Atomics.load(ctl, 0) === 1) Atomics.wait(ctl, 0, 1)
  Atomics.store(ctl, 0, 0)
}
