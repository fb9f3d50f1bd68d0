// The built-in sample dataset on disk: the procedurally drawn ten classes
// (src-shared/sample-dataset.ts), written as PNG split and class folders (train/<class>/,
// test/<class>/) so it goes through the same detection, indexing, cache and browsing as a user's
// folder. PNG is lossless and the images are drawn at 64x64, the working size, so the cache holds
// exactly what generateSampleDataset returns, and the splits are those a run config's
// `dataset: { kind: 'sample' }` draws in memory: one sample, whichever way a run names it.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'
import { Transformer } from '@napi-rs/image'
import { SAMPLE_CLASSES, SAMPLE_DRAWING, drawSample, sampleTestSeed } from '../../src-shared/sample-dataset'
import { Rng } from '../../src-shared/rng'
import { Cancelled } from './scan'

export const SAMPLE_SIZE = 64
const MARKER = 'sample.json'

export interface SampleParams {
  perClass: number
  testPerClass: number
  seed: number
}

/**
 * Make sure `dir` holds the sample drawn with `params` by the current drawing
 * (<split>/<class>/<class>-NNNN.png). Drawn into a temporary sibling and renamed into place, so an
 * interrupted run never leaves half a sample. Returns false when it was already there.
 */
export async function materialiseSample(
  dir: string,
  params: SampleParams,
  onImage?: (done: number, total: number) => void,
  isCancelled?: () => boolean
): Promise<boolean> {
  const marker = await fs.readFile(path.join(dir, MARKER), 'utf8').then(
    (t) => JSON.parse(t) as SampleParams & { drawing?: number },
    () => null
  )
  if (
    marker &&
    marker.perClass === params.perClass &&
    marker.testPerClass === params.testPerClass &&
    marker.seed === params.seed &&
    marker.drawing === SAMPLE_DRAWING
  )
    return false
  const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`
  await fs.mkdir(tmp, { recursive: true })
  try {
    const splits = [
      { name: 'train', perClass: params.perClass, seed: params.seed },
      { name: 'test', perClass: params.testPerClass, seed: sampleTestSeed(params.seed) }
    ]
    for (const sp of splits) for (const c of SAMPLE_CLASSES) await fs.mkdir(path.join(tmp, sp.name, c), { recursive: true })
    const total = (params.perClass + params.testPerClass) * SAMPLE_CLASSES.length
    const rgb = new Uint8Array(SAMPLE_SIZE * SAMPLE_SIZE * 3)
    const rgba = new Uint8Array(SAMPLE_SIZE * SAMPLE_SIZE * 4)
    const pending: Promise<void>[] = []
    let done = 0
    for (const sp of splits) {
      // The same sequence as generateSampleDataset({ perClass, seed }): one Rng, classes interleaved.
      const rng = new Rng(sp.seed)
      for (let i = 0; i < sp.perClass * SAMPLE_CLASSES.length; i++) {
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
        pending.push(fs.writeFile(path.join(tmp, sp.name, SAMPLE_CLASSES[cls]!, name), png))
        if (pending.length >= 64) await Promise.all(pending.splice(0))
        if (++done % 100 === 0) onImage?.(done, total)
      }
    }
    await Promise.all(pending)
    await fs.writeFile(
      path.join(tmp, MARKER),
      JSON.stringify({ ...params, drawing: SAMPLE_DRAWING, size: SAMPLE_SIZE, classes: SAMPLE_CLASSES }, null, 2) + '\n'
    )
    await fs.rm(dir, { recursive: true, force: true })
    await fs.rename(tmp, dir)
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true }).catch(() => {})
    throw err
  }
  return true
}
