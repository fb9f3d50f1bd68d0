// The sample with cues a tiny network picks up within a few dozen steps: a dark band along the
// bottom edge (which way is up) and a band of a colour per class along the top (which class).
// Tests of whether the engine learns at all (a loss that falls in 30 steps, PU weights of
// upright images) use it. The sample itself has no such cue on purpose: there, orientation is in
// the objects' shapes and takes epochs to learn (see src-shared/sample-dataset.ts).
import { generateSampleDataset } from '../../src-shared/sample-dataset'
import type { ImageSet } from '../../src-shared/image-set'

const CLASS_COLOURS: [number, number, number][] = [
  [230, 25, 75],
  [60, 180, 75],
  [255, 225, 25],
  [0, 130, 200],
  [245, 130, 48],
  [145, 30, 180],
  [70, 240, 240],
  [240, 50, 230],
  [210, 245, 60],
  [250, 190, 212]
]

export function cuedSample(opts: { perClass: number; size?: number; seed?: number }): ImageSet {
  const set = generateSampleDataset(opts)
  const s = set.size
  const top = Math.max(2, Math.round(s / 6))
  const bottom = Math.max(2, Math.round(s / 4))
  for (let n = 0; n < set.n; n++) {
    const colour = CLASS_COLOURS[set.labels[n]! % CLASS_COLOURS.length]!
    for (let y = 0; y < s; y++) {
      if (y >= top && y < s - bottom) continue
      for (let x = 0; x < s; x++)
        for (let c = 0; c < 3; c++) {
          const o = ((n * s + y) * s + x) * 3 + c
          set.images[o] = y < top ? colour[c]! : 10
        }
    }
  }
  return set
}
