// The built-in sample dataset on disk: the procedurally drawn ten classes
// (src-shared/sample-dataset.ts), written as PNG class folders so it goes through the same
// detection, indexing, cache and browsing as a user's folder. PNG is lossless and the images are
// drawn at 64x64, the working size, so the cache holds exactly what generateSampleDataset returns.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Transformer } from '@napi-rs/image'
import { SAMPLE_CLASSES, drawSample } from '../../src-shared/sample-dataset'
import { Rng } from '../../src-shared/rng'
import { Cancelled } from './scan'

export const SAMPLE_SIZE = 64
const MARKER = 'sample.json'

export interface SampleParams {
  perClass: number
  seed: number
}

/**
 * Make sure `dir` holds the sample drawn with `params` (<class>/<class>-NNNN.png). Drawn into a
 * temporary sibling and renamed into place, so an interrupted run never leaves half a sample.
 * Returns false when it was already there.
 */
export async function materialiseSample(dir: string, params: SampleParams, onImage?: (done: number, total: number) => void, isCancelled?: () => boolean): Promise<boolean> {
  const marker = await fs.readFile(path.join(dir, MARKER), 'utf8').then((t) => JSON.parse(t) as SampleParams, () => null)
  if (marker && marker.perClass === params.perClass && marker.seed === params.seed) return false
  const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`
  await fs.mkdir(tmp, { recursive: true })
  try {
    for (const c of SAMPLE_CLASSES) await fs.mkdir(path.join(tmp, c))
    const total = params.perClass * SAMPLE_CLASSES.length
    const rgb = new Uint8Array(SAMPLE_SIZE * SAMPLE_SIZE * 3)
    const rgba = new Uint8Array(SAMPLE_SIZE * SAMPLE_SIZE * 4)
    // The same sequence as generateSampleDataset({ perClass, seed }): one Rng, classes interleaved.
    const rng = new Rng(params.seed)
    const pending: Promise<void>[] = []
    for (let i = 0; i < total; i++) {
      if (isCancelled?.()) throw new Cancelled()
      const cls = i % SAMPLE_CLASSES.length
      drawSample(cls, SAMPLE_SIZE, rng, rgb)
      for (let p = 0; p < SAMPLE_SIZE * SAMPLE_SIZE; p++) {
        rgba[p * 4] = rgb[p * 3]!
        rgba[p * 4 + 1] = rgb[p * 3 + 1]!
        rgba[p * 4 + 2] = rgb[p * 3 + 2]!
        rgba[p * 4 + 3] = 255
      }
      const png = Transformer.fromRgbaPixels(rgba, SAMPLE_SIZE, SAMPLE_SIZE).pngSync()
      const name = `${SAMPLE_CLASSES[cls]}-${String(Math.floor(i / SAMPLE_CLASSES.length)).padStart(4, '0')}.png`
      pending.push(fs.writeFile(path.join(tmp, SAMPLE_CLASSES[cls]!, name), png))
      if (pending.length >= 64) await Promise.all(pending.splice(0))
      if (i % 100 === 99) onImage?.(i + 1, total)
    }
    await Promise.all(pending)
    await fs.writeFile(path.join(tmp, MARKER), JSON.stringify({ ...params, size: SAMPLE_SIZE, classes: SAMPLE_CLASSES }, null, 2) + '\n')
    await fs.rm(dir, { recursive: true, force: true })
    await fs.rename(tmp, dir)
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {})
    throw err
  }
  return true
}
