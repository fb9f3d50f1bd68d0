// Owns the shader warm-up at worker start: on the webgpu backend, the first training step
// compiles every kernel's pipeline (about 20 s for an AlexNet step; tfjs caches them per
// process), which would otherwise look like a hung first step. One forward+backward step of the
// configured network and method on dummy images compiles them before training, with progress
// reported, and leaves no tensors or variables behind.
import * as tf from '@tensorflow/tfjs-core'
import { Trainer } from '../trainer'
import type { TrainConfig } from '../../src-shared/config/train'
import type { ImageSet } from '../../src-shared/image-set'
import { Rng } from '../../src-shared/rng'

export interface WarmUpProgress {
  phase: 'compiling' | 'done'
  message: string
  /** Seconds the warm-up took (on 'done'). */
  seconds?: number
}

const INPUT_SIZE = { alexnet224: 224, alexnet64: 64, alexnet32: 32 } as const

/**
 * Runs one training step of `config` on random images of the network's input size (one batch,
 * two classes) and throws the trainer away. Returns the seconds it took.
 */
export function warmUpGpuKernels(config: TrainConfig, onProgress: (p: WarmUpProgress) => void = () => {}): number {
  const t0 = performance.now()
  onProgress({ phase: 'compiling', message: `Compiling GPU kernels… (one ${config.backbone.arch} training step on dummy data; ~20 s the first time)` })
  const size = INPUT_SIZE[config.backbone.arch]
  const n = Math.max(2, config.batchSize)
  const rng = new Rng(config.seed)
  const data: ImageSet = {
    images: Uint8Array.from({ length: n * size * size * 3 }, () => rng.int(256)),
    labels: Int32Array.from({ length: n }, (_, i) => i % 2),
    n,
    size,
    classNames: ['a', 'b']
  }
  const before = tf.memory().numTensors
  const trainer = new Trainer({ ...config, epochs: 1 }, data)
  try {
    trainer.step()
  } finally {
    trainer.dispose()
  }
  const leaked = tf.memory().numTensors - before
  if (leaked > 0) console.warn(`GPU warm-up left ${leaked} tensors allocated`)
  const seconds = (performance.now() - t0) / 1000
  onProgress({ phase: 'done', message: `GPU kernels compiled in ${seconds.toFixed(1)} s.`, seconds })
  return seconds
}
