// Rotation previews: for chosen images of a run's dataset, the four rotated views exactly as the
// network receives them (exact quarter turns of the cached pixels) and the model's predicted
// rotation probabilities, from a chosen pretraining checkpoint, the newest one, or the finished model.
import path from 'node:path'
import * as tf from '@tensorflow/tfjs-core'
import { Trainer } from '../../src-engine/trainer'
import { CheckpointStore } from '../../src-engine/checkpoint'
import { loadParams } from '../../src-engine/pipeline'
import type { RegisteredReader } from '../../src-engine/data/sources'
import { classNameOf, hostBackend, imageRgb, pickImages, runSplit } from './run-images'
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

export type PreviewWeights = 'latest' | 'final' | number

/** The pretraining weights to predict with, and the checkpoint they come from (null = finished model). */
async function pretrainWeights(runDir: string, which: PreviewWeights): Promise<{ params: TrainerState['params']; checkpoint: number | null }> {
  const store = new CheckpointStore(path.join(runDir, 'checkpoints'))
  const final = async (): Promise<TrainerState['params'] | null> => loadParams(path.join(runDir, 'artifacts', 'model-pretrain'))
  if (which === 'final') {
    const params = await final()
    if (!params) throw new ServiceError('Pretraining has not finished yet: choose a checkpoint instead.', 'invalid-argument')
    return { params, checkpoint: null }
  }
  const ck = typeof which === 'number' ? await store.load(which).catch((err: Error) => Promise.reject(new ServiceError(`Checkpoint ${which}: ${err.message}.`, 'invalid-argument'))) : await store.loadLatest()
  const state = ck?.state as { stage?: string; trainer?: TrainerState | null } | undefined
  if (state?.stage === 'pretrain' && state.trainer) return { params: state.trainer.params, checkpoint: ck!.seq }
  if (typeof which === 'number') throw new ServiceError(`Checkpoint ${which} was taken during ${state?.stage ?? 'another stage'}, which has no rotation head: choose a pretraining checkpoint or the finished model.`, 'invalid-argument')
  const params = await final()
  if (!params) throw new ServiceError('No checkpoint of this run has a trained model yet: wait for the first epoch to finish.')
  return { params, checkpoint: null }
}

export async function rotationPreview(
  runDir: string,
  config: RunConfig,
  o: { count: number; split: 'train' | 'test'; seed: number; indices?: number[]; checkpoint: PreviewWeights },
  readRegistered?: RegisteredReader
): Promise<PreviewResult> {
  const method = config.pretrain.method.method
  if (!config.pretrain.enabled || !['rotnet', 'rfd', 'rfd-contrastive'].includes(method)) {
    throw new ServiceError(`This run has no rotation head to preview (its pretraining is ${config.pretrain.enabled ? method : 'off'}).`)
  }
  await hostBackend()
  const { params, checkpoint } = await pretrainWeights(runDir, o.checkpoint)
  const set = await runSplit(config, o.split, readRegistered)
  const idx = pickImages(set, o)
  const trainer = new Trainer(
    { seed: config.seed, backbone: config.backbone, method: config.pretrain.method, optimizer: config.pretrain.optimizer, schedule: config.pretrain.schedule, batchSize: config.pretrain.batchSize, epochs: 1, hflip: false },
    set
  )
  try {
    trainer.params.load(params)
    const probs = tf.tidy(() => {
      const x = makeBatch(set, idx, { inputSize: trainer.backbone.inputSize, training: false, hflip: false }, new Rng(o.seed))
      const { views } = rotateBatch(x)
      return tf.softmax(trainer.predictRotation(views))
    })
    const p = await probs.data()
    probs.dispose()
    return {
      checkpoint,
      images: Array.from(idx, (index, k) => {
        const rgb = imageRgb(set, index)
        return {
          index,
          label: set.labels[index]!,
          className: classNameOf(set, set.labels[index]!),
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
