// DepthwiseConv2dNativeBackpropFilter / ...BackpropInput for the wasm backend (which has neither),
// each reduced to one call of the backend's XNNPACK DepthwiseConv2dNative plus layout work.
import {
  backend_util,
  type DepthwiseConv2dNativeBackpropFilterAttrs,
  type DepthwiseConv2dNativeBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo
} from '@tensorflow/tfjs-core'
import { backpropInputByPhases, filterGradInput, slice4d } from './conv2d-backprop'
import { assertFloat32, BACKEND, pair, type Scope, type WasmBackend, withScope } from './util'

type Args<A> = { inputs: Record<string, TensorInfo | undefined>; attrs: A; backend: WasmBackend }

function assertNoDilation(kernel: string, dilations: number | [number, number] | undefined): void {
  const [dh, dw] = pair(dilations)
  if (dh !== 1 || dw !== 1) throw new Error(`wasm-kernels: ${kernel} supports dilations 1 only, got [${dh}, ${dw}]`)
}

/**
 * dW[ky,kx,c,m] = sum_{b,oy,ox} x[b, oy*sh+ky-top, ox*sw+kx-left, c] * dy[b,oy,ox,c*M+m]
 *
 * One depthwise convolution of x seen as [1, H, W, B*C] with dy seen as a [oH, oW, B*C, M] filter
 * dilated by the stride gives [1, kh, kw, B*C*M]; a sum over B finishes it.
 */
export function depthwiseConv2dNativeBackpropFilter(args: Args<DepthwiseConv2dNativeBackpropFilterAttrs>): TensorInfo {
  const { inputs, attrs, backend } = args
  const x = inputs.x as TensorInfo
  const dy = inputs.dy as TensorInfo
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs
  assertNoDilation('DepthwiseConv2dNativeBackpropFilter', dilations)
  assertFloat32('DepthwiseConv2dNativeBackpropFilter', x, dy)
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, true, 'channelsLast')
  const { batchSize: B, inChannels: C, outHeight: oH, outWidth: oW, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info
  const M = filterShape[3]
  return withScope(backend, (s) => {
    const { xin, H, W, pad } = filterGradInput(s, x, info)
    const xt = s.reshape(s.transpose(xin, [1, 2, 0, 3]), [1, H, W, B * C])
    const dyt = s.reshape(s.transpose(dy, [1, 2, 0, 3]), [oH, oW, B * C, M])
    const conv = s.run(
      'DepthwiseConv2dNative',
      { x: xt, filter: dyt },
      {
        strides: [1, 1],
        dilations: [sh, sw],
        pad,
        dimRoundingMode: undefined
      }
    )
    const outH = conv.shape[1] as number
    const outW = conv.shape[2] as number
    const cut = slice4d(s, s.reshape(conv, [outH, outW, B, C * M]), [0, 0, 0, 0], [kh, kw, B, C * M])
    return sumOverBatch(s, cut, [kh, kw, C, M])
  })
}

/** [kh, kw, B, C*M] summed over B, shaped `shape`. */
function sumOverBatch(s: Scope, t: TensorInfo, shape: number[]): TensorInfo {
  const [kh = 0, kw = 0, B = 0, CM = 0] = t.shape
  const out = s.make(shape)
  const o = s.f32(out)
  const v = s.f32(t)
  for (let p = 0; p < kh * kw; p++) {
    const dst = p * CM
    let src = p * B * CM
    for (let j = 0; j < CM; j++) o[dst + j] = v[src + j] as number
    for (let b = 1; b < B; b++) {
      src += CM
      for (let j = 0; j < CM; j++) o[dst + j] = (o[dst + j] as number) + (v[src + j] as number)
    }
  }
  return out
}

/** [B, H, W, C*M] summed over groups of M adjacent channels -> [B, H, W, C]. */
function sumChannelGroups(s: Scope, t: TensorInfo, M: number): TensorInfo {
  if (M === 1) return t
  const [B = 0, H = 0, W = 0, CM = 0] = t.shape
  const C = CM / M
  const out = s.make([B, H, W, C])
  const o = s.f32(out)
  const v = s.f32(t)
  const n = B * H * W * C
  for (let i = 0, src = 0; i < n; i++) {
    let acc = 0
    for (let m = 0; m < M; m++) acc += v[src++] as number
    o[i] = acc
  }
  return out
}

/**
 * dX[b,y,x,c] = sum_m (transposed convolution of dy[..., c*M+m] with filter[..., c, m]): per stride
 * phase one depthwise convolution with multiplier 1 over the C*M channels (see
 * backpropInputByPhases), then a sum over each group of M channels.
 */
export function depthwiseConv2dNativeBackpropInput(args: Args<DepthwiseConv2dNativeBackpropInputAttrs>): TensorInfo {
  const { inputs, attrs, backend } = args
  const dy = inputs.dy as TensorInfo
  const filter = inputs.filter as TensorInfo
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs
  assertNoDilation('DepthwiseConv2dNativeBackpropInput', dilations)
  assertFloat32('DepthwiseConv2dNativeBackpropInput', dy, filter)
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    true,
    'channelsLast'
  )
  const { batchSize: B, inHeight: H, inWidth: W } = info
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info
  const M = filter.shape[3] as number
  const CM = (filter.shape[2] as number) * M
  return withScope(backend, (s) => {
    const conv = backpropInputByPhases(
      s,
      'DepthwiseConv2dNative',
      dy,
      [B, H, W, CM],
      [kh, kw],
      [sh, sw],
      [info.padInfo.top, info.padInfo.left],
      (sc, [ry, rx], [njy, njx]) => {
        // Sub-filter [njy, njx, C*M, 1]: taps ry + (njy-1-j)*sh, flipped; multiplier 1 per (c, m).
        const out = sc.make([njy, njx, CM, 1])
        const o = sc.f32(out)
        const f = sc.f32(filter)
        for (let jy = 0; jy < njy; jy++) {
          const ky = ry + (njy - 1 - jy) * sh
          for (let jx = 0; jx < njx; jx++) {
            const src = (ky * kw + rx + (njx - 1 - jx) * sw) * CM
            o.set(f.subarray(src, src + CM), (jy * njx + jx) * CM)
          }
        }
        return out
      }
    )
    return sumChannelGroups(s, conv, M)
  })
}

export const depthwiseConv2dNativeBackpropFilterConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropFilter',
  backendName: BACKEND,
  kernelFunc: depthwiseConv2dNativeBackpropFilter as unknown as KernelFunc
}

export const depthwiseConv2dNativeBackpropInputConfig: KernelConfig = {
  kernelName: 'DepthwiseConv2dNativeBackpropInput',
  backendName: BACKEND,
  kernelFunc: depthwiseConv2dNativeBackpropInput as unknown as KernelFunc
}
