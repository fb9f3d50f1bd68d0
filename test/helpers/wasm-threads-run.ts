// Child process for test/unit/engine/wasm-threads.test.ts: selects the wasm backend with the thread count
// given as argv[2], trains a few steps of rfd (memory bank) and rfd-contrastive on the sample
// dataset, and prints one JSON line: thread counts, losses, a checksum of every trainable parameter
// (float bits, so any difference shows). It never calls process.exit: the process has to end by
// itself, which fails if the wasm pthreads keep the event loop alive.
import os from 'node:os'
import * as tf from '@tensorflow/tfjs-core'
import { getThreadsCount } from '@tensorflow/tfjs-backend-wasm'
import { selectBackend, setWasmThreads } from '../../src-engine/backends'
import { wasmThreadsInfo } from '../../src-engine/wasm-kernels'
import { Trainer } from '../../src-engine/trainer'
import { parseTrainConfig } from '../../src-shared/config/train'
import { generateSampleDataset } from '../../src-shared/sample-dataset'

const globalsBefore = [os.cpus, URL.createObjectURL]
setWasmThreads(Number(process.argv[2]))
await selectBackend('wasm')
// The threaded init patches these two for its duration only.
const globalsRestored = os.cpus === globalsBefore[0] && URL.createObjectURL === globalsBefore[1]
const data = generateSampleDataset({ perClass: 4, size: 32, seed: 5 })

function run(method: 'rfd' | 'rfd-contrastive'): { losses: number[]; paramBits: string } {
  const t = new Trainer(
    parseTrainConfig({
      seed: 3,
      backbone: { arch: 'alexnet32', width: 0.125 },
      method: method === 'rfd' ? { method, nceK: 8 } : { method },
      optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
      schedule: { kind: 'constant', lr: 0.05 },
      batchSize: 16,
      epochs: 10
    }),
    data
  )
  const losses = [0, 1, 2].map(() => t.step().metrics.loss!)
  // FNV-1a over the float bits of every parameter, in creation order.
  let h = 0x811c9dc5
  for (const v of t.params.trainable.values()) {
    const bits = new Uint32Array((v.dataSync() as Float32Array).slice().buffer)
    for (let i = 0; i < bits.length; i++) h = Math.imul(h ^ bits[i]!, 0x01000193) >>> 0
  }
  t.dispose()
  return { losses, paramBits: h.toString(16) }
}

const backend = tf.backend() as unknown as { wasm: { PThread?: { runningWorkers: unknown[] } } }
console.log(
  JSON.stringify({
    info: wasmThreadsInfo(),
    threads: getThreadsCount(),
    pthreads: backend.wasm.PThread?.runningWorkers.length ?? 0,
    multithreadFlag: tf.env().get('WASM_HAS_MULTITHREAD_SUPPORT'),
    globalsRestored,
    rfd: run('rfd'),
    rfdContrastive: run('rfd-contrastive')
  })
)
