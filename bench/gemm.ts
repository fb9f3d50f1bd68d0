// A/B of the native GEMM (src-engine/wasm-kernels/native-gemm.ts) against XNNPACK for dense-layer
// forward products with a new weight tensor at every call, as in training; the two are
// interleaved call by call, so a busy machine slows both alike. Prints ms (median of 5), the
// relative difference of the results and the load average.
//
//   npx tsx bench/gemm.ts            (BENCH_THREADS=1 for the single-threaded build, M=rows)
import { readFileSync } from 'node:fs'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend, setWasmThreads } from '../src-engine/backends'
import { setNativeGemmDisabled } from '../src-engine/wasm-kernels/native-gemm'

setWasmThreads(Number(process.env.BENCH_THREADS ?? 2))
await selectBackend('wasm')
const M = Number(process.env.M ?? 128)
const loadavg = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')
for (const [K, N] of [
  [2304, 4096],
  [4096, 4096],
  [576, 1024],
  [1024, 1024]
] as [number, number][]) {
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
  let diff = 0
  let big = 0
  for (let i = 0; i < out.xnnpack!.length; i++) {
    diff = Math.max(diff, Math.abs(out.native![i]! - out.xnnpack![i]!))
    big = Math.max(big, Math.abs(out.xnnpack![i]!))
  }
  const med = (v: number[]) => v.sort((p, q) => p - q)[2]!.toFixed(1)
  console.log(
    `[${M},${K}]x[${K},${N}] new weight: xnnpack ${med(ms.xnnpack)} ms, native ${med(ms.native)} ms, rel. diff ${(diff / big).toExponential(1)}, load ${loadavg()}`
  )
  tf.dispose([x, w0])
}
