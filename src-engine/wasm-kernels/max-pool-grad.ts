// MaxPoolGrad for the wasm backend: one pass over the heap in native SIMD (native/gemm.c maxpool_grad,
// four channels at a time, images split between the threads), or, without the native module, the
// same loop in JS over Float32Array views of the wasm heap.
import { backend_util, type KernelConfig, type KernelFunc, type MaxPoolGradAttrs, type TensorInfo } from '@tensorflow/tfjs-core'
import { nativeMaxPoolGrad, nativeMaxPoolGradAvailable } from './native-gemm'
import { BACKEND, runKernel, stockKernel, type WasmBackend } from './util'

type Args = { inputs: Record<string, TensorInfo | undefined>; attrs: MaxPoolGradAttrs; backend: WasmBackend }

/**
 * dx[p] = sum of dy over the pooling windows whose maximum sits at p. Like the cpu backend (and
 * TensorFlow), a window routes its gradient to its FIRST maximum in row-major order (strictly
 * greater wins), so ties such as the zeros after a ReLU give the same result as on cpu.
 */
export function maxPoolGrad(args: Args): TensorInfo {
  const { inputs, attrs, backend } = args
  const dy = inputs.dy as TensorInfo
  const input = inputs.input as TensorInfo
  if (dy.dtype !== 'float32' || input.dtype !== 'float32') {
    const stock = stockKernel('MaxPoolGrad')
    if (stock != null) return runKernel('MaxPoolGrad', backend, inputs as Record<string, TensorInfo>, attrs as unknown as Record<string, unknown>)
    throw new Error('wasm-kernels: MaxPoolGrad supports float32 tensors only')
  }
  const { filterSize, strides, pad, dimRoundingMode } = attrs
  const info = backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode)
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: C, outHeight: oH, outWidth: oW } = info
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info
  const top = info.padInfo.top
  const left = info.padInfo.left

  const out = backend.makeOutput(input.shape, 'float32')
  if (nativeMaxPoolGradAvailable(backend)) {
    nativeMaxPoolGrad(backend, { x: input, dy, dx: out }, { B, H, W, C, oH, oW, fh, fw, sh, sw, top, left })
    return out
  }
  // Views only after the allocation, which may have grown (and detached) the heap.
  const dx = backend.typedArrayFromHeap(out) as Float32Array
  const x = backend.typedArrayFromHeap(input) as Float32Array
  const g = backend.typedArrayFromHeap(dy) as Float32Array
  dx.fill(0)
  const best = new Float32Array(C)
  const where = new Int32Array(C)
  const rowStride = W * C
  let gi = 0
  for (let b = 0; b < B; b++) {
    const plane = b * H * rowStride
    for (let oy = 0; oy < oH; oy++) {
      const y0 = oy * sh - top
      const yMin = Math.max(0, y0)
      const yMax = Math.min(H, y0 + fh)
      for (let ox = 0; ox < oW; ox++) {
        const x0 = ox * sw - left
        const xMin = Math.max(0, x0)
        const xMax = Math.min(W, x0 + fw)
        best.fill(-Infinity)
        where.fill(-1)
        for (let y = yMin; y < yMax; y++) {
          let p = plane + y * rowStride + xMin * C
          for (let xx = xMin; xx < xMax; xx++) {
            for (let c = 0; c < C; c++, p++) {
              const v = x[p] as number
              if (v > (best[c] as number)) {
                best[c] = v
                where[c] = p
              }
            }
          }
        }
        for (let c = 0; c < C; c++, gi++) {
          const p = where[c] as number
          if (p >= 0) dx[p] = (dx[p] as number) + (g[gi] as number)
        }
      }
    }
  }
  return out
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: BACKEND,
  kernelFunc: maxPoolGrad as unknown as KernelFunc
}
