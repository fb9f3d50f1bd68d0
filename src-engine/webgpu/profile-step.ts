// Owns the webgpu training-step profile: times every kernel of one training step (after a warm-up
// step that compiles the shaders), once with tfjs's stock Conv2DBackpropFilter and once with the
// project's kernels, and prints the tables that src-engine/webgpu/kernels/README.md quotes.
//
//   npx tsx src-engine/webgpu/profile-step.ts [arch] [width] [batch] [method]
//   (defaults: alexnet64 0.25 16 rotnet; a software adapter is allowed here)
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import { selectBackend } from '../backends'
import { Trainer } from '../trainer'
import { generateSampleDataset } from '../../src-shared/sample-dataset'
import { parseTrainConfig, type MethodName } from '../../src-shared/config/train'
import { disposeNodeWebGpu, initNodeWebGpu } from './node-gpu'
import { formatKernelTimes, profileWebGpuKernels } from './kernel-profile'
import { registerWebGpuTrainingKernels, unregisterWebGpuTrainingKernels } from './kernels'

async function main(): Promise<void> {
  const [arch = 'alexnet64', width = '0.25', batch = '16', method = 'rotnet'] = process.argv.slice(2)
  const adapter = await initNodeWebGpu()
  console.log(`adapter: ${adapter.description || adapter.device} (${adapter.software ? `software: ${adapter.software}` : 'hardware'})`)
  await selectBackend('webgpu')
  const size = { alexnet224: 224, alexnet64: 64, alexnet32: 32 }[arch] ?? 64
  const data = generateSampleDataset({ perClass: Math.ceil(Number(batch) / 10) * 2, size, seed: 3 })
  const config = parseTrainConfig({
    seed: 1,
    backbone: { arch, width: Number(width) },
    method: { method: method as MethodName },
    optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    schedule: { kind: 'constant', lr: 0.03 },
    batchSize: Number(batch),
    epochs: 100
  })
  console.log(`${arch} width ${width} batch ${batch} ${method}`)
  for (const which of ['stock', 'project'] as const) {
    if (which === 'stock') unregisterWebGpuTrainingKernels()
    else registerWebGpuTrainingKernels()
    const t = new Trainer(config, data)
    let t0 = performance.now()
    t.step()
    const first = performance.now() - t0
    t0 = performance.now()
    t.step()
    const plain = performance.now() - t0
    const { kernels, totalMs } = profileWebGpuKernels(() => t.step())
    t.dispose()
    console.log(
      `\n${which} kernels: first step ${(first / 1000).toFixed(1)} s (shader compilation), next step ${plain.toFixed(0)} ms, profiled step ${totalMs.toFixed(0)} ms`
    )
    console.log(formatKernelTimes(kernels))
  }
  await tf.setBackend('cpu')
  disposeNodeWebGpu()
}

main().catch((err: unknown) => {
  console.error(err)
  process.exitCode = 1
})
