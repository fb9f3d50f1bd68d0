// One SGD-with-momentum update of a parameter as a single wasm kernel (PyTorch semantics):
//   g <- g + wd·p;  buf <- m·buf + g (the first step: buf <- g);  step = nesterov ? g + m·buf : buf;
//   p <- p - lr·step.
// Written with tfjs ops that is up to seven elementwise kernels per parameter (each allocating and
// passing over it); here it is one SIMD pass (native/gemm.c sgd_step, split between the threads),
// 4-5x faster than the ops at width 0.25 and 1. Every intermediate is rounded to float32 in the order
// the ops round it (wasm has no fused multiply-add), so the result is bit-identical to the op
// sequence. The kernel's JS loop (Math.fround at each step; used only when the kernel is called
// without the native module) is about 2x slower than the ops, so `sgdStep` declines then.
import {
  backend,
  engine,
  getBackend,
  getKernel,
  type KernelConfig,
  type KernelFunc,
  type NamedAttrMap,
  type Tensor,
  type TensorInfo
} from '@tensorflow/tfjs-core'
import { nativeSgdAvailable, nativeSgdStep } from './native-gemm'
import { BACKEND, type WasmBackend } from './util'

export const SGD_STEP = 'SgdMomentumStep'

interface Attrs {
  lr: number
  momentum: number
  nesterov: boolean
  weightDecay: number
}

type Args = { inputs: Record<string, TensorInfo | undefined>; attrs: Attrs; backend: WasmBackend }

/** p, g[, buf] -> new p, new buf (buf absent: the first step, which starts the buffer from g). */
export function sgdStepKernel(args: Args): TensorInfo[] {
  const { inputs, attrs, backend } = args
  const { p, g, buf } = inputs
  for (const t of [p, g, buf]) if (t != null && t.dtype !== 'float32') throw new Error(`wasm-kernels: ${SGD_STEP} needs float32 tensors, got ${t.dtype}`)
  if (p == null || g == null) throw new Error(`wasm-kernels: ${SGD_STEP} needs p and g`)
  const n = p.shape.reduce((a, b) => a * b, 1)
  const same = (t: TensorInfo): boolean => t.shape.length === p.shape.length && t.shape.every((d, i) => d === p.shape[i])
  if (!same(g) || (buf != null && !same(buf)))
    throw new Error(`wasm-kernels: ${SGD_STEP}: p, g and buf must have one shape, got [${p.shape}], [${g.shape}], [${buf?.shape}]`)
  const pOut = backend.makeOutput(p.shape, 'float32')
  const bOut = backend.makeOutput(p.shape, 'float32')
  if (nativeSgdAvailable(backend)) {
    nativeSgdStep(backend, { p, g, buf: buf ?? null, pOut, bOut }, n, attrs)
    return [pOut, bOut]
  }
  const pv = backend.typedArrayFromHeap(p) as Float32Array
  const gv = backend.typedArrayFromHeap(g) as Float32Array
  const bv = buf != null ? (backend.typedArrayFromHeap(buf) as Float32Array) : null
  const po = backend.typedArrayFromHeap(pOut) as Float32Array
  const bo = backend.typedArrayFromHeap(bOut) as Float32Array
  const f = Math.fround
  const lr = f(attrs.lr)
  const m = f(attrs.momentum)
  const wd = f(attrs.weightDecay)
  const nesterov = attrs.nesterov
  for (let i = 0; i < n; i++) {
    const pi = pv[i]!
    const gi = wd > 0 ? f(gv[i]! + f(pi * wd)) : gv[i]!
    const b = bv != null ? f(f(bv[i]! * m) + gi) : gi
    bo[i] = b
    const step = nesterov ? f(gi + f(b * m)) : b
    po[i] = pi - f(step * lr)
  }
  return [pOut, bOut]
}

export const sgdStepConfig: KernelConfig = { kernelName: SGD_STEP, backendName: BACKEND, kernelFunc: sgdStepKernel as unknown as KernelFunc }

const fusedEnv = typeof process === 'undefined' ? undefined : process.env.QUARTERTURN_WASM_FUSED
/** QUARTERTURN_WASM_FUSED=none turns the fused kernels off, or a list keeps some: bn,sgd. */
let disabled = fusedEnv != null && !fusedEnv.split(',').includes('sgd')
/** Turns the fused SGD step off (callers then use their op sequence), for benchmarks and tests. */
export function setFusedSgdDisabled(off: boolean): void {
  disabled = off
}

/**
 * One SGD update of p with momentum m > 0 (buf null on the first step), or null when the current
 * backend has no such kernel (or it is turned off): the caller then uses its op sequence.
 */
export function sgdStep(p: Tensor, g: Tensor, buf: Tensor | null, attrs: Attrs): { p: Tensor; buf: Tensor } | null {
  if (disabled || p.dtype !== 'float32' || g.dtype !== 'float32' || getBackend() !== BACKEND || getKernel(SGD_STEP, BACKEND) == null) return null
  if (!nativeSgdAvailable(backend() as WasmBackend)) return null
  const inputs: Record<string, Tensor> = buf != null ? { p, g, buf } : { p, g }
  const [np, nb] = engine().runKernel(SGD_STEP, inputs, attrs as unknown as NamedAttrMap) as Tensor[]
  return { p: np!, buf: nb! }
}
