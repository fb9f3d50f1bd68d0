// One SGD step of an AlexNet-style conv+BN+ReLU+maxpool+dense network (alexnet64 shapes) on the
// wasm backend with src-engine/wasm-kernels registered; prints where the time goes, per kernel.
//
//   npx tsx bench/train-step.ts
//
// BENCH_BATCH (default 32) sets the batch, BENCH_WIDTH (default 1) multiplies channel counts.
// BENCH_STOCK=1 registers only the kernels stock wasm lacks (the stock ones stay), for comparison.
// BENCH_THREADS (default 1) > 1 loads the multithreaded wasm build with that many threads.
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '@tensorflow/tfjs-backend-wasm'
import '../src-engine/tf-gradients'
import { enableWasmThreads, registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../src-engine/wasm-kernels'

const BATCH = Number(process.env.BENCH_BATCH ?? 32)
const WIDTH = Number(process.env.BENCH_WIDTH ?? 1)
const STOCK = process.env.BENCH_STOCK === '1'
const THREADS = Number(process.env.BENCH_THREADS ?? 1)

type Pad4 = [[number, number], [number, number], [number, number], [number, number]]

function build() {
  const c = (n: number) => Math.max(1, Math.round(n * WIDTH))
  const convs = [
    { k: 5, s: 2, p: 2, cin: 3, cout: c(64), pool: true },
    { k: 5, s: 1, p: 2, cin: c(64), cout: c(192), pool: true },
    { k: 3, s: 1, p: 1, cin: c(192), cout: c(384), pool: false },
    { k: 3, s: 1, p: 1, cin: c(384), cout: c(256), pool: false },
    { k: 3, s: 1, p: 1, cin: c(256), cout: c(256), pool: true }
  ].map((l) => ({
    ...l,
    w: tf.variable(tf.randomNormal([l.k, l.k, l.cin, l.cout], 0, Math.sqrt(2 / (l.k * l.k * l.cin)), 'float32', 1)),
    gamma: tf.variable(tf.ones([l.cout])),
    beta: tf.variable(tf.zeros([l.cout]))
  }))
  const flat = 3 * 3 * c(256)
  const dense = [
    { din: flat, dout: c(4096) },
    { din: c(4096), dout: c(4096) }
  ].map((l) => ({
    w: tf.variable(tf.randomNormal([l.din, l.dout], 0, Math.sqrt(2 / l.din), 'float32', 2)),
    gamma: tf.variable(tf.ones([l.dout])),
    beta: tf.variable(tf.zeros([l.dout]))
  }))
  const head = { w: tf.variable(tf.randomNormal([c(4096), 4], 0, 0.01, 'float32', 3)), b: tf.variable(tf.zeros([4])) }

  const bn = (x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, axes: number[]) => {
    const { mean, variance } = tf.moments(x, axes)
    return tf.batchNorm(x, mean, variance, beta, gamma, 1e-5)
  }
  const loss = (x: tf.Tensor4D, labels: tf.Tensor2D): tf.Scalar => {
    let h: tf.Tensor4D = x
    for (const l of convs) {
      const pad: Pad4 = [
        [0, 0],
        [l.p, l.p],
        [l.p, l.p],
        [0, 0]
      ]
      h = tf.relu(bn(tf.conv2d(h, l.w as tf.Tensor4D, l.s, pad), l.gamma, l.beta, [0, 1, 2])) as tf.Tensor4D
      if (l.pool) h = tf.maxPool(h, 3, 2, 'valid')
    }
    let f: tf.Tensor2D = tf.reshape(h, [BATCH, -1])
    for (const l of dense) f = tf.relu(bn(tf.matMul(f, l.w as tf.Tensor2D), l.gamma, l.beta, [0])) as tf.Tensor2D
    const logits = tf.add(tf.matMul(f, head.w as tf.Tensor2D), head.b)
    return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar
  }
  return { loss }
}

async function main(): Promise<void> {
  if (THREADS > 1) enableWasmThreads(THREADS)
  await tf.setBackend('wasm')
  if (STOCK) {
    for (const k of WASM_TRAINING_KERNELS) if (tf.getKernel(k.kernelName, 'wasm') == null) tf.registerKernel(k)
  } else {
    registerWasmTrainingKernels()
  }
  const { loss } = build()
  const opt = tf.train.sgd(0.01)
  const x = tf.randomUniform([BATCH, 64, 64, 3], -1, 1, 'float32', 4) as tf.Tensor4D
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: BATCH }, (_, i) => i % 4),
      'int32'
    ),
    4
  ) as tf.Tensor2D
  const step = () => tf.dispose(opt.minimize(() => loss(x, labels), true) ?? [])

  step() // warm-up
  const t0 = performance.now()
  step()
  const stepMs = performance.now() - t0

  const prof = await tf.profile(step)
  const byKernel = new Map<string, { ms: number; calls: number }>()
  for (const k of prof.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 }
    e.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0
    e.calls++
    byKernel.set(k.name, e)
  }
  const total = [...byKernel.values()].reduce((a, e) => a + e.ms, 0)
  console.log(
    `${STOCK ? 'stock wasm kernels + only the missing ones' : 'all wasm-kernels'}, batch ${BATCH}, width ${WIDTH}, ${THREADS} thread(s): one SGD step ${stepMs.toFixed(0)} ms (sum of kernel times ${total.toFixed(0)} ms)`
  )
  console.log('| kernel | calls | ms | share |')
  console.log('|---|---:|---:|---:|')
  for (const [name, e] of [...byKernel.entries()].sort((a, b) => b[1].ms - a[1].ms)) {
    if (e.ms < total * 0.002) continue
    console.log(`| ${name} | ${e.calls} | ${e.ms.toFixed(1)} | ${((100 * e.ms) / total).toFixed(1)}% |`)
  }
}

await main()
