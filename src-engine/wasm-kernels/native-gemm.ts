// Our own float32 GEMM and convolution filter gradient (native/gemm.c, WebAssembly SIMD128)
// running directly on the wasm backend's heap. The GEMM serves products whose right operand is new
// at every call (a dense layer's weight in training): XNNPACK packs such an operand,
// single-threaded, for about as long as it multiplies. The filter gradient blocks its long
// reduction (batch x output pixels) so that operands are reused from cache (see gemm.c).
// With the threaded tfjs build (shared memory) each call is split by output columns between this
// thread and one worker_thread that instantiates the same module on the same memory; they meet
// through Atomics.wait / notify, which sleep in the kernel instead of spinning, so a busy machine
// costs a wait, not a stalled spinning pool.
import { Worker } from 'node:worker_threads'
import type { TensorInfo } from '@tensorflow/tfjs-core'
import { GEMM_WASM_PLAIN, GEMM_WASM_SHARED } from './native/gemm-wasm'
import type { WasmBackend } from './util'

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

type NativeFn = (...args: number[]) => void

/** The module's exports, in the order the worker is told them by index. */
const FUNCTIONS = ['gemm', 'conv_bpf', 'pack_w', 'conv_fwd', 'bn_stats', 'bn_apply', 'bn_grad_stats', 'bn_grad_apply', 'sgd_step', 'maxpool_grad'] as const
type FnName = (typeof FUNCTIONS)[number]

interface Native {
  fns: Record<FnName, NativeFn>
  /** Scratch of each thread (a packed panel of 256 x 8 floats and 24 ints, or 64 x 256 gathered im2col floats; 16-byte aligned). */
  pack: [number, number]
  worker: Worker | null
  /** [state, function index, arguments...]; state 0 idle, 1 work posted, 2 done (the worker sleeps in every state but 1). */
  ctl: Int32Array | null
}

const PACK_BYTES = 64 * 256 * 4 + 128
const MAX_ARGS = 20
const instances = new WeakMap<object, Native | null>()
/** Parts turned off, for comparisons: QUARTERTURN_WASM_NATIVE=none, or a list of those to keep (gemm,conv,filter-grad,bn,sgd,maxpool). */
const env = process.env.QUARTERTURN_WASM_NATIVE
let gemmOff = env != null && env !== 'all' && !env.split(',').includes('gemm')
let filterGradOff = env != null && env !== 'all' && !env.split(',').includes('filter-grad')
let convOff = env != null && env !== 'all' && !env.split(',').includes('conv')

/** Turns the native GEMM off (true) or back on; for comparisons. */
export function setNativeGemmDisabled(off: boolean): void {
  gemmOff = off
}

/** Turns the native forward convolution off (true) or back on; for comparisons. */
export function setNativeConvDisabled(off: boolean): void {
  convOff = off
}

/** Turns the native convolution filter gradient off (true) or back on; for comparisons. */
export function setNativeFilterGradDisabled(off: boolean): void {
  filterGradOff = off
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads')
const { module, memory, ctl } = workerData
const exports = new WebAssembly.Instance(module, { env: { memory } }).exports
const fns = ${JSON.stringify(FUNCTIONS)}.map((name) => exports[name])
const s = new Int32Array(ctl)
for (;;) {
  let state
  while ((state = Atomics.load(s, 0)) !== 1) Atomics.wait(s, 0, state)
  fns[s[1]](...s.subarray(2, 2 + ${MAX_ARGS}))
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
  const exports = new WA.Instance(module, { env: { memory } }).exports
  const fns = Object.fromEntries(FUNCTIONS.map((name) => [name, exports[name] as NativeFn])) as Record<FnName, NativeFn>
  const p0 = mod._malloc(PACK_BYTES + 16)
  const p1 = mod._malloc(PACK_BYTES + 16)
  const pack: [number, number] = [(p0 + 15) & ~15, (p1 + 15) & ~15]
  let worker: Worker | null = null
  let ctl: Int32Array | null = null
  if (shared) {
    ctl = new Int32Array(new SharedArrayBuffer((2 + MAX_ARGS) * 4))
    worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, ctl: ctl.buffer } })
    // Work posted before the worker is up is taken by its first Atomics.wait (the state is no longer 0).
    worker.unref()
  }
  return { fns, pack, worker, ctl }
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
  return !gemmOff && native(backend) != null
}

/** True when forward convolutions can run here (the module loaded and is not turned off). */
export function nativeConvAvailable(backend: WasmBackend): boolean {
  return !convOff && native(backend) != null
}

/** True when filter gradients can run here (the module loaded and is not turned off). */
export function nativeFilterGradAvailable(backend: WasmBackend): boolean {
  return !filterGradOff && native(backend) != null
}

function addr(backend: WasmBackend, t: TensorInfo): number {
  const v = backend.typedArrayFromHeap(t)
  return v.byteOffset
}

/**
 * Runs \`fn(...args, c0, c1, scratch)\` over the output columns [0, n): on this thread alone, or
 * split (at a multiple of 8) with the worker when there is one and the call is big enough
 * (\`work\` multiply-adds) to pay for the hand-off (~20 µs). Each call's columns are computed in
 * the same order whatever the split, so results do not depend on the thread count.
 */
function runSplit(n: Native, fn: FnName, args: number[], cols: number, work: number): void {
  const f = n.fns[fn]
  const { worker, ctl } = n
  if (worker == null || ctl == null || work < 1 << 20 || cols < 16) {
    f(...args, 0, cols, n.pack[0])
    return
  }
  const half = Math.ceil(cols / 2 / 8) * 8
  ctl.set([FUNCTIONS.indexOf(fn), ...args, half, cols, n.pack[1]], 1)
  Atomics.store(ctl, 0, 1)
  Atomics.notify(ctl, 0)
  f(...args, 0, half, n.pack[0])
  while (Atomics.load(ctl, 0) === 1) Atomics.wait(ctl, 0, 1)
  Atomics.store(ctl, 0, 0)
}

/** out[M,N] = a[M,K] · b[K,N] (float32, row-major, untransposed), \`out\` already allocated. */
export function nativeGemm(backend: WasmBackend, a: TensorInfo, b: TensorInfo, out: TensorInfo, M: number, K: number, N: number): void {
  const n = native(backend) as Native
  runSplit(n, 'gemm', [addr(backend, a), addr(backend, b), addr(backend, out), M, K, N, K, N, N], N, M * K * N)
}

export interface FilterGradGeometry {
  B: number
  H: number
  W: number
  Cin: number
  oH: number
  oW: number
  Cout: number
  kh: number
  kw: number
  sh: number
  sw: number
  top: number
  left: number
}

/**
 * dwt[Cout, kh·kw·Cin] (allocated by the caller) = the filter gradient of an NHWC convolution with
 * dilation 1, transposed: dwt[co][(ky·kw + kx)·Cin + ci] = Σ x[b, oy·sh+ky−top, ox·sw+kx−left, ci] · dy[b,oy,ox,co].
 */
export function nativeConvFilterGrad(backend: WasmBackend, x: TensorInfo, dy: TensorInfo, dwt: TensorInfo, g: FilterGradGeometry): void {
  const n = native(backend) as Native
  const KD = g.kh * g.kw * g.Cin
  const args = [addr(backend, x), addr(backend, dy), addr(backend, dwt), g.B, g.H, g.W, g.Cin, g.oH, g.oW, g.Cout, g.kh, g.kw, g.sh, g.sw, g.top, g.left]
  runSplit(n, 'conv_bpf', args, KD, g.B * g.oH * g.oW * g.Cout * KD)
}

/**
 * y [B, oH, oW, Cout] (allocated by the caller) = the NHWC convolution (dilation 1) of x with
 * filter [kh, kw, Cin, Cout]. The filter is packed once into panels of 8 output channels (a
 * temporary tensor), then the output pixels are split between the threads.
 */
export function nativeConv2D(backend: WasmBackend, x: TensorInfo, filter: TensorInfo, y: TensorInfo, g: FilterGradGeometry): void {
  const n = native(backend) as Native
  const KD = g.kh * g.kw * g.Cin
  const wp = backend.makeOutput([Math.ceil(g.Cout / 8) * 8 * KD], 'float32')
  try {
    n.fns.pack_w(addr(backend, filter), addr(backend, wp), KD, g.Cout)
    const args = [addr(backend, x), addr(backend, wp), addr(backend, y), g.B, g.H, g.W, g.Cin, g.oH, g.oW, g.Cout, g.kh, g.kw, g.sh, g.sw, g.top, g.left]
    runSplit(n, 'conv_fwd', args, g.B * g.oH * g.oW, g.B * g.oH * g.oW * g.Cout * KD)
  } finally {
    backend.disposeData(wp.dataId)
  }
}

let bnOff = env != null && env !== 'all' && !env.split(',').includes('bn')

/** Turns the native BatchNorm passes off (true: the JS loops of batch-norm-relu.ts run) or back on; for comparisons. */
export function setNativeBatchNormDisabled(off: boolean): void {
  bnOff = off
}

/** True when the BatchNorm passes can run here (the module loaded and is not turned off). */
export function nativeBatchNormAvailable(backend: WasmBackend): boolean {
  return !bnOff && native(backend) != null
}

/** Runs fn(...args0) here and fn(...args1) on the worker, or both here one after the other. */
function runPair(n: Native, fn: FnName, args0: number[], args1: number[], work: number): void {
  const f = n.fns[fn]
  const { worker, ctl } = n
  if (worker == null || ctl == null || work < 1 << 16) {
    f(...args0, n.pack[0])
    f(...args1, n.pack[0])
    return
  }
  ctl.set([FUNCTIONS.indexOf(fn), ...args1, n.pack[1]], 1)
  Atomics.store(ctl, 0, 1)
  Atomics.notify(ctl, 0)
  f(...args0, n.pack[0])
  while (Atomics.load(ctl, 0) === 1) Atomics.wait(ctl, 0, 1)
  Atomics.store(ctl, 0, 0)
}

/** Where the rows of a BatchNorm pass are split: a fixed place, whatever the thread count. */
function half(rows: number): number {
  return Math.ceil(rows / 2 / 8) * 8 > rows ? rows : Math.ceil(rows / 2 / 8) * 8
}

/**
 * Per-channel float64 sums over the rows of an [rows, C] float32 tensor, in two row halves:
 * `acc` (a tensor of at least 8·C floats, 8-byte aligned) receives 2·C doubles per half.
 * mode 'x': Σx and Σx²; mode 'grad': Σdz and Σdz·(x − mean), dz = dy where y > 0 when relu, else dy.
 * Returns the sums as [Σ, second] per channel (Float64Array of 2·C), adding the halves in a fixed order.
 */
export function nativeBnSums(
  backend: WasmBackend,
  mode: 'x' | 'grad',
  t: { x: TensorInfo; dy?: TensorInfo; y?: TensorInfo; mean?: TensorInfo },
  acc: TensorInfo,
  rows: number,
  C: number,
  relu: boolean
): Float64Array {
  const n = native(backend) as Native
  const a = addr(backend, acc)
  const h = half(rows)
  const a1 = a + 2 * C * 8
  if (mode === 'x') {
    const base = [addr(backend, t.x)]
    runPair(n, 'bn_stats', [...base, a, rows, C, 0, h], [...base, a1, rows, C, h, rows], rows * C)
  } else {
    const base = [addr(backend, t.dy!), addr(backend, t.x), addr(backend, t.y!), addr(backend, t.mean!)]
    runPair(n, 'bn_grad_stats', [...base, a, C, relu ? 1 : 0, 0, h], [...base, a1, C, relu ? 1 : 0, h, rows], rows * C)
  }
  const mem = backend.typedArrayFromHeap(acc).buffer
  const v = new Float64Array(mem, a, 4 * C)
  const out = new Float64Array(2 * C)
  const C4 = C & ~3
  for (let c = 0; c < C; c++) {
    const i = c < C4 ? 2 * (c & ~3) + (c & 3) : 2 * c
    const j = c < C4 ? i + 4 : i + 1
    out[2 * c] = v[i]! + v[2 * C + i]!
    out[2 * c + 1] = v[j]! + v[2 * C + j]!
  }
  return out
}

/** y = (x − mean)·scale + beta (then ReLU), split by rows between the threads. */
export function nativeBnApply(
  backend: WasmBackend,
  x: TensorInfo,
  y: TensorInfo,
  mean: TensorInfo,
  scale: TensorInfo,
  beta: TensorInfo,
  rows: number,
  C: number,
  relu: boolean
): void {
  const n = native(backend) as Native
  const base = [addr(backend, x), addr(backend, y), addr(backend, mean), addr(backend, scale), addr(backend, beta), C, relu ? 1 : 0]
  const h = half(rows)
  runPair(n, 'bn_apply', [...base, 0, h], [...base, h, rows], rows * C)
}

/** dx = ka·(dz − kc) + kb·(x − mean), k = [ka | kb | kc] (3·C floats), split by rows between the threads. */
export function nativeBnGradApply(
  backend: WasmBackend,
  t: { dy: TensorInfo; x: TensorInfo; y: TensorInfo; mean: TensorInfo; k: TensorInfo; dx: TensorInfo },
  rows: number,
  C: number,
  relu: boolean
): void {
  const n = native(backend) as Native
  const base = [addr(backend, t.dy), addr(backend, t.x), addr(backend, t.y), addr(backend, t.mean), addr(backend, t.k), addr(backend, t.dx), C, relu ? 1 : 0]
  const h = half(rows)
  runPair(n, 'bn_grad_apply', [...base, 0, h], [...base, h, rows], rows * C)
}

let sgdOff = env != null && env !== 'all' && !env.split(',').includes('sgd')

/** Turns the native SGD step off (true: the op sequence runs, see sgd.ts) or back on; for comparisons. */
export function setNativeSgdDisabled(off: boolean): void {
  sgdOff = off
}

/** True when the SGD step can run here (the module loaded and is not turned off). */
export function nativeSgdAvailable(backend: WasmBackend): boolean {
  return !sgdOff && native(backend) != null
}

const bits = new DataView(new ArrayBuffer(4))
/** A float32's bit pattern as an int (arguments travel to the worker as int32). */
function floatBits(v: number): number {
  bits.setFloat32(0, v, true)
  return bits.getInt32(0, true)
}

/**
 * One SGD-with-momentum update (native/gemm.c sgd_step) of n elements into pOut, bOut (allocated
 * by the caller); buf null on the first step. Split by elements between the threads.
 */
export function nativeSgdStep(
  backend: WasmBackend,
  t: { p: TensorInfo; g: TensorInfo; buf: TensorInfo | null; pOut: TensorInfo; bOut: TensorInfo },
  count: number,
  a: { lr: number; momentum: number; weightDecay: number; nesterov: boolean }
): void {
  const n = native(backend) as Native
  const pa = addr(backend, t.p)
  const base = [
    pa,
    addr(backend, t.g),
    t.buf ? addr(backend, t.buf) : pa,
    addr(backend, t.pOut),
    addr(backend, t.bOut),
    floatBits(a.lr),
    floatBits(a.momentum),
    floatBits(a.weightDecay),
    (a.nesterov ? 1 : 0) | (t.buf ? 2 : 0)
  ]
  const h = half(count)
  runPair(n, 'sgd_step', [...base, 0, h], [...base, h, count], count * 4)
}

let maxPoolOff = env != null && env !== 'all' && !env.split(',').includes('maxpool')

/** Turns the native MaxPoolGrad off (true: the JS loop of max-pool-grad.ts runs) or back on; for comparisons. */
export function setNativeMaxPoolGradDisabled(off: boolean): void {
  maxPoolOff = off
}

/** True when MaxPoolGrad can run here (the module loaded and is not turned off). */
export function nativeMaxPoolGradAvailable(backend: WasmBackend): boolean {
  return !maxPoolOff && native(backend) != null
}

/**
 * dx (allocated by the caller, same shape as x [B, H, W, C]) of an NHWC max-pool with dy [B, oH, oW, C]
 * (native/gemm.c maxpool_grad); the images are split between the threads.
 */
export function nativeMaxPoolGrad(
  backend: WasmBackend,
  t: { x: TensorInfo; dy: TensorInfo; dx: TensorInfo },
  g: { B: number; H: number; W: number; C: number; oH: number; oW: number; fh: number; fw: number; sh: number; sw: number; top: number; left: number }
): void {
  const n = native(backend) as Native
  const base = [addr(backend, t.x), addr(backend, t.dy), addr(backend, t.dx), g.H, g.W, g.C, g.oH, g.oW, g.fh, g.fw, g.sh, g.sw, g.top, g.left]
  const h = Math.ceil(g.B / 2)
  runPair(n, 'maxpool_grad', [...base, 0, h], [...base, h, g.B], g.B * g.H * g.W * g.C)
}
