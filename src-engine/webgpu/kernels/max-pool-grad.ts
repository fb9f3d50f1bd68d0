// MaxPoolGrad for the webgpu backend, with the cpu backend's tie rule. tfjs-backend-webgpu 4.22
// records the LAST maximum of each pooling window (`value >= max`), while the cpu backend, the
// wasm kernel (src-engine/wasm-kernels/max-pool-grad.ts), TensorFlow and PyTorch route a window's
// gradient to its FIRST maximum in row-major order. Flat image regions (the sample dataset's
// shapes, saturated pixels) produce exact ties, and with the last-max rule a window at the
// border sends its gradient to another pixel whose patch holds padding: conv1's weight gradient
// then differs from cpu by about 1e-2 relative. Two passes: the first maximum's offset in each
// window, then each input pixel gathers dy from the windows that chose it.
import { backend_util, type KernelConfig, type MaxPoolGradAttrs, type TensorInfo } from '@tensorflow/tfjs-core'
import { flatProgram as program, type ProgramBackend as Backend } from './program'

/** Offset (wR * effectiveFilterWidth + wC) of each window's first maximum. */
const FIRST_MAX_POSITIONS = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let coords = getCoordsFromIndex(index);
      let b = coords[0];
      let d = coords[3];
      let r0 = coords[1] * uniforms.strides.x - uniforms.pads.x;
      let c0 = coords[2] * uniforms.strides.y - uniforms.pads.y;
      var best = 0.0;
      var found = false;
      var pos = 0;
      for (var wR = 0; wR < uniforms.filterDims.x; wR += uniforms.dilations.x) {
        let xR = r0 + wR;
        if (xR < 0 || xR >= uniforms.inDims.x) { continue; }
        for (var wC = 0; wC < uniforms.filterDims.y; wC += uniforms.dilations.y) {
          let xC = c0 + wC;
          if (xC < 0 || xC >= uniforms.inDims.y) { continue; }
          let v = getX(b, xR, xC, d);
          if (!found || v > best) {
            best = v;
            found = true;
            pos = wR * uniforms.filterDims.y + wC;
          }
        }
      }
      setOutputAtIndexI32(index, pos);
    }
  }
`

/** dx at each input pixel: the sum of dy over the windows whose first maximum is this pixel. */
const GATHER = `
  fn main(index : i32) {
    if (index < uniforms.size) {
      let coords = getCoordsFromIndex(index);
      let b = coords[0];
      let d = coords[3];
      // Position in the padded input; window y covers [y * stride, y * stride + filter).
      let r = coords[1] + uniforms.pads.x;
      let c = coords[2] + uniforms.pads.y;
      let rLo = select(0, (r - uniforms.filterDims.x) / uniforms.strides.x + 1, r >= uniforms.filterDims.x);
      let cLo = select(0, (c - uniforms.filterDims.y) / uniforms.strides.y + 1, c >= uniforms.filterDims.y);
      let rHi = min(r / uniforms.strides.x, uniforms.outDims.x - 1);
      let cHi = min(c / uniforms.strides.y, uniforms.outDims.y - 1);
      var acc = 0.0;
      for (var yR = rLo; yR <= rHi; yR++) {
        let wR = r - yR * uniforms.strides.x;
        for (var yC = cLo; yC <= cHi; yC++) {
          let wC = c - yC * uniforms.strides.y;
          if (i32(getMaxPos(b, yR, yC, d)) == wR * uniforms.filterDims.y + wC) {
            acc += getDy(b, yR, yC, d);
          }
        }
      }
      setOutputAtIndex(index, acc);
    }
  }
`

export function maxPoolGrad(args: { inputs: Record<string, TensorInfo | undefined>; attrs: MaxPoolGradAttrs; backend: Backend }): TensorInfo {
  const { inputs, attrs, backend } = args
  const dy = inputs.dy as TensorInfo
  const x = inputs.input as TensorInfo
  const info = backend_util.computePool2DInfo(x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode)
  const strides = { type: 'int32', data: [info.strideHeight, info.strideWidth] }
  const pads = { type: 'int32', data: [info.padInfo.top, info.padInfo.left] }
  const filterDims = { type: 'int32', data: [info.effectiveFilterHeight, info.effectiveFilterWidth] }
  const positions = backend.runWebGPUProgram(
    program(
      info.outShape,
      ['x'],
      'quarterturn_maxPoolFirstPositions',
      'strides : vec2<i32>, pads : vec2<i32>, dilations : vec2<i32>, inDims : vec2<i32>, filterDims : vec2<i32>,',
      FIRST_MAX_POSITIONS
    ),
    [x],
    'int32',
    [strides, pads, { type: 'int32', data: [info.dilationHeight, info.dilationWidth] }, { type: 'int32', data: [info.inHeight, info.inWidth] }, filterDims]
  )
  const dx = backend.runWebGPUProgram(
    program(
      info.inShape,
      ['dy', 'maxPos'],
      'quarterturn_maxPoolGradGather',
      'strides : vec2<i32>, pads : vec2<i32>, filterDims : vec2<i32>, outDims : vec2<i32>,',
      GATHER
    ),
    [dy, positions],
    x.dtype,
    [strides, pads, filterDims, { type: 'int32', data: [info.outHeight, info.outWidth] }]
  )
  backend.disposeData(positions.dataId)
  return dx
}

export const maxPoolGradConfig: KernelConfig = {
  kernelName: 'MaxPoolGrad',
  backendName: 'webgpu',
  kernelFunc: maxPoolGrad as unknown as KernelConfig['kernelFunc']
}
