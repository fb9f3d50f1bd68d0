// Conv2DBackpropFilter for the webgpu backend: a tiled GEMM in place of tfjs-backend-webgpu's
// naive kernel (one invocation per filter element, looping over N x OH x OW with no reuse).
//
//   dW[kh, kw, ci, co] = sum over (n, oh, ow) of x[n, oh*s + kh*d - pad, ow*s + kw*d - pad, ci] * dy[n, oh, ow, co]
//
// is the product A^T B of im2col(x) (K = N*OH*OW rows, M = KH*KW*CI columns) and dy viewed as
// [K, CO] (NHWC makes that view free). Each workgroup computes one TM x TN tile of the [M, CO]
// output, walking K in TK-sized chunks staged in workgroup memory; each invocation accumulates a
// 4 x 4 block in registers. Filters with few output elements (conv1: 363 x 64) and huge K (batch
// x 55 x 55) would leave most of a GPU idle, so K is split over the dispatch's z dimension into
// partial [S, M*CO] sums that a second, element-wise pass adds up (deterministic: no atomics).
// NHWC only (the layout tfjs and the engine use); strides, explicit/'same'/'valid' pads and
// dilations as backend_util.computeConv2DInfo reports them.
import { backend_util, type Conv2DBackpropFilterAttrs, type KernelConfig, type TensorInfo } from '@tensorflow/tfjs-core'
import { flatProgram, type Program, type ProgramBackend as Backend } from './program'

/** A tile shape: TM x TN outputs per workgroup of WY x WX invocations, K staged TK at a time. */
interface Tile {
  name: string
  tm: number
  tn: number
  tk: number
  wx: number
  wy: number
}

const TILES: Record<'small' | 'large', Tile> = {
  // 64 invocations, 32 x 32 outputs, 8 KiB of workgroup memory.
  small: { name: 'small', tm: 32, tn: 32, tk: 32, wx: 8, wy: 8 },
  // 256 invocations, 64 x 64 outputs, 8 KiB of workgroup memory.
  large: { name: 'large', tm: 64, tn: 64, tk: 16, wx: 16, wy: 16 }
}

/** Workgroups a dispatch should have before K is split further (a large GPU has ~100 cores). */
const TARGET_WORKGROUPS = 512
/** The fewest K chunks (of TK) one split walks: below that, the partial sums cost more than they save. */
const MIN_CHUNKS_PER_SPLIT = 8
/** Largest partial-sum buffer the split may allocate (also bounded by the device's binding size). */
const MAX_PARTIAL_BYTES = 64 * 2 ** 20

/** Test hooks: force a tile shape or a split count (null: chosen from the shapes). */
export const conv2dBackpropFilterOptions: { tile: 'small' | 'large' | null; splits: number | null } = { tile: null, splits: null }

export interface FilterGradPlan {
  tile: Tile
  m: number
  co: number
  k: number
  splits: number
  chunksPerSplit: number
}

/** Tile shape and K split for a filter gradient of M x CO outputs over K products. */
export function planFilterGrad(m: number, co: number, k: number, maxBinding = Infinity): FilterGradPlan {
  const forced = conv2dBackpropFilterOptions.tile
  const tile = TILES[forced ?? (m >= 64 && co >= 64 ? 'large' : 'small')]
  const tiles = Math.ceil(m / tile.tm) * Math.ceil(co / tile.tn)
  const chunks = Math.max(1, Math.ceil(k / tile.tk))
  const byMemory = Math.max(1, Math.floor(Math.min(MAX_PARTIAL_BYTES, maxBinding) / (m * co * 4)))
  let splits = conv2dBackpropFilterOptions.splits ?? Math.min(Math.ceil(TARGET_WORKGROUPS / tiles), Math.floor(chunks / MIN_CHUNKS_PER_SPLIT), byMemory)
  splits = Math.max(1, Math.min(splits, chunks, 65535))
  const chunksPerSplit = Math.ceil(chunks / splits)
  // No empty splits at the end.
  splits = Math.ceil(chunks / chunksPerSplit)
  return { tile, m, co, k, splits, chunksPerSplit }
}

const GEMM_UNIFORMS =
  'mDim : i32, coDim : i32, kDim : i32, chunksPerSplit : i32, kPerSplit : i32, outH : i32, outW : i32, inH : i32, inW : i32, inC : i32, filterW : i32, strides : vec2<i32>, pads : vec2<i32>, dilations : vec2<i32>,'

function gemmCode(t: Tile): string {
  const threads = t.wx * t.wy
  const rm = t.tm / t.wy
  const rn = t.tn / t.wx
  const aLoads = (t.tk * t.tm) / threads
  const bLoads = (t.tk * t.tn) / threads
  return `
  var<workgroup> tileA : array<f32, ${t.tk * t.tm}>;
  var<workgroup> tileB : array<f32, ${t.tk * t.tn}>;

  fn main() {
    let tx = i32(localId.x);
    let ty = i32(localId.y);
    let lid = ty * ${t.wx} + tx;
    let co0 = i32(workgroupId.x) * ${t.tn};
    let m0 = i32(workgroupId.y) * ${t.tm};
    let split = i32(workgroupId.z);
    let kBegin = split * uniforms.kPerSplit;
    let kEnd = min(uniforms.kDim, kBegin + uniforms.kPerSplit);

    // The im2col column this invocation stages: fixed, as ${threads} is a multiple of ${t.tm}.
    let aCol = lid % ${t.tm};
    let aRow0 = lid / ${t.tm};
    let m = m0 + aCol;
    let ci = m % uniforms.inC;
    let khw = m / uniforms.inC;
    let rowOff = (khw / uniforms.filterW) * uniforms.dilations.x - uniforms.pads.x;
    let colOff = (khw % uniforms.filterW) * uniforms.dilations.y - uniforms.pads.y;
    let mOk = m < uniforms.mDim;
    let bCol = lid % ${t.tn};
    let bRow0 = lid / ${t.tn};
    let co = co0 + bCol;
    let coOk = co < uniforms.coDim;

    var acc : array<array<f32, ${rn}>, ${rm}>;
    for (var i = 0; i < ${rm}; i++) {
      for (var j = 0; j < ${rn}; j++) { acc[i][j] = 0.0; }
    }

    for (var chunk = 0; chunk < uniforms.chunksPerSplit; chunk++) {
      let k0 = kBegin + chunk * ${t.tk};
      for (var l = 0; l < ${aLoads}; l++) {
        let row = aRow0 + l * ${threads / t.tm};
        let k = k0 + row;
        var v = 0.0;
        if (mOk && k < kEnd) {
          let ow = k % uniforms.outW;
          let nh = k / uniforms.outW;
          let oh = nh % uniforms.outH;
          let n = nh / uniforms.outH;
          let ih = oh * uniforms.strides.x + rowOff;
          let iw = ow * uniforms.strides.y + colOff;
          if (ih >= 0 && ih < uniforms.inH && iw >= 0 && iw < uniforms.inW) {
            v = x[((n * uniforms.inH + ih) * uniforms.inW + iw) * uniforms.inC + ci];
          }
        }
        tileA[row * ${t.tm} + aCol] = v;
      }
      for (var l = 0; l < ${bLoads}; l++) {
        let row = bRow0 + l * ${threads / t.tn};
        let k = k0 + row;
        var v = 0.0;
        if (coOk && k < kEnd) {
          v = dy[k * uniforms.coDim + co];
        }
        tileB[row * ${t.tn} + bCol] = v;
      }
      workgroupBarrier();
      for (var kk = 0; kk < ${t.tk}; kk++) {
        var a : array<f32, ${rm}>;
        var b : array<f32, ${rn}>;
        for (var i = 0; i < ${rm}; i++) { a[i] = tileA[kk * ${t.tm} + ty + i * ${t.wy}]; }
        for (var j = 0; j < ${rn}; j++) { b[j] = tileB[kk * ${t.tn} + tx + j * ${t.wx}]; }
        for (var i = 0; i < ${rm}; i++) {
          for (var j = 0; j < ${rn}; j++) { acc[i][j] = fma(a[i], b[j], acc[i][j]); }
        }
      }
      workgroupBarrier();
    }

    let base = split * uniforms.mDim * uniforms.coDim;
    for (var i = 0; i < ${rm}; i++) {
      let mo = m0 + ty + i * ${t.wy};
      if (mo >= uniforms.mDim) { continue; }
      for (var j = 0; j < ${rn}; j++) {
        let c = co0 + tx + j * ${t.wx};
        if (c < uniforms.coDim) { result[base + mo * uniforms.coDim + c] = acc[i][j]; }
      }
    }
  }
`
}

function gemmProgram(plan: FilterGradPlan, outputShape: number[]): Program {
  const t = plan.tile
  return {
    variableNames: ['x', 'dy'],
    outputShape,
    shaderKey: `quarterturn_conv2dDerFilterGemm_${t.name}`,
    // Not flat, so that tfjs calls main() without a global index; only the generated helpers read it.
    dispatchLayout: { x: [outputShape.length - 1], y: outputShape.slice(0, -1).map((_, i) => i) },
    dispatch: [Math.ceil(plan.co / t.tn), Math.ceil(plan.m / t.tm), plan.splits],
    workgroupSize: [t.wx, t.wy, 1],
    uniforms: GEMM_UNIFORMS,
    size: false,
    getUserCode: () => gemmCode(t)
  }
}

/** Adds the S partial sums of each filter element (consecutive invocations read consecutive words). */
function reduceProgram(outputShape: number[]): Program {
  return flatProgram(
    outputShape,
    ['partial'],
    'quarterturn_conv2dDerFilterReduce',
    'splits : i32,',
    `
  fn main(index : i32) {
    if (index < uniforms.size) {
      var s = 0.0;
      for (var i = 0; i < uniforms.splits; i++) { s += partial[i * uniforms.size + index]; }
      setOutputAtIndex(index, s);
    }
  }
`
  )
}

export function conv2DBackpropFilter(args: { inputs: Record<string, TensorInfo | undefined>; attrs: Conv2DBackpropFilterAttrs; backend: Backend }): TensorInfo {
  const { inputs, attrs, backend } = args
  const x = inputs.x as TensorInfo
  const dy = inputs.dy as TensorInfo
  const dataFormat = backend_util.convertConv2DDataFormat(attrs.dataFormat)
  if (dataFormat !== 'channelsLast') throw new Error('Conv2DBackpropFilter on webgpu: only NHWC is supported')
  const dilations = (attrs as { dilations?: number | [number, number] }).dilations ?? 1
  const info = backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    dataFormat
  )
  const m = info.filterHeight * info.filterWidth * info.inChannels
  const co = info.outChannels
  const k = info.batchSize * info.outHeight * info.outWidth
  const plan = planFilterGrad(m, co, k, backend.device?.limits?.maxStorageBufferBindingSize)
  const uniforms = [
    { type: 'int32', data: [m] },
    { type: 'int32', data: [co] },
    { type: 'int32', data: [k] },
    { type: 'int32', data: [plan.chunksPerSplit] },
    { type: 'int32', data: [plan.chunksPerSplit * plan.tile.tk] },
    { type: 'int32', data: [info.outHeight] },
    { type: 'int32', data: [info.outWidth] },
    { type: 'int32', data: [info.inHeight] },
    { type: 'int32', data: [info.inWidth] },
    { type: 'int32', data: [info.inChannels] },
    { type: 'int32', data: [info.filterWidth] },
    { type: 'int32', data: [info.strideHeight, info.strideWidth] },
    { type: 'int32', data: [info.padInfo.top, info.padInfo.left] },
    { type: 'int32', data: [info.dilationHeight, info.dilationWidth] }
  ]
  if (plan.splits === 1) return backend.runWebGPUProgram(gemmProgram(plan, info.filterShape), [x, dy], 'float32', uniforms)
  const partial = backend.runWebGPUProgram(gemmProgram(plan, [plan.splits, m * co]), [x, dy], 'float32', uniforms)
  const out = backend.runWebGPUProgram(reduceProgram(info.filterShape), [partial], 'float32', [{ type: 'int32', data: [plan.splits] }])
  backend.disposeData(partial.dataId)
  return out
}

export const conv2DBackpropFilterConfig: KernelConfig = {
  kernelName: 'Conv2DBackpropFilter',
  backendName: 'webgpu',
  kernelFunc: conv2DBackpropFilter as unknown as KernelConfig['kernelFunc']
}
