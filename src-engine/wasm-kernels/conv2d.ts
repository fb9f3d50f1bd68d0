// Conv2D for the wasm backend on the native kernel (native/gemm.c: im2col blocks x packed filter
// panels, blocked so that operands stay in cache) where it applies: NHWC, float32, dilation 1, at
// least 8 input channels. Anything else, or when the native module is unavailable, goes to the
// stock XNNPACK kernel. (With 3 input channels — an RGB stem — gathering the im2col rows costs
// more than XNNPACK loses: 2.3x slower at alexnet64's conv1 with 16 filters, even with 64.)
import { backend_util, type Conv2DAttrs, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core'
import { nativeConv2D, nativeConvAvailable } from './native-gemm'
import { BACKEND, pair, runKernel, type WasmBackend } from './util'

export function conv2D(args: { inputs: Record<string, TensorInfo | undefined>; attrs: Conv2DAttrs; backend: WasmBackend }): TensorInfo {
  const { inputs, attrs, backend } = args
  const x = inputs.x as TensorInfo
  const filter = inputs.filter as TensorInfo
  const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs
  const [dh, dw] = pair(dilations)
  const plain =
    (dataFormat == null || dataFormat === 'NHWC') &&
    dh === 1 &&
    dw === 1 &&
    x.dtype === 'float32' &&
    filter.dtype === 'float32' &&
    (filter.shape[2] as number) >= 8
  if (!plain || !nativeConvAvailable(backend)) {
    return runKernel('Conv2D', backend, { x, filter }, attrs as unknown as Record<string, unknown>)
  }
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast'
  )
  const y = backend.makeOutput(info.outShape, 'float32')
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Cin, outHeight: oH, outWidth: oW, outChannels: Cout, filterHeight: kh, filterWidth: kw } = info
  nativeConv2D(backend, x, filter, y, {
    B,
    H,
    W,
    Cin,
    oH,
    oW,
    Cout,
    kh,
    kw,
    sh: info.strideHeight,
    sw: info.strideWidth,
    top: info.padInfo.top,
    left: info.padInfo.left
  })
  return y
}

export const conv2DConfig: KernelConfig = {
  kernelName: 'Conv2D',
  backendName: BACKEND,
  kernelFunc: conv2D as unknown as KernelFunc
}
