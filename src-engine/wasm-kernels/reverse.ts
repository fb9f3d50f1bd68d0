// Reverse for the wasm backend. The stock kernel computes every element's source index in a
// scalar C++ loop (~35 ns per element); the rotations of a training batch (src-engine/data/rotate.ts:
// three reversals of the whole [4B, 64, 64, 3] input per step) cost ~90 ms a step at batch 64, as
// much as a convolution. Here each run of elements below the last reversed axis is copied as a
// block, in one pass over the output.
import { type KernelConfig, type KernelFunc, type ReverseAttrs, type TensorInfo, util } from '@tensorflow/tfjs-core'
import { BACKEND, runKernel, type WasmBackend } from './util'

type Args = { inputs: Record<string, TensorInfo | undefined>; attrs: ReverseAttrs; backend: WasmBackend }

export function reverse(args: Args): TensorInfo {
  const { inputs, attrs, backend } = args
  const x = inputs.x as TensorInfo
  if (x.dtype === 'string' || x.dtype === 'complex64') {
    return runKernel('Reverse', backend, { x }, attrs as unknown as Record<string, unknown>)
  }
  const axes = new Set(util.parseAxisParam(attrs.dims, x.shape).filter((a) => (x.shape[a] as number) > 1))
  const out = backend.makeOutput([...x.shape], x.dtype)
  const size = util.sizeFromShape(x.shape)
  if (size === 0) return out
  // Views only after the allocation, which may have grown (and detached) the heap.
  const o = backend.typedArrayFromHeap(out)
  const v = backend.typedArrayFromHeap(x)
  if (axes.size === 0) {
    o.set(v)
    return out
  }
  const last = Math.max(...axes)
  // Elements below the last reversed axis are copied as one run; above it, an odometer over dims 0..last.
  const run = util.sizeFromShape(x.shape.slice(last + 1))
  const dims = x.shape.slice(0, last + 1) as number[]
  const strides = new Array<number>(last + 1)
  for (let k = last, s = run; k >= 0; k--) {
    strides[k] = s
    s *= dims[k] as number
  }
  const idx = new Array<number>(last + 1).fill(0)
  // Source offset of the current output run: reversed axes start at their far end.
  let src = 0
  for (let k = 0; k <= last; k++) if (axes.has(k)) src += ((dims[k] as number) - 1) * (strides[k] as number)
  const step = strides.map((s, k) => (axes.has(k) ? -s : s))
  const runs = size / run
  for (let r = 0, dst = 0; r < runs; r++, dst += run) {
    if (run === 1) o[dst] = v[src] as number
    else if (run <= 16) for (let i = 0; i < run; i++) o[dst + i] = v[src + i] as number
    else o.set(v.subarray(src, src + run), dst)
    // Advance the odometer over dims 0..last and move the source offset with it.
    for (let k = last; k >= 0; k--) {
      const d = dims[k] as number
      src += step[k] as number
      const next = (idx[k] as number) + 1
      if (next < d) {
        idx[k] = next
        break
      }
      idx[k] = 0
      src -= d * (step[k] as number)
    }
  }
  return out
}

export const reverseConfig: KernelConfig = {
  kernelName: 'Reverse',
  backendName: BACKEND,
  kernelFunc: reverse as unknown as KernelFunc
}
