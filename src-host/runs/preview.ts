// Rotation previews: for chosen images of a run's dataset, the four rotated views exactly as the
// network receives them (exact quarter turns of the cached pixels) and the model's predicted
// rotation probabilities, from the newest checkpoint of pretraining (or the finished model).
import path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../src-engine/backends'
import { Trainer } from '../../src-engine/trainer'
import { CheckpointStore } from '../../src-engine/checkpoint'
import { loadParams } from '../../src-engine/pipeline'
import { loadSplits, type RegisteredReader } from '../../src-engine/data/sources'
import { makeBatch } from '../../src-engine/data/batcher'
import { rotateBatch } from '../../src-engine/data/rotate'
import type { TrainerState } from '../../src-engine/trainer-state'
import type { RunConfig } from '../../src-shared/config/run'
import { Rng } from '../../src-engine/util/rng'
import { ServiceError } from '../errors'
import { pngDataUrl, rotateRgb } from '../png'

export interface PreviewResult {
  checkpoint: number | null
  images: { index: number; label: number; className: string; views: { rotation: 0 | 1 | 2 | 3; png: string; probs: number[] }[] }[]
}

let backendReady: Promise<unknown> | null = null

export async function rotationPreview(
  runDir: string,
  config: RunConfig,
  o: { count: number; split: 'train' | 'test'; seed: number },
  readRegistered?: RegisteredReader
): Promise<PreviewResult> {
  const method = config.pretrain.method.method
  if (!config.pretrain.enabled || !['rotnet', 'rfd', 'rfd-contrastive'].includes(method)) {
    throw new ServiceError(`This run has no rotation head to preview (its pretraining is ${config.pretrain.enabled ? method : 'off'}).`)
  }
  // One backend for the host process; previews are small, so the fastest one that loads will do.
  backendReady ??= selectBackend('auto')
  await backendReady
  // The newest checkpoint taken during pretraining, else the finished model.
  const latest = await new CheckpointStore(path.join(runDir, 'checkpoints')).loadLatest()
  const state = latest?.state as { stage?: string; trainer?: TrainerState | null } | undefined
  let params = state?.stage === 'pretrain' && state.trainer ? state.trainer.params : null
  let checkpoint: number | null = params ? latest!.seq : null
  params ??= await loadParams(path.join(runDir, 'artifacts', 'model-pretrain'))
  if (!params) throw new ServiceError('No checkpoint of this run has a trained model yet: wait for the first epoch to finish.')
  if (!checkpoint) checkpoint = null

  const data = await loadSplits(config.dataset, readRegistered)
  const set = o.split === 'train' ? data.train : data.test
  const trainer = new Trainer(
    { seed: config.seed, backbone: config.backbone, method: config.pretrain.method, optimizer: config.pretrain.optimizer, schedule: config.pretrain.schedule, batchSize: config.pretrain.batchSize, epochs: 1, hflip: false },
    set
  )
  try {
    trainer.params.load(params)
    const rng = new Rng(o.seed)
    const picked = new Set<number>()
    while (picked.size < Math.min(o.count, set.n)) picked.add(rng.int(set.n))
    const idx = Int32Array.from([...picked].sort((a, b) => a - b))
    const probs = tf.tidy(() => {
      const x = makeBatch(set, idx, { inputSize: trainer.backbone.inputSize, training: false, hflip: false }, rng)
      const { views } = rotateBatch(x)
      return tf.softmax(trainer.predictRotation(views))
    })
    const p = await probs.data()
    probs.dispose()
    const px = set.size * set.size * 3
    return {
      checkpoint,
      images: Array.from(idx, (index, k) => {
        const rgb = set.images.subarray(index * px, (index + 1) * px)
        return {
          index,
          label: set.labels[index]!,
          className: set.classNames[set.labels[index]!] ?? String(set.labels[index]),
          views: ([0, 1, 2, 3] as const).map((r) => ({
            rotation: r,
            png: pngDataUrl(rotateRgb(rgb, set.size, r), set.size, set.size),
            probs: Array.from(p.subarray((4 * k + r) * 4, (4 * k + r) * 4 + 4))
          }))
        }
      })
    }
  } finally {
    trainer.dispose()
  }
}
