// Benchmarks src-engine/wasm-kernels at AlexNet (alexnet64, batch 128) training shapes against the
// stock wasm kernels (where wasm has one) and the cpu backend. Prints ms per call and speedups.
//
//   npx tsx bench/kernels.ts
//
// BENCH_BATCH=32 runs smaller shapes. The cpu backend is timed on a slice of the batch
// (BENCH_CPU_BATCH, default 8; 1 for its very slow Conv2DBackpropFilter) and scaled linearly to
// the full batch (every kernel here costs linearly in the batch); rows say so. Takes ~5 minutes.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import '../src-engine/tf-gradients'
import { registerWasmTrainingKernels, stockWasmKernel, type WasmBackend } from '../src-engine/wasm-kernels'

const BATCH = Number(process.env.BENCH_BATCH ?? 128)
const CPU_BATCH = Math.min(BATCH, Number(process.env.BENCH_CPU_BATCH ?? 8))
const REPS = Number(process.env.BENCH_REPS ?? 3)

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]]
type Explicit = [[number, number], [number, number], [number, number], [number, number]]
const P = (p: number): Explicit => [
  [0, 0],
  [p, p],
  [p, p],
  [0, 0]
]

function rand(shape: number[]): tf.Tensor {
  return tf.randomUniform(shape, -1, 1, 'float32', 7)
}

/** Median ms of `reps` timed calls, after one untimed warm-up call when `warm`. */
function time(f: () => tf.TensorInfo | tf.Tensor, dispose: (t: tf.TensorInfo | tf.Tensor) => void, reps = REPS, warm = true): number {
  if (warm) dispose(f())
  const ms: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    const out = f()
    if (out instanceof tf.Tensor) out.dataSync()
    ms.push(performance.now() - t0)
    dispose(out)
  }
  ms.sort((a, b) => a - b)
  return ms[Math.floor(ms.length / 2)] as number
}

interface Row {
  kernel: string
  shape: string
  ours: number
  stock: number | null
  cpu: number
  cpuNote: string
}
const rows: Row[] = []

function fmt(ms: number | null): string {
  if (ms == null) return '—'
  return ms >= 100 ? ms.toFixed(0) : ms.toFixed(1)
}
function ratio(a: number | null, b: number): string {
  return a == null ? '—' : `${(a / b).toFixed(1)}x`
}

interface Case {
  kernel: string
  shape: string
  /** Inputs for a batch of `n`. */
  inputs: (n: number) => Record<string, tf.Tensor>
  attrs: (n: number) => tf.NamedAttrMap
  /** Batch for the cpu backend when it should be smaller than CPU_BATCH (its slowest kernels). */
  cpuBatch?: number
}

async function runCase(c: Case): Promise<void> {
  await tf.setBackend('wasm')
  const backend = tf.backend() as unknown as WasmBackend
  const ins = c.inputs(BATCH)
  const attrs = c.attrs(BATCH)
  const ours = time(
    () => tf.engine().runKernel(c.kernel, ins, attrs) as tf.Tensor,
    (t) => (t as tf.Tensor).dispose()
  )
  let stock: number | null = null
  const stockConfig = stockWasmKernel(c.kernel)
  if (stockConfig != null) {
    stock = time(
      () => stockConfig.kernelFunc({ inputs: ins, attrs, backend }) as tf.TensorInfo,
      (t) => backend.disposeData(t.dataId),
      1,
      false
    )
  }
  tf.dispose(Object.values(ins))

  await tf.setBackend('cpu')
  const cpuBatch = Math.min(CPU_BATCH, c.cpuBatch ?? CPU_BATCH)
  const cpuIns = c.inputs(cpuBatch)
  const cpuAttrs = c.attrs(cpuBatch)
  const cpuMs = time(
    () => tf.engine().runKernel(c.kernel, cpuIns, cpuAttrs) as tf.Tensor,
    (t) => (t as tf.Tensor).dispose(),
    1,
    false
  )
  tf.dispose(Object.values(cpuIns))
  const cpu = (cpuMs * BATCH) / cpuBatch
  const row: Row = { kernel: c.kernel, shape: c.shape, ours, stock, cpu, cpuNote: cpuBatch < BATCH ? `batch ${cpuBatch} x${BATCH / cpuBatch}` : '' }
  rows.push(row)
  console.log(`${row.kernel.padEnd(36)} ${row.shape.padEnd(44)} ours ${fmt(ours)} ms  stock ${fmt(stock)} ms  cpu ${fmt(cpu)} ms`)
}

function convCase(
  kernel: 'Conv2DBackpropFilter' | 'Conv2DBackpropInput',
  name: string,
  [h, w, cin]: [number, number, number],
  k: number,
  cout: number,
  s: number,
  pad: Pad
): Case {
  const xShape = (n: number) => [n, h, w, cin] as [number, number, number, number]
  const wShape: [number, number, number, number] = [k, k, cin, cout]
  const outShape = (n: number) => tf.backend_util.computeConv2DInfo(xShape(n), wShape, s, 1, pad).outShape
  const padLabel = typeof pad === 'object' ? `pad ${pad[1][0]}` : `pad ${String(pad)}`
  return {
    kernel,
    shape: `${name}: [${BATCH},${h},${w},${cin}] k${k} s${s} ${padLabel} -> ${cout}`,
    // The cpu backend's Conv2DBackpropFilter runs ~4M multiply-adds/s: time one example.
    cpuBatch: kernel === 'Conv2DBackpropFilter' ? 1 : undefined,
    inputs: (n): Record<string, tf.Tensor> =>
      kernel === 'Conv2DBackpropFilter' ? { x: rand(xShape(n)), dy: rand(outShape(n)) } : { dy: rand(outShape(n)), filter: rand(wShape) },
    attrs: (n): tf.NamedAttrMap =>
      kernel === 'Conv2DBackpropFilter'
        ? { strides: s, pad, dataFormat: 'NHWC', filterShape: wShape }
        : { strides: s, pad, dataFormat: 'NHWC', inputShape: xShape(n) }
  }
}

function matMulCase(name: string, a: (n: number) => number[], b: (n: number) => number[], transposeA: boolean, transposeB: boolean): Case {
  return {
    kernel: 'BatchMatMul',
    shape: `${name}: [${a(BATCH)}]${transposeA ? 'ᵀ' : ''} x [${b(BATCH)}]${transposeB ? 'ᵀ' : ''}`,
    inputs: (n) => ({ a: rand(a(n)), b: rand(b(n)) }),
    attrs: () => ({ transposeA, transposeB })
  }
}

function depthwiseCase(
  kernel: 'DepthwiseConv2dNativeBackpropFilter' | 'DepthwiseConv2dNativeBackpropInput',
  [h, w, c]: [number, number, number],
  k: number,
  s: number
): Case {
  const xShape = (n: number) => [n, h, w, c] as [number, number, number, number]
  const wShape: [number, number, number, number] = [k, k, c, 1]
  const outShape = (n: number) => tf.backend_util.computeConv2DInfo(xShape(n), wShape, s, 1, 'same', undefined, true).outShape
  return {
    kernel,
    shape: `depthwise: [${BATCH},${h},${w},${c}] k${k} s${s} same`,
    inputs: (n): Record<string, tf.Tensor> =>
      kernel === 'DepthwiseConv2dNativeBackpropFilter' ? { x: rand(xShape(n)), dy: rand(outShape(n)) } : { dy: rand(outShape(n)), filter: rand(wShape) },
    attrs: (n): tf.NamedAttrMap =>
      kernel === 'DepthwiseConv2dNativeBackpropFilter'
        ? { strides: s, dilations: 1, pad: 'same', filterShape: wShape }
        : { strides: s, dilations: 1, pad: 'same', inputShape: xShape(n) }
  }
}

async function main(): Promise<void> {
  await tf.setBackend('wasm')
  registerWasmTrainingKernels()
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')
  const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')
  console.log(`tfjs ${tf.version_core}, node ${process.version}, wasm SIMD ${String(simd)}, threads ${String(threads)}, batch ${BATCH}, median of ${REPS}`)

  const cases: Case[] = [
    convCase('Conv2DBackpropFilter', 'conv1', [64, 64, 3], 5, 64, 2, P(2)),
    convCase('Conv2DBackpropFilter', 'conv2', [15, 15, 64], 5, 192, 1, P(2)),
    convCase('Conv2DBackpropFilter', 'conv3', [7, 7, 192], 3, 384, 1, P(1)),
    convCase('Conv2DBackpropInput', 'conv2', [15, 15, 64], 5, 192, 1, P(2)),
    convCase('Conv2DBackpropInput', 'conv3', [7, 7, 192], 3, 384, 1, P(1)),
    convCase('Conv2DBackpropInput', 'conv1 (stride 2)', [64, 64, 3], 5, 64, 2, P(2)),
    convCase('Conv2DBackpropFilter', 'resnet-style', [32, 32, 64], 3, 128, 2, 'same'),
    convCase('Conv2DBackpropInput', 'resnet-style', [32, 32, 64], 3, 128, 2, 'same'),
    {
      kernel: 'MaxPoolGrad',
      shape: `pool1: [${BATCH},32,32,64] 3x3 s2 valid`,
      inputs: (n) => {
        const input = rand([n, 32, 32, 64])
        return { dy: rand([n, 15, 15, 64]), input, output: tf.maxPool(input as tf.Tensor4D, 3, 2, 'valid') }
      },
      attrs: () => ({ filterSize: 3, strides: 2, pad: 'valid' })
    },
    {
      kernel: 'Tile',
      shape: `BN grad: [1,1,1,64] -> [${BATCH},32,32,64]`,
      inputs: () => ({ x: rand([1, 1, 1, 64]) }),
      attrs: (n) => ({ reps: [n, 32, 32, 1] })
    },
    matMulCase(
      'fc6 dX',
      (n) => [n, 4096],
      () => [2304, 4096],
      false,
      true
    ),
    matMulCase(
      'fc6 dW',
      (n) => [n, 2304],
      (n) => [n, 4096],
      true,
      false
    ),
    matMulCase(
      'fc7 dW',
      (n) => [n, 4096],
      (n) => [n, 4096],
      true,
      false
    ),
    depthwiseCase('DepthwiseConv2dNativeBackpropFilter', [32, 32, 64], 3, 1),
    depthwiseCase('DepthwiseConv2dNativeBackpropInput', [32, 32, 64], 3, 1)
  ]
  for (const c of cases) await runCase(c)

  // References: the stock XNNPACK forward passes of the same layers.
  await tf.setBackend('wasm')
  const a = rand([BATCH, 2304])
  const w = rand([2304, 4096])
  const fwd = time(
    () => tf.matMul(a, w),
    (t) => (t as tf.Tensor).dispose()
  )
  const fwdFresh = time(
    () => tf.tidy(() => tf.matMul(a, tf.clone(w))),
    (t) => (t as tf.Tensor).dispose()
  )
  tf.dispose([a, w])
  const convRefs = [
    { name: 'conv1', x: [BATCH, 64, 64, 3], w: [5, 5, 3, 64], s: 2, p: 2 },
    { name: 'conv2', x: [BATCH, 15, 15, 64], w: [5, 5, 64, 192], s: 1, p: 2 },
    { name: 'conv3', x: [BATCH, 7, 7, 192], w: [3, 3, 192, 384], s: 1, p: 1 }
  ].map((r) => {
    const x = rand(r.x) as tf.Tensor4D
    const f = rand(r.w) as tf.Tensor4D
    const ms = time(
      () => tf.conv2d(x, f, r.s, P(r.p)),
      (t) => (t as tf.Tensor).dispose()
    )
    tf.dispose([x, f])
    return `${r.name} ${fmt(ms)} ms`
  })

  console.log('\n| kernel | shape | ours (wasm) ms | stock wasm ms | cpu ms | vs stock | vs cpu |')
  console.log('|---|---|---:|---:|---:|---:|---:|')
  for (const r of rows) {
    const cpu = `${fmt(r.cpu)}${r.cpuNote ? ` (${r.cpuNote})` : ''}`
    console.log(`| ${r.kernel} | ${r.shape} | ${fmt(r.ours)} | ${fmt(r.stock)} | ${cpu} | ${ratio(r.stock, r.ours)} | ${ratio(r.cpu, r.ours)} |`)
  }
  console.log(
    `\nreference, stock wasm forward passes: fc6 [${BATCH},2304] x [2304,4096] ${fmt(fwd)} ms ` +
      `(${fmt(fwdFresh)} ms with a new weight tensor, as in training); Conv2D ${convRefs.join(', ')}`
  )
}

await main()
