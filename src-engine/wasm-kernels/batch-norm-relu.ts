// Training-mode BatchNorm (+ ReLU) over the last axis as two kernels of its own, with the gradient
// registered for them. tfjs builds training-mode BatchNorm from tf.moments + tf.batchNorm and autodiff,
// which on the wasm backend is about thirty elementwise kernels per layer (Sub, Square, Mean, Multiply,
// RealDiv, Sum, Add, Rsqrt, Cast, ...), each one more pass over the activation with its own allocation;
// at width 0.25 they took about a quarter of a training step. Here:
//   forward  (BatchNormTrain):     one pass for the per-channel sum and sum of squares (float64),
//                                  one pass for y = max(0, x·scale + shift);
//   backward (BatchNormTrainGrad): one pass for Σdz and Σdz·x (dz = dy where y > 0), which give dβ
//                                  and dγ, one pass for dx = a·(dz - dβ/n) + b·(x - mean) per channel.
// Both run in JS over Float32Array views of the wasm heap. Only the wasm backend has these kernels;
// `batchNormTrain` says whether the current backend can run them, callers keep the composite elsewhere.
import {
  engine,
  getKernel,
  getBackend,
  registerGradient,
  type GradConfig,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo,
  util
} from '@tensorflow/tfjs-core'
import { nativeBatchNormAvailable, nativeBnApply, nativeBnGradApply, nativeBnSums } from './native-gemm'
import { BACKEND, type WasmBackend } from './util'

export const BATCH_NORM_TRAIN = 'BatchNormTrain'
export const BATCH_NORM_TRAIN_GRAD = 'BatchNormTrainGrad'

interface Attrs {
  eps: number
  relu: boolean
}

type Args = { inputs: Record<string, TensorInfo | undefined>; attrs: Attrs; backend: WasmBackend }

function check(kernel: string, ...ts: (TensorInfo | undefined)[]): void {
  for (const t of ts) {
    if (t == null || t.dtype !== 'float32') throw new Error(`wasm-kernels: ${kernel} needs float32 tensors, got ${t?.dtype ?? 'none'}`)
  }
}

/**
 * x [..., C], gamma [C], beta [C] -> y (same shape as x), mean [C], variance [C] (biased: divided
 * by the row count, as used to normalise). y = max(0, (x - mean) / sqrt(variance + eps) * gamma + beta)
 * when `relu`, else without the max.
 */
export function batchNormTrainKernel(args: Args): TensorInfo[] {
  const { inputs, attrs, backend } = args
  const { x, gamma, beta } = inputs
  check(BATCH_NORM_TRAIN, x, gamma, beta)
  const shape = x!.shape
  const C = shape[shape.length - 1]!
  const rows = C ? util.sizeFromShape(shape) / C : 0
  if (gamma!.shape.length !== 1 || gamma!.shape[0] !== C || beta!.shape.length !== 1 || beta!.shape[0] !== C) {
    throw new Error(`wasm-kernels: ${BATCH_NORM_TRAIN}: gamma and beta must be [${C}], got [${gamma!.shape}] and [${beta!.shape}]`)
  }
  const out = backend.makeOutput(shape, 'float32')
  const meanOut = backend.makeOutput([C], 'float32')
  const varOut = backend.makeOutput([C], 'float32')
  if (nativeBatchNormAvailable(backend)) {
    nativeForward(backend, x!, gamma!, beta!, out, meanOut, varOut, rows, C, attrs)
    return [out, meanOut, varOut]
  }
  // Views only after the last allocation, which may have grown (and detached) the heap.
  const xv = backend.typedArrayFromHeap(x!) as Float32Array
  const yv = backend.typedArrayFromHeap(out) as Float32Array
  const g = backend.typedArrayFromHeap(gamma!) as Float32Array
  const bt = backend.typedArrayFromHeap(beta!) as Float32Array
  const mv = backend.typedArrayFromHeap(meanOut) as Float32Array
  const vv = backend.typedArrayFromHeap(varOut) as Float32Array
  const s1 = new Float64Array(C)
  const s2 = new Float64Array(C)
  let p = 0
  for (let m = 0; m < rows; m++) {
    for (let c = 0; c < C; c++, p++) {
      const v = xv[p]!
      s1[c]! += v
      s2[c]! += v * v
    }
  }
  const scale = new Float32Array(C)
  for (let c = 0; c < C; c++) {
    const mean = rows ? s1[c]! / rows : 0
    const variance = rows ? Math.max(0, s2[c]! / rows - mean * mean) : 0
    mv[c] = mean
    vv[c] = variance
    scale[c] = g[c]! / Math.sqrt(variance + attrs.eps)
  }
  // y = (x - mean)·scale + beta: centred first (as the composite does), so a row equal to the mean
  // gives exactly beta; folding the mean into a shift would cancel two large terms when eps is small.
  p = 0
  if (attrs.relu) {
    for (let m = 0; m < rows; m++) {
      for (let c = 0; c < C; c++, p++) {
        const v = (xv[p]! - mv[c]!) * scale[c]! + bt[c]!
        yv[p] = v > 0 ? v : 0
      }
    }
  } else {
    for (let m = 0; m < rows; m++) {
      for (let c = 0; c < C; c++, p++) yv[p] = (xv[p]! - mv[c]!) * scale[c]! + bt[c]!
    }
  }
  return [out, meanOut, varOut]
}

/**
 * dy, x, y, mean, variance, gamma -> dx, dgamma, dbeta of `batchNormTrainKernel`, mean and variance
 * being functions of x (training mode). With xhat = (x - mean)·r, r = 1/sqrt(variance + eps), n rows,
 * dz = dy·[y > 0] (or dy without ReLU): dβ = Σdz, dγ = Σdz·xhat = r·Σdz·(x - mean),
 * dx = γ·r·(dz - dβ/n - xhat·dγ/n).
 */
export function batchNormTrainGradKernel(args: Args): TensorInfo[] {
  const { inputs, attrs, backend } = args
  const { dy, x, y, mean, variance, gamma } = inputs
  check(BATCH_NORM_TRAIN_GRAD, dy, x, y, mean, variance, gamma)
  const shape = x!.shape
  const C = shape[shape.length - 1]!
  const rows = C ? util.sizeFromShape(shape) / C : 0
  const dxOut = backend.makeOutput(shape, 'float32')
  const dgOut = backend.makeOutput([C], 'float32')
  const dbOut = backend.makeOutput([C], 'float32')
  if (nativeBatchNormAvailable(backend)) {
    nativeBackward(backend, { dy: dy!, x: x!, y: y!, mean: mean!, variance: variance!, gamma: gamma! }, dxOut, dgOut, dbOut, rows, C, attrs)
    return [dxOut, dgOut, dbOut]
  }
  const dyv = backend.typedArrayFromHeap(dy!) as Float32Array
  const xv = backend.typedArrayFromHeap(x!) as Float32Array
  const yv = backend.typedArrayFromHeap(y!) as Float32Array
  const mv = backend.typedArrayFromHeap(mean!) as Float32Array
  const vv = backend.typedArrayFromHeap(variance!) as Float32Array
  const gv = backend.typedArrayFromHeap(gamma!) as Float32Array
  const dxv = backend.typedArrayFromHeap(dxOut) as Float32Array
  const dgv = backend.typedArrayFromHeap(dgOut) as Float32Array
  const dbv = backend.typedArrayFromHeap(dbOut) as Float32Array
  const sd = new Float64Array(C)
  const sdx = new Float64Array(C)
  let p = 0
  if (attrs.relu) {
    for (let m = 0; m < rows; m++) {
      for (let c = 0; c < C; c++, p++) {
        if (yv[p]! > 0) {
          const d = dyv[p]!
          sd[c]! += d
          sdx[c]! += d * (xv[p]! - mv[c]!)
        }
      }
    }
  } else {
    for (let m = 0; m < rows; m++) {
      for (let c = 0; c < C; c++, p++) {
        const d = dyv[p]!
        sd[c]! += d
        sdx[c]! += d * (xv[p]! - mv[c]!)
      }
    }
  }
  const ka = new Float32Array(C)
  const kb = new Float32Array(C)
  const kc = new Float64Array(C)
  for (let c = 0; c < C; c++) {
    const r = 1 / Math.sqrt(vv[c]! + attrs.eps)
    const db = sd[c]!
    const dg = r * sdx[c]!
    dbv[c] = db
    dgv[c] = dg
    // dx = a·(dz - dβ/n) + b·(x - mean) with a = γr, b = -γr²·dγ/n (a batch of one row gives exactly 0).
    const a = gv[c]! * r
    ka[c] = a
    kb[c] = rows ? (-a * r * dg) / rows : 0
    kc[c] = rows ? db / rows : 0
  }
  p = 0
  if (attrs.relu) {
    for (let m = 0; m < rows; m++) {
      for (let c = 0; c < C; c++, p++) {
        const d = yv[p]! > 0 ? dyv[p]! : 0
        dxv[p] = ka[c]! * (d - kc[c]!) + kb[c]! * (xv[p]! - mv[c]!)
      }
    }
  } else {
    for (let m = 0; m < rows; m++) {
      for (let c = 0; c < C; c++, p++) dxv[p] = ka[c]! * (dyv[p]! - kc[c]!) + kb[c]! * (xv[p]! - mv[c]!)
    }
  }
  return [dxOut, dgOut, dbOut]
}

/** A float32 scratch tensor whose heap offset is 8-byte aligned (for float64 sums), `floats` long at least. */
function scratch(backend: WasmBackend, floats: number): TensorInfo {
  const t = backend.makeOutput([floats], 'float32')
  if (backend.typedArrayFromHeap(t).byteOffset % 8 !== 0) {
    backend.disposeData(t.dataId)
    throw new Error('wasm-kernels: the wasm heap gave a buffer that is not 8-byte aligned')
  }
  return t
}

/** The forward kernel's work on the native SIMD passes (native/gemm.c), both threads. */
function nativeForward(
  backend: WasmBackend,
  x: TensorInfo,
  gamma: TensorInfo,
  beta: TensorInfo,
  out: TensorInfo,
  meanOut: TensorInfo,
  varOut: TensorInfo,
  rows: number,
  C: number,
  attrs: Attrs
): void {
  const acc = scratch(backend, 8 * C)
  const scale = backend.makeOutput([C], 'float32')
  try {
    const sums = nativeBnSums(backend, 'x', { x }, acc, rows, C, false)
    const mv = backend.typedArrayFromHeap(meanOut) as Float32Array
    const vv = backend.typedArrayFromHeap(varOut) as Float32Array
    const sv = backend.typedArrayFromHeap(scale) as Float32Array
    const g = backend.typedArrayFromHeap(gamma) as Float32Array
    for (let c = 0; c < C; c++) {
      const mean = rows ? sums[2 * c]! / rows : 0
      const variance = rows ? Math.max(0, sums[2 * c + 1]! / rows - mean * mean) : 0
      mv[c] = mean
      vv[c] = variance
      sv[c] = g[c]! / Math.sqrt(variance + attrs.eps)
    }
    nativeBnApply(backend, x, out, meanOut, scale, beta, rows, C, attrs.relu)
  } finally {
    backend.disposeData(acc.dataId)
    backend.disposeData(scale.dataId)
  }
}

/** The backward kernel's work on the native SIMD passes (native/gemm.c), both threads. */
function nativeBackward(
  backend: WasmBackend,
  t: { dy: TensorInfo; x: TensorInfo; y: TensorInfo; mean: TensorInfo; variance: TensorInfo; gamma: TensorInfo },
  dxOut: TensorInfo,
  dgOut: TensorInfo,
  dbOut: TensorInfo,
  rows: number,
  C: number,
  attrs: Attrs
): void {
  const acc = scratch(backend, 8 * C)
  const k = backend.makeOutput([3 * C], 'float32')
  try {
    const sums = nativeBnSums(backend, 'grad', t, acc, rows, C, attrs.relu)
    const vv = backend.typedArrayFromHeap(t.variance) as Float32Array
    const gv = backend.typedArrayFromHeap(t.gamma) as Float32Array
    const dgv = backend.typedArrayFromHeap(dgOut) as Float32Array
    const dbv = backend.typedArrayFromHeap(dbOut) as Float32Array
    const kv = backend.typedArrayFromHeap(k) as Float32Array
    for (let c = 0; c < C; c++) {
      const r = 1 / Math.sqrt(vv[c]! + attrs.eps)
      const db = sums[2 * c]!
      const dg = r * sums[2 * c + 1]!
      dbv[c] = db
      dgv[c] = dg
      const a = gv[c]! * r
      kv[c] = a
      kv[C + c] = rows ? (-a * r * dg) / rows : 0
      kv[2 * C + c] = rows ? db / rows : 0
    }
    nativeBnGradApply(backend, { dy: t.dy, x: t.x, y: t.y, mean: t.mean, k, dx: dxOut }, rows, C, attrs.relu)
  } finally {
    backend.disposeData(acc.dataId)
    backend.disposeData(k.dataId)
  }
}

export const batchNormTrainConfig: KernelConfig = {
  kernelName: BATCH_NORM_TRAIN,
  backendName: BACKEND,
  kernelFunc: batchNormTrainKernel as unknown as KernelFunc
}

export const batchNormTrainGradConfig: KernelConfig = {
  kernelName: BATCH_NORM_TRAIN_GRAD,
  backendName: BACKEND,
  kernelFunc: batchNormTrainGradKernel as unknown as KernelFunc
}

/** Gradient of BatchNormTrain: one BatchNormTrainGrad call gives dx, dgamma and dbeta. */
export const batchNormTrainGradConfigGrad: GradConfig = {
  kernelName: BATCH_NORM_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [true, true, true],
  gradFunc: (dys: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as Tensor
    const [x, gamma, y, mean, variance] = saved as [Tensor, Tensor, Tensor, Tensor, Tensor]
    // The mean and variance outputs feed only running statistics, outside the loss: their dys are ignored.
    const [dx, dgamma, dbeta] = engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, x, y, mean, variance, gamma }, attrs) as Tensor[]
    return { x: () => dx!, gamma: () => dgamma!, beta: () => dbeta! }
  }
}

let gradRegistered = false
/** Registers the gradient (backend-independent in tfjs); idempotent. */
export function registerBatchNormTrainGradient(): void {
  if (gradRegistered) return
  registerGradient(batchNormTrainGradConfigGrad)
  gradRegistered = true
}

const fusedEnv = typeof process === 'undefined' ? undefined : process.env.QUARTERTURN_WASM_FUSED
/** QUARTERTURN_WASM_FUSED=none turns the fused kernels off, or a list keeps some: bn,sgd. */
let disabled = fusedEnv != null && !fusedEnv.split(',').includes('bn')
/** Turns the fused BatchNorm off (callers then use their composite), for benchmarks and tests. */
export function setFusedBatchNormDisabled(off: boolean): void {
  disabled = off
}

/**
 * Training-mode BatchNorm over the last axis, ReLU after it when `relu`, as one kernel with its own
 * gradient — or null when the current backend has no such kernel (or it is turned off): the caller
 * then uses its composite. Returns y and the batch mean and biased variance ([C] each).
 */
export function batchNormTrain(x: Tensor, gamma: Tensor, beta: Tensor, eps: number, relu: boolean): { y: Tensor; mean: Tensor; variance: Tensor } | null {
  if (disabled || x.dtype !== 'float32' || getBackend() !== BACKEND || getKernel(BATCH_NORM_TRAIN, BACKEND) == null) return null
  registerBatchNormTrainGradient()
  const [y, mean, variance] = engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { eps, relu } as unknown as NamedAttrMap) as Tensor[]
  return { y: y!, mean: mean!, variance: variance! }
}
