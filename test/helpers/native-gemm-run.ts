// Child process for test/unit/engine/wasm-native-gemm.test.ts: selects the wasm backend with the
// thread count given as argv[2] (2 = the threaded build, shared memory, so the native GEMM splits
// its columns with its worker thread), then prints one JSON line: for each product shape, the
// largest difference between the native GEMM and XNNPACK relative to the largest magnitude, and
// whether the two results are bitwise equal between thread counts (a checksum of the native result).
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend, setWasmThreads } from '../../src-engine/backends'
import { setNativeGemmDisabled } from '../../src-engine/wasm-kernels/native-gemm'

setWasmThreads(Number(process.argv[2]))
await selectBackend('wasm')
const shapes = JSON.parse(process.argv[3]!) as [number, number, number][]
const out = shapes.map(([M, K, N]) => {
  const a = tf.randomUniform([M, K], -1, 1, 'float32', M + K)
  const b = tf.randomUniform([K, N], -1, 1, 'float32', K + N)
  setNativeGemmDisabled(true)
  const ref = tf.matMul(a, b).dataSync()
  setNativeGemmDisabled(false)
  const got = tf.matMul(a, b).dataSync()
  let diff = 0
  let big = 0
  let sum = 0
  for (let i = 0; i < ref.length; i++) {
    diff = Math.max(diff, Math.abs(got[i]! - ref[i]!))
    big = Math.max(big, Math.abs(ref[i]!))
    sum = (Math.imul(sum, 31) + new Int32Array(got.buffer, got.byteOffset, got.length)[i]!) | 0
  }
  tf.dispose([a, b])
  return { shape: [M, K, N], rel: diff / big, checksum: sum }
})
console.log(JSON.stringify(out))
