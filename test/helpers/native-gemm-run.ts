// Child process for test/unit/engine/wasm-native-gemm.test.ts: selects the wasm backend with the
// thread count given as argv[2] (2 = the threaded build, shared memory, so the native kernels split
// their columns with their worker thread), then prints one JSON line: for each product shape
// (argv[3]) and each convolution filter gradient and convolution (argv[4]), the largest difference between the
// native kernel and the XNNPACK route relative to the largest magnitude, and a checksum of the
// native result's float bits (equal between thread counts when the results are bitwise equal).
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend, setWasmThreads } from '../../src-engine/backends'
import { setNativeConvDisabled, setNativeFilterGradDisabled, setNativeGemmDisabled } from '../../src-engine/wasm-kernels/native-gemm'

export interface FilterGradCase {
  x: [number, number, number, number]
  k: number
  cout: number
  s: number
  pad: 'same' | 'valid' | number
}

setWasmThreads(Number(process.argv[2]))
await selectBackend('wasm')

function compare(f: () => tf.Tensor, off: (v: boolean) => void): { rel: number; checksum: number } {
  off(true)
  const ref = tf.tidy(f)
  off(false)
  const got = tf.tidy(f)
  const r = ref.dataSync()
  const g = got.dataSync()
  const bits = new Int32Array(g.buffer, g.byteOffset, g.length)
  let diff = 0
  let big = 0
  let sum = 0
  for (let i = 0; i < r.length; i++) {
    diff = Math.max(diff, Math.abs(g[i]! - r[i]!))
    big = Math.max(big, Math.abs(r[i]!))
    sum = (Math.imul(sum, 31) + bits[i]!) | 0
  }
  tf.dispose([ref, got])
  return { rel: diff / big, checksum: sum }
}

const products = (JSON.parse(process.argv[3]!) as [number, number, number][]).map(([M, K, N]) => {
  const a = tf.randomUniform([M, K], -1, 1, 'float32', M + K)
  const b = tf.randomUniform([K, N], -1, 1, 'float32', K + N)
  const r = compare(() => tf.matMul(a, b), setNativeGemmDisabled)
  tf.dispose([a, b])
  return { shape: [M, K, N], ...r }
})
const filterGrads = (JSON.parse(process.argv[4]!) as FilterGradCase[]).map((c) => {
  const filterShape = [c.k, c.k, c.x[3], c.cout] as [number, number, number, number]
  const info = tf.backend_util.computeConv2DInfo(c.x, filterShape, c.s, 1, c.pad)
  const x = tf.randomUniform(c.x, -1, 1, 'float32', 1)
  const dy = tf.randomUniform(info.outShape, -1, 1, 'float32', 2)
  const r = compare(
    () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape }) as tf.Tensor,
    setNativeFilterGradDisabled
  )
  tf.dispose([x, dy])
  return { shape: c.x, ...r }
})
const convs = (JSON.parse(process.argv[4]!) as FilterGradCase[])
  .filter((c) => c.x[3] >= 8)
  .map((c) => {
    const x = tf.randomUniform(c.x, -1, 1, 'float32', 1) as tf.Tensor4D
    const w = tf.randomUniform([c.k, c.k, c.x[3], c.cout], -1, 1, 'float32', 2) as tf.Tensor4D
    const r = compare(() => tf.conv2d(x, w, c.s, c.pad), setNativeConvDisabled)
    tf.dispose([x, w])
    return { shape: c.x, ...r }
  })
console.log(JSON.stringify({ products, filterGrads, convs }))
