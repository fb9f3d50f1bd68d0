// Tile for the wasm backend. The stock kernel computes every output element's source index in a
// scalar C++ loop (~100+ ns per element); tfjs's batchNorm gradient tiles a [1,1,1,C] tensor to
// the activation's full size for every BN layer, so in a conv+BN network it costs as much as the
// convolutions. Here the output is built from block copies (TypedArray.set / copyWithin).
import { type KernelConfig, type KernelFunc, type TensorInfo, type TileAttrs, util } from '@tensorflow/tfjs-core'
import { BACKEND, runKernel, type WasmBackend } from './util'

type Args = { inputs: Record<string, TensorInfo | undefined>; attrs: TileAttrs; backend: WasmBackend }

export function tile(args: Args): TensorInfo {
  const { inputs, attrs, backend } = args
  const x = inputs.x as TensorInfo
  const reps = attrs.reps
  if (x.dtype === 'string' || x.dtype === 'complex64') {
    return runKernel('Tile', backend, { x }, attrs as unknown as Record<string, unknown>)
  }
  const rank = x.shape.length
  util.assert(reps.length === rank, () => `Error in tile: reps.length (${reps.length}) must match the rank of x (${rank}).`)
  const outShape = x.shape.map((d, i) => d * (reps[i] as number))
  const out = backend.makeOutput(outShape, x.dtype)
  if (util.sizeFromShape(outShape) === 0) return out
  // Views only after the allocation, which may have grown (and detached) the heap.
  const o = backend.typedArrayFromHeap(out)
  const v = backend.typedArrayFromHeap(x)
  if (rank === 0) {
    o.set(v)
    return out
  }
  // outBlock[k] / inBlock[k]: elements in one step of dimension k-1 (sizes of dims k.. of out / x).
  const outBlock = new Array<number>(rank + 1).fill(1)
  const inBlock = new Array<number>(rank + 1).fill(1)
  for (let k = rank - 1; k >= 0; k--) {
    outBlock[k] = (outBlock[k + 1] as number) * (outShape[k] as number)
    inBlock[k] = (inBlock[k + 1] as number) * (x.shape[k] as number)
  }
  // Writes out's sub-block for dims k.. at outOff from x's at inOff: the x rows first, then the
  // first (untiled) chunk is repeated reps[k] times by doubling copies.
  const fill = (k: number, outOff: number, inOff: number): void => {
    const d = x.shape[k] as number
    const ob = outBlock[k + 1] as number
    if (k === rank - 1) {
      o.set(v.subarray(inOff, inOff + d), outOff)
    } else {
      const ib = inBlock[k + 1] as number
      for (let p = 0; p < d; p++) fill(k + 1, outOff + p * ob, inOff + p * ib)
    }
    const chunk = d * ob
    const total = chunk * (reps[k] as number)
    for (let filled = chunk; filled < total;) {
      const n = Math.min(filled, total - filled)
      o.copyWithin(outOff + filled, outOff, outOff + n)
      filled += n
    }
  }
  fill(0, 0, 0)
  return out
}

export const tileConfig: KernelConfig = {
  kernelName: 'Tile',
  backendName: BACKEND,
  kernelFunc: tile as unknown as KernelFunc
}
