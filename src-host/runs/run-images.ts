// Images of a run's dataset for the renderer: thumbnails of a split (paged or by index, for the
// picker and the maps' hover), and the training views the run's pretraining method makes of them.
// Splits are decoded once and kept for the last two runs asked about: a preview, a page of
// thumbnails and a map hover all read the same split within seconds of each other.
import * as tf from '@tensorflow/tfjs-core'
import type { z } from 'zod'
import type { AugmentResultSchema, RunImagesResultSchema } from '../../src-shared/contract'
import type { RunConfig } from '../../src-shared/config/run'
import { loadSplits, type RegisteredReader } from '../../src-engine/data/sources'
import type { ImageSet } from '../../src-engine/data/sample-dataset'
import { makeBatch } from '../../src-engine/data/batcher'
import { simclrAugment } from '../../src-engine/data/augment'
import { Rng } from '../../src-engine/util/rng'
import { selectBackend } from '../../src-engine/backends'
import { inputSizeOf } from '../../src-engine/models/alexnet'
import { ServiceError } from '../errors'
import { pngDataUrl } from '../png'

type Split = 'train' | 'test'
export type RunImages = z.infer<typeof RunImagesResultSchema>
export type AugmentResult = z.infer<typeof AugmentResultSchema>

const cache = new Map<string, Promise<ImageSet>>()
const KEEP = 2

/** The decoded split of a run's dataset (shared by previews, thumbnails and augmentations). */
export function runSplit(config: RunConfig, split: Split, reader?: RegisteredReader): Promise<ImageSet> {
  const key = `${JSON.stringify(config.dataset)}|${split}`
  let p = cache.get(key)
  if (p) {
    cache.delete(key) // re-insert: most recently used last
  } else {
    p = loadSplits(config.dataset, reader).then((s) => (split === 'train' ? s.train : s.test))
    p.catch(() => cache.delete(key))
  }
  cache.set(key, p)
  while (cache.size > KEEP) cache.delete(cache.keys().next().value!)
  return p
}

/** Indices of the images to show: the picked ones (checked against the split), else `count` drawn with `seed`. */
export function pickImages(set: ImageSet, o: { count: number; seed: number; indices?: number[] }): Int32Array {
  if (o.indices) {
    const bad = o.indices.find((i) => i >= set.n)
    if (bad !== undefined) throw new ServiceError(`Image #${bad} does not exist: this split has ${set.n} images (0–${set.n - 1}).`, 'invalid-argument')
    return Int32Array.from(new Set(o.indices))
  }
  const rng = new Rng(o.seed)
  const picked = new Set<number>()
  while (picked.size < Math.min(o.count, set.n)) picked.add(rng.int(set.n))
  return Int32Array.from([...picked].sort((a, b) => a - b))
}

export function imageRgb(set: ImageSet, index: number): Uint8Array {
  const px = set.size * set.size * 3
  return set.images.subarray(index * px, (index + 1) * px)
}

export const classNameOf = (set: ImageSet, label: number): string => set.classNames[label] ?? String(label)

/** Thumbnails (the cached pixels, as PNG) of a page of the split or of given indices. */
export async function runImages(config: RunConfig, o: { split: Split; indices?: number[]; offset: number; limit: number }, reader?: RegisteredReader): Promise<RunImages> {
  const set = await runSplit(config, o.split, reader)
  const idx = o.indices ? pickImages(set, { count: 0, seed: 0, indices: o.indices }) : Int32Array.from({ length: Math.max(0, Math.min(o.limit, set.n - o.offset)) }, (_, k) => o.offset + k)
  return {
    split: o.split,
    total: set.n,
    size: set.size,
    classNames: set.classNames,
    items: Array.from(idx, (index) => ({ index, label: set.labels[index]!, png: pngDataUrl(imageRgb(set, index), set.size, set.size) }))
  }
}

let backendReady: Promise<unknown> | null = null
/** One tensor backend for the host process; previews are small, so the fastest one that loads will do. */
export function hostBackend(): Promise<unknown> {
  backendReady ??= selectBackend('auto')
  return backendReady
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
export async function augmentations(config: RunConfig, o: { split: Split; count: number; seed: number; indices?: number[]; views: number }, reader?: RegisteredReader): Promise<AugmentResult> {
  await hostBackend()
  const set = await runSplit(config, o.split, reader)
  const idx = pickImages(set, o)
  const m = config.pretrain.method
  const inputSize = inputSizeOf(config.backbone.arch)
  const hflip = config.pretrain.hflip
  const crop = inputSize !== set.size ? `resize to ${Math.round((inputSize * 256) / 224)} px and random ${inputSize}-px crop` : null
  const description =
    m.method === 'simclr'
      ? `random resized crop (area ${m.minCropScale}–1, aspect 3/4–4/3) with flip, colour jitter ${m.jitter} (p 0.8), grayscale (p 0.2), ${inputSize} px`
      : [hflip ? 'random horizontal flip' : 'no flip', crop ?? `${inputSize} px as cached`].join(', ') + (m.method === 'supervised' ? '' : '; each view is then turned 0°, 90°, 180° and 270°')
  const rng = new Rng(o.seed)
  const out = tf.tidy(() => {
    const views: tf.Tensor4D[] = []
    for (let v = 0; v < o.views; v++) {
      const x = makeBatch(set, idx, { inputSize, training: true, hflip: m.method !== 'simclr' && hflip, raw: true }, rng)
      views.push(m.method === 'simclr' ? simclrAugment(x, { minScale: m.minCropScale, jitter: m.jitter, outSize: inputSize }, rng) : x)
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
      views: Array.from({ length: o.views }, (_, v) => floatToPng(data.subarray((k * o.views + v) * per, (k * o.views + v + 1) * per) as Float32Array, inputSize))
    }))
  }
}
