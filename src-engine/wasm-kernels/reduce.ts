// Sum and Mean over leading axes for the wasm backend. The stock kernels first transpose the whole
// tensor so the reduced axes come last, then reduce, both in single-threaded scalar C++ loops.
// Training reduces NHWC activations over [0, 1, 2] everywhere (BatchNorm statistics and their
// gradients, every bias gradient): about 16% of a conv+BN training step went there. A reduction
// over a prefix of the axes needs no transpose: out[c] = sum over rows m of x[m * C + c], one pass
// over the heap in row order with float64 accumulators. Other axis sets and non-float32 tensors
// go to the stock kernels.
import { type KernelConfig, type KernelFunc, type MeanAttrs, type SumAttrs, type TensorInfo, util } from '@tensorflow/tfjs-core'
import { BACKEND, runKernel, type WasmBackend } from './util'

type Args = { inputs: Record<string, TensorInfo | undefined>; attrs: SumAttrs | MeanAttrs; backend: WasmBackend }

/** The number of leading axes reduced when `axis` is exactly [0, 1, ..., k-1] (any order), else 0. */
export function leadingAxes(axis: number | number[], rank: number): number {
  const axes = [...new Set((Array.isArray(axis) ? axis : [axis]).map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b)
  if (!axes.length || axes.some((a, i) => a !== i)) return 0
  return axes.length
}

function reduceLeading(kernelName: 'Sum' | 'Mean', args: Args): TensorInfo {
  const { inputs, attrs, backend } = args
  const x = inputs.x as TensorInfo
  const rank = x.shape.length
  const k = rank === 0 ? 0 : leadingAxes(attrs.axis, rank)
  if (x.dtype !== 'float32' || k === 0) return runKernel(kernelName, backend, { x }, attrs as unknown as Record<string, unknown>)
  const rows = util.sizeFromShape(x.shape.slice(0, k))
  const cols = util.sizeFromShape(x.shape.slice(k))
  const outShape = attrs.keepDims ? x.shape.map((d, i) => (i < k ? 1 : d)) : x.shape.slice(k)
  const out = backend.makeOutput(outShape, 'float32')
  // Views only after the allocation, which may have grown (and detached) the heap.
  const o = backend.typedArrayFromHeap(out) as Float32Array
  const v = backend.typedArrayFromHeap(x) as Float32Array
  const acc = new Float64Array(cols)
  // Eight rows per pass: one load and store of the accumulator per eight elements.
  let m = 0
  for (; m + 8 <= rows; m += 8) {
    const o0 = m * cols
    const o1 = o0 + cols
    const o2 = o1 + cols
    const o3 = o2 + cols
    const o4 = o3 + cols
    const o5 = o4 + cols
    const o6 = o5 + cols
    const o7 = o6 + cols
    for (let c = 0; c < cols; c++) acc[c]! += v[o0 + c]! + v[o1 + c]! + v[o2 + c]! + v[o3 + c]! + (v[o4 + c]! + v[o5 + c]! + v[o6 + c]! + v[o7 + c]!)
  }
  for (; m < rows; m++) {
    const off = m * cols
    for (let c = 0; c < cols; c++) acc[c]! += v[off + c]!
  }
  // (The mean of no rows is 0, as the cpu backend gives.)
  const scale = kernelName === 'Mean' ? (rows ? 1 / rows : 0) : 1
  for (let c = 0; c < cols; c++) o[c] = acc[c]! * scale
  return out
}

export const sum = (args: Args): TensorInfo => reduceLeading('Sum', args)
export const mean = (args: Args): TensorInfo => reduceLeading('Mean', args)

export const sumConfig: KernelConfig = { kernelName: 'Sum', backendName: BACKEND, kernelFunc: sum as unknown as KernelFunc }
export const meanConfig: KernelConfig = { kernelName: 'Mean', backendName: BACKEND, kernelFunc: mean as unknown as KernelFunc }
