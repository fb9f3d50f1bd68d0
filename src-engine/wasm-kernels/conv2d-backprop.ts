// Conv2DBackpropFilter and Conv2DBackpropInput for the wasm backend, each reduced to one call of
// the backend's XNNPACK Conv2D plus cheap layout work.
import {
  backend_util,
  type Conv2DAttrs,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo
} from '@tensorflow/tfjs-core'
import { conv2D } from './conv2d'
import { nativeConvFilterGrad, nativeFilterGradAvailable } from './native-gemm'
import { assertFloat32, assertNhwc, BACKEND, type Scope, type WasmBackend, withScope } from './util'

type Args<A> = { inputs: Record<string, TensorInfo | undefined>; attrs: A; backend: WasmBackend }

/** Slices a 4-D tensor when [begin, begin + size) is not the whole of it. */
export function slice4d(s: Scope, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  if (begin.every((b) => b === 0) && size.every((n, i) => n === x.shape[i])) return x
  return s.run('Slice', { x }, { begin, size })
}

/**
 * The input as a filter gradient's stride-1 convolution sees it: rows/columns cut where the
 * leading pad is negative (possible with explicit padding: those input rows are never read), and
 * the padding [top, bottom] x [left, right] around what is left. Trailing padding makes the
 * convolution yield at least kh x kw outputs (rows beyond the input are zeros); a negative value
 * means the input has rows no window reaches (sliced off from the result by the caller).
 */
export function filterGradInput(
  s: Scope,
  x: TensorInfo,
  info: backend_util.Conv2DInfo
): { xin: TensorInfo; H: number; W: number; pad: [[number, number], [number, number], [number, number], [number, number]] } {
  const { batchSize: B, inChannels: C, outHeight: oH, outWidth: oW, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info
  const cutTop = Math.max(0, -info.padInfo.top)
  const cutLeft = Math.max(0, -info.padInfo.left)
  const top = Math.max(0, info.padInfo.top)
  const left = Math.max(0, info.padInfo.left)
  const H = info.inHeight - cutTop
  const W = info.inWidth - cutLeft
  const xin = slice4d(s, x, [0, cutTop, cutLeft, 0], [B, H, W, C])
  const bottom = Math.max(0, kh + (oH - 1) * sh - H - top)
  const right = Math.max(0, kw + (oW - 1) * sw - W - left)
  return {
    xin,
    H,
    W,
    pad: [
      [0, 0],
      [top, bottom],
      [left, right],
      [0, 0]
    ]
  }
}

/**
 * dW[ky,kx,ci,co] = sum_{b,oy,ox} x[b, oy*sh+ky-top, ox*sw+kx-left, ci] * dy[b,oy,ox,co]
 *
 * is a stride-1 convolution of x seen as [Cin, H, W, B] (batch and channels swapped) with dy seen
 * as a [oH, oW, B, Cout] filter dilated by the stride: out [Cin, kh, kw, Cout], then transposed.
 */
export function conv2DBackpropFilter(args: Args<Conv2DBackpropFilterAttrs>): TensorInfo {
  const { inputs, attrs, backend } = args
  const x = inputs.x as TensorInfo
  const dy = inputs.dy as TensorInfo
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs
  assertNhwc('Conv2DBackpropFilter', dataFormat)
  assertFloat32('Conv2DBackpropFilter', x, dy)
  const info = backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast')
  const { inChannels: Cin, outChannels: Cout, strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info
  if (nativeFilterGradAvailable(backend)) {
    // Our own blocked GEMM over the im2col of x (native/gemm.c): [Cout, kh*kw*Cin], then transposed.
    return withScope(backend, (s) => {
      const dwt = s.make([Cout, kh * kw * Cin])
      const { batchSize: B, inHeight: H, inWidth: W, outHeight: oH, outWidth: oW } = info
      nativeConvFilterGrad(backend, x, dy, dwt, { B, H, W, Cin, oH, oW, Cout, kh, kw, sh, sw, top: info.padInfo.top, left: info.padInfo.left })
      return s.transpose(s.reshape(dwt, [Cout, kh, kw, Cin]), [1, 2, 3, 0])
    })
  }
  return withScope(backend, (s) => {
    const { xin, pad } = filterGradInput(s, x, info)
    const xt = s.transpose(xin, [3, 1, 2, 0])
    const dyt = s.transpose(dy, [1, 2, 0, 3])
    const conv = s.run(
      'Conv2D',
      { x: xt, filter: dyt },
      {
        strides: [1, 1],
        dilations: [sh, sw],
        pad,
        dataFormat: 'NHWC',
        dimRoundingMode: undefined
      }
    )
    const cut = slice4d(s, conv, [0, 0, 0, 0], [Cin, kh, kw, Cout])
    return s.transpose(cut, [1, 2, 0, 3])
  })
}

/**
 * dX[b,y,x,ci] = sum over (oy,ky) with oy*sh + ky = y + top (and likewise for x) of
 * dy[b,oy,ox,co] * W[ky,kx,ci,co]: a "transposed convolution", computed per stride phase.
 */
export function conv2DBackpropInput(args: Args<Conv2DBackpropInputAttrs>): TensorInfo {
  const { inputs, attrs, backend } = args
  const dy = inputs.dy as TensorInfo
  const filter = inputs.filter as TensorInfo
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs
  assertNhwc('Conv2DBackpropInput', dataFormat)
  assertFloat32('Conv2DBackpropInput', dy, filter)
  const info = backend_util.computeConv2DInfo(
    inputShape,
    filter.shape as [number, number, number, number],
    strides,
    1,
    pad,
    dimRoundingMode,
    false,
    'channelsLast'
  )
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Cin, outChannels: Cout } = info
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info
  return withScope(backend, (s) =>
    backpropInputByPhases(s, 'Conv2D', dy, [B, H, W, Cin], [kh, kw], [sh, sw], [info.padInfo.top, info.padInfo.left], (sc, [ry, rx], [njy, njx]) => {
      // Sub-filter [njy, njx, Cout, Cin]: taps ry + (njy-1-j)*sh (flipped), in/out channels swapped.
      const out = sc.make([njy, njx, Cout, Cin])
      const o = sc.f32(out)
      const f = sc.f32(filter)
      let dst = 0
      for (let jy = 0; jy < njy; jy++) {
        const ky = ry + (njy - 1 - jy) * sh
        for (let jx = 0; jx < njx; jx++) {
          const src = (ky * kw + rx + (njx - 1 - jx) * sw) * Cin * Cout
          for (let co = 0; co < Cout; co++) {
            for (let ci = 0; ci < Cin; ci++) o[dst++] = f[src + ci * Cout + co] as number
          }
        }
      }
      return out
    })
  )
}

/** The taps of one stride phase along one axis (see backpropInputByPhases). */
function phase(r: number, k: number, stride: number, pad: number, size: number, dyLen: number) {
  const taps = r < k ? Math.ceil((k - r) / stride) : 0
  const q0 = Math.ceil((pad - r) / stride) // first q with q*stride + r - pad >= 0
  const q1 = Math.floor((size - 1 + pad - r) / stride)
  const count = q1 - q0 + 1
  // Stride-1 convolution of dy with the `taps` flipped taps: output i <-> q = q0 + i.
  const before = taps - 1 - q0
  const after = count + taps - 1 - dyLen - before
  return { taps, q0, count, before, after }
}

/**
 * The output rows y with (y + top) % sh == ry only see the filter taps ky = ry, ry+sh, ... and
 * are, for y = q*sh + ry - top, a stride-1 correlation of dy with those taps flipped (likewise
 * for columns). So dX is sh*sw small stride-1 convolutions of dy itself, interleaved: the same
 * multiply-adds as the direct sum, none spent on inserted zeros. Stride 1 is a single phase.
 * `subFilter` builds the phase's filter for `kernelName`; the result has `outShape`
 * [B, H, W, channels of the convolution].
 */
export function backpropInputByPhases(
  s: Scope,
  kernelName: 'Conv2D' | 'DepthwiseConv2dNative',
  dy: TensorInfo,
  outShape: [number, number, number, number],
  [kh, kw]: [number, number],
  [sh, sw]: [number, number],
  [top, left]: [number, number],
  subFilter: (s: Scope, r: [number, number], taps: [number, number]) => TensorInfo
): TensorInfo {
  const [B, H, W, C] = outShape
  const oH = dy.shape[1] as number
  const oW = dy.shape[2] as number
  const convolve = (sc: Scope, r: [number, number]) => {
    const py = phase(r[0], kh, sh, top, H, oH)
    const px = phase(r[1], kw, sw, left, W, oW)
    if (py.taps === 0 || px.taps === 0 || py.count <= 0 || px.count <= 0) return null
    const P = [Math.max(0, py.before), Math.max(0, py.after), Math.max(0, px.before), Math.max(0, px.after)] as const
    const inputs = { x: dy, filter: subFilter(sc, r, [py.taps, px.taps]) }
    // Conv2D through this library's kernel (native where it applies), depthwise on XNNPACK.
    const run = (attrs: Record<string, unknown>) =>
      kernelName === 'Conv2D' ? sc.track(conv2D({ inputs, attrs: attrs as unknown as Conv2DAttrs, backend: sc.backend })) : sc.run(kernelName, inputs, attrs)
    const conv = run({
      strides: [1, 1],
      dilations: [1, 1],
      pad: [
        [0, 0],
        [P[0], P[1]],
        [P[2], P[3]],
        [0, 0]
      ],
      dataFormat: 'NHWC',
      dimRoundingMode: undefined
    })
    return { conv, py, px, offY: P[0] - py.before, offX: P[2] - px.before }
  }

  if (sh === 1 && sw === 1) {
    const res = convolve(s, [0, 0])
    if (res == null) return zeros(s, outShape)
    return slice4d(s, res.conv, [0, res.offY, res.offX, 0], outShape)
  }

  const out = zeros(s, outShape)
  for (let ry = 0; ry < sh; ry++) {
    for (let rx = 0; rx < sw; rx++) {
      withScope(s.backend, (sc) => {
        const res = convolve(sc, [ry, rx])
        if (res == null) return out
        const { conv, py, px, offY, offX } = res
        const Hc = conv.shape[1] as number
        const Wc = conv.shape[2] as number
        const o = sc.f32(out)
        const c = sc.f32(conv)
        for (let b = 0; b < B; b++) {
          for (let i = 0; i < py.count; i++) {
            const y = (py.q0 + i) * sh + ry - top
            let src = ((b * Hc + i + offY) * Wc + offX) * C
            let dst = ((b * H + y) * W + (px.q0 * sw + rx - left)) * C
            for (let j = 0; j < px.count; j++, src += C, dst += sw * C) {
              if (C >= 32) o.set(c.subarray(src, src + C), dst)
              else for (let k = 0; k < C; k++) o[dst + k] = c[src + k] as number
            }
          }
        }
        return out // untracked by sc: the phase's filter and convolution are freed
      })
    }
  }
  return out
}

function zeros(s: Scope, shape: number[]): TensorInfo {
  const out = s.make(shape)
  s.f32(out).fill(0)
  return out
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: BACKEND,
  kernelFunc: conv2DBackpropFilter as unknown as KernelFunc
}

export const conv2DBackpropInputConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropInput',
  backendName: BACKEND,
  kernelFunc: conv2DBackpropInput as unknown as KernelFunc
}
