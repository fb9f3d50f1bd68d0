// Previews of what a run's network sees and predicts, computed in the analysis worker (never on
// the host's thread: a 224-pixel AlexNet takes seconds per batch on a CPU):
// - rotation previews: the four rotated views of chosen images exactly as the network receives
//   them (exact quarter turns of the cached pixels) with the predicted rotation probabilities,
//   from a chosen pretraining checkpoint, the newest one, or the finished model;
// - training views: the views the run's pretraining method makes of them (SimCLR's
//   augmentations; the rotation methods' flips and crops), drawn by the training code itself.
import * as tf from '@tensorflow/tfjs-core'
import { Trainer } from './trainer'
import { trainConfigFor } from './train-config'
import { CheckpointStore } from '../src-node/checkpoint'
import { STAGE_WEIGHTS, readWeights, runPaths } from '../src-node/run-folder'
import type { AugmentOptions, AugmentResult, PreviewOptions, PreviewResult } from '../src-shared/contract/runs'
import type { RegisteredReader } from './data/sources'
import { classNameOf, imageRgb, pickImages, PreviewInputError, runSplit } from './data/run-split'
import { makeBatch } from './data/batcher'
import { rotateBatch } from './data/rotate'
import { simclrAugment } from './data/augment'
import { inputSizeOf } from './models/alexnet'
import type { TrainerState } from './trainer-state'
import type { RunConfig } from '../src-shared/config/run'
import { findMethod, methodEntry, simclrPairOf } from '../src-shared/methods/catalog'
import { Rng } from '../src-shared/rng'
import { pngDataUrl, rotateRgb } from './util/png'

export type PreviewWeights = PreviewOptions['checkpoint']

/** The pretraining weights to predict with, and the checkpoint they come from (null = finished model). */
async function pretrainWeights(runDir: string, which: PreviewWeights): Promise<{ params: TrainerState['params']; checkpoint: number | null }> {
  const store = new CheckpointStore(runPaths(runDir).checkpoints)
  const final = async (): Promise<TrainerState['params'] | null> => readWeights(runDir, STAGE_WEIGHTS.pretrain.model)
  if (which === 'final') {
    const params = await final()
    if (!params) throw new PreviewInputError('Pretraining has not finished yet: choose a checkpoint instead.')
    return { params, checkpoint: null }
  }
  const ck =
    typeof which === 'number'
      ? await store.load(which).catch((err: Error) => Promise.reject(new PreviewInputError(`Checkpoint ${which}: ${err.message}.`)))
      : await store.loadLatest()
  const state = ck?.state as { stage?: string; trainer?: TrainerState | null } | undefined
  if (state?.stage === 'pretrain' && state.trainer) return { params: state.trainer.params, checkpoint: ck!.seq }
  if (typeof which === 'number')
    throw new PreviewInputError(
      `Checkpoint ${which} was taken during ${state?.stage ?? 'another stage'}, which has no rotation head: choose a pretraining checkpoint or the finished model.`
    )
  const params = await final()
  if (!params) throw new Error('No checkpoint of this run has a trained model yet: wait for the first epoch to finish.')
  return { params, checkpoint: null }
}

export async function rotationPreview(runDir: string, config: RunConfig, o: PreviewOptions, readRegistered?: RegisteredReader): Promise<PreviewResult> {
  const method = config.pretrain.method.method
  if (!config.pretrain.enabled || !findMethod(method)?.traits.rotationHead) {
    throw new Error(`This run has no rotation head to preview (its pretraining is ${config.pretrain.enabled ? method : 'off'}).`)
  }
  const { params, checkpoint } = await pretrainWeights(runDir, o.checkpoint)
  const set = await runSplit(config, o.split, readRegistered)
  const idx = pickImages(set, o)
  const trainer = new Trainer(trainConfigFor(config, 'pretrain', { epochs: 1, hflip: false }), set)
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

function floatToPng(x: Float32Array, size: number): string {
  const rgb = new Uint8Array(x.length)
  for (let i = 0; i < x.length; i++) rgb[i] = Math.max(0, Math.min(255, Math.round(x[i]! * 255)))
  return pngDataUrl(rgb, size, size)
}

/**
 * `views` training views of each image, made exactly as the run's pretraining does: the batcher's
 * flip (and crop when the backbone upsamples), then SimCLR's augmentations for SimCLR. Shown in
 * [0,1] RGB, before ImageNet normalisation.
 */
export async function augmentations(config: RunConfig, o: AugmentOptions, reader?: RegisteredReader): Promise<AugmentResult> {
  const set = await runSplit(config, o.split, reader)
  const idx = pickImages(set, o)
  const m = config.pretrain.method
  const inputSize = inputSizeOf(config.backbone.arch)
  const hflip = config.pretrain.hflip
  const crop = inputSize !== set.size ? `resize to ${Math.round((inputSize * 256) / 224)} px and random ${inputSize}-px crop` : null
  const pair = simclrPairOf(m)
  const description = pair
    ? `random resized crop (area ${pair.minCropScale}–1, aspect 3/4–4/3) with flip, colour jitter ${pair.jitter} (p 0.8), grayscale (p 0.2), ${inputSize} px`
    : [hflip ? 'random horizontal flip' : 'no flip', crop ?? `${inputSize} px as cached`].join(', ') +
      (methodEntry(m.method).traits.views === 'rotations' ? '; each view is then turned 0°, 90°, 180° and 270°' : '')
  const rng = new Rng(o.seed)
  const out = tf.tidy(() => {
    const views: tf.Tensor4D[] = []
    for (let v = 0; v < o.views; v++) {
      const x = makeBatch(set, idx, { inputSize, training: true, hflip: !pair && hflip, raw: true }, rng)
      views.push(pair ? simclrAugment(x, { minScale: pair.minCropScale, jitter: pair.jitter, outSize: inputSize }, rng) : x)
    }
    return tf.stack(views, 1) as tf.Tensor5D // [B, V, S, S, 3]
  })
  const data = await out.data()
  out.dispose()
  const per = inputSize * inputSize * 3
  return {
    method: m.method,
    description,
    size: inputSize,
    images: Array.from(idx, (index, k) => ({
      index,
      label: set.labels[index]!,
      className: classNameOf(set, set.labels[index]!),
      original: pngDataUrl(imageRgb(set, index), set.size, set.size),
      views: Array.from({ length: o.views }, (_, v) =>
        floatToPng(data.subarray((k * o.views + v) * per, (k * o.views + v + 1) * per) as Float32Array, inputSize)
      )
    }))
  }
}
