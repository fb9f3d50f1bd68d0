// A/B of the native kernels (src-engine/wasm-kernels/native-gemm.ts) against the XNNPACK route:
// dense-layer forward products with a new weight tensor at every call, as in training, and the
// forward convolutions and filter gradients of alexnet64 at width 1 (128 views: bench:train's batch 32) and
// width 0.25 (256 views: batch 64). The two are interleaved call by call, so a busy machine slows
// both alike. Prints ms (median of 5 products, 3 filter gradients), the relative difference of the
// results and the load average.
//
//   npx tsx bench/gemm.ts            (BENCH_THREADS=1 for the single-threaded build, M=rows, BENCH_ONLY=gemm|filter)
import { readFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend, setWasmThreads } from '../src-engine/backends'
import { setNativeConvDisabled, setNativeFilterGradDisabled, setNativeGemmDisabled } from '../src-engine/wasm-kernels/native-gemm'

setWasmThreads(Number(process.env.BENCH_THREADS ?? 2))
await selectBackend('wasm')
const M = Number(process.env.M ?? 128)
const only = process.env.BENCH_ONLY
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
const med = (v: number[]) => v.sort((p, q) => p - q)[Math.floor(v.length / 2)]!.toFixed(1)
function relDiff(a: Float32Array, b: Float32Array): number {
  let diff = 0
  let big = 0
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(b[i]! - a[i]!))
    big = Math.max(big, Math.abs(a[i]!))
  }
  return diff / big
}
for (const [K, N] of (only === 'filter'
  ? []
  : [
      [2304, 4096],
      [4096, 4096],
      [576, 1024],
      [1024, 1024]
    ]) as [number, number][]) {
  const x = tf.randomUniform([M, K], -1, 1, 'float32', 1)
  const w0 = tf.randomUniform([K, N], -1, 1, 'float32', 2)
  const ms: Record<'xnnpack' | 'native', number[]> = { xnnpack: [], native: [] }
  const out: Partial<Record<'xnnpack' | 'native', Float32Array>> = {}
  for (let r = 0; r < 5; r++) {
    for (const which of ['xnnpack', 'native'] as const) {
      setNativeGemmDisabled(which === 'xnnpack')
      const w = tf.add(w0, 0)
      const t0 = performance.now()
      const y = tf.matMul(x, w)
      out[which] = y.dataSync() as Float32Array
      ms[which].push(performance.now() - t0)
      tf.dispose([w, y])
    }
  }
  console.log(
    `[${M},${K}]x[${K},${N}] new weight: xnnpack ${med(ms.xnnpack)} ms, native ${med(ms.native)} ms, rel. diff ${relDiff(out.xnnpack!, out.native!).toExponential(1)}, load ${loadavg()}`
  )
  tf.dispose([x, w0])
}

// [views, side, Cin, k, stride, pad, Cout]
const convs: [number, number, number, number, number, number, number][] = []
for (const [views, w] of [
  [128, 1],
  [256, 0.25]
] as [number, number][]) {
  const c = (n: number) => Math.round(n * w)
  convs.push(
    [views, 64, 3, 5, 2, 2, c(64)],
    [views, 15, c(64), 5, 1, 2, c(192)],
    [views, 7, c(192), 3, 1, 1, c(384)],
    [views, 7, c(384), 3, 1, 1, c(256)],
    [views, 7, c(256), 3, 1, 1, c(256)]
  )
}
for (const [views, side, cin, k, s, p, cout] of only === 'gemm' ? [] : convs) {
  const xShape = [views, side, side, cin] as [number, number, number, number]
  const filterShape = [k, k, cin, cout] as [number, number, number, number]
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, s, 1, p)
  const x = tf.randomUniform(xShape, -1, 1, 'float32', 3)
  const dy = tf.randomUniform(info.outShape, -1, 1, 'float32', 4)
  const ms: Record<'xnnpack' | 'native', number[]> = { xnnpack: [], native: [] }
  const out: Partial<Record<'xnnpack' | 'native', Float32Array>> = {}
  for (let r = 0; r < 3; r++) {
    for (const which of ['xnnpack', 'native'] as const) {
      setNativeFilterGradDisabled(which === 'xnnpack')
      const t0 = performance.now()
      const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: s, pad: p, dataFormat: 'NHWC', filterShape }) as tf.Tensor
      out[which] = dw.dataSync() as Float32Array
      ms[which].push(performance.now() - t0)
      dw.dispose()
    }
  }
  const dwDiff = relDiff(out.xnnpack!, out.native!)
  const fwd: Record<'xnnpack' | 'native', number[]> = { xnnpack: [], native: [] }
  const w = tf.randomUniform(filterShape, -1, 1, 'float32', 5)
  for (let r = 0; r < 3; r++) {
    for (const which of ['xnnpack', 'native'] as const) {
      setNativeConvDisabled(which === 'xnnpack')
      const t0 = performance.now()
      const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, p)
      out[which] = y.dataSync() as Float32Array
      fwd[which].push(performance.now() - t0)
      y.dispose()
    }
  }
  const bwd: Record<'xnnpack' | 'native', number[]> = { xnnpack: [], native: [] }
  const bwdOut: Partial<Record<'xnnpack' | 'native', Float32Array>> = {}
  for (let r = 0; r < 3 && cin >= 8; r++) {
    for (const which of ['xnnpack', 'native'] as const) {
      setNativeConvDisabled(which === 'xnnpack')
      const t0 = performance.now()
      const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: s, pad: p, dataFormat: 'NHWC', inputShape: xShape }) as tf.Tensor
      bwdOut[which] = dx.dataSync() as Float32Array
      bwd[which].push(performance.now() - t0)
      dx.dispose()
    }
  }
  w.dispose()
  if (cin >= 8)
    console.log(
      `Conv2DBackpropInput  x [${xShape}] k${k} s${s} p${p} -> ${cout}: xnnpack convs ${med(bwd.xnnpack)} ms, native convs ${med(bwd.native)} ms, rel. diff ${relDiff(bwdOut.xnnpack!, bwdOut.native!).toExponential(1)}, load ${loadavg()}`
    )
  console.log(
    `Conv2D               x [${xShape}] k${k} s${s} p${p} -> ${cout}: xnnpack ${med(fwd.xnnpack)} ms, native ${med(fwd.native)} ms, rel. diff ${relDiff(out.xnnpack!, out.native!).toExponential(1)}, load ${loadavg()}`
  )
  console.log(
    `Conv2DBackpropFilter x [${xShape}] k${k} s${s} p${p} -> ${cout}: xnnpack route ${med(ms.xnnpack)} ms, native ${med(ms.native)} ms, rel. diff ${dwDiff.toExponential(1)}, load ${loadavg()}`
  )
  tf.dispose([x, dy])
}
