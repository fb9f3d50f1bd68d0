// UnsortedSegmentSum for the wasm backend, which has none; tfjs's gradient of tf.gather (e.g. an
// embedding lookup) needs it. A JS scatter-add of rows over heap views.
import { type KernelConfig, type KernelFunc, type TensorInfo, type UnsortedSegmentSumAttrs, util } from '@tensorflow/tfjs-core'
import { BACKEND, type WasmBackend } from './util'

type Args = { inputs: Record<string, TensorInfo | undefined>; attrs: UnsortedSegmentSumAttrs; backend: WasmBackend }

/** out[s, ...] = sum of x[i, ...] over the i with segmentIds[i] == s; ids outside [0, numSegments) are dropped. */
export function unsortedSegmentSum(args: Args): TensorInfo {
  const { inputs, attrs, backend } = args
  const x = inputs.x as TensorInfo
  const ids = inputs.segmentIds as TensorInfo
  const { numSegments } = attrs
  if (x.dtype !== 'float32' && x.dtype !== 'int32') {
    throw new Error(`wasm-kernels: UnsortedSegmentSum supports float32 and int32 tensors, got ${x.dtype}`)
  }
  if (ids.shape.length !== 1 || ids.shape[0] !== x.shape[0]) {
    throw new Error(`wasm-kernels: UnsortedSegmentSum needs 1-D segmentIds of length x.shape[0]; got ${ids.shape} for x ${x.shape}`)
  }
  const rows = x.shape[0] as number
  const inner = util.sizeFromShape(x.shape.slice(1))
  const acc = new Float64Array(numSegments * inner)
  const out = backend.makeOutput([numSegments, ...x.shape.slice(1)], x.dtype)
  // Views only after the allocation, which may have grown (and detached) the heap.
  const o = backend.typedArrayFromHeap(out)
  const v = backend.typedArrayFromHeap(x)
  const s = backend.typedArrayFromHeap(ids)
  for (let i = 0; i < rows; i++) {
    const seg = s[i] as number
    if (seg < 0 || seg >= numSegments) continue
    const dst = seg * inner
    const src = i * inner
    for (let j = 0; j < inner; j++) acc[dst + j] = (acc[dst + j] as number) + (v[src + j] as number)
  }
  o.set(acc)
  return out
}

export const unsortedSegmentSumConfig: KernelConfig = {
  kernelName: 'UnsortedSegmentSum',
  backendName: BACKEND,
  kernelFunc: unsortedSegmentSum as unknown as KernelFunc
}
