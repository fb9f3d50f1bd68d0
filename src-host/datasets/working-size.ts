// The working size: the side of the square images a dataset is cached at. One decision for
// `dataset inspect` (what it says `add` would choose) and `dataset add` (what it does choose), made
// before any image is decoded, since indexing resizes each image as it decodes it.
//
// Rule: the size asked for; else the layout's native size (CIFAR-10 32, Tiny-ImageNet 64); else,
// when every sampled image (read from the file headers, up to SIZE_PROBES spread evenly over the
// files) has the same size, its shorter side (at most 512); else 64.
import { promises as fs, readFileSync } from 'node:fs'
import type { IndexOptions } from '../../src-shared/contract/datasets'
import { overLimits, readHeader, sniffFormat } from './decode'
import type { Detected } from './layout'
import { Cancelled, SYNC_IO, absPath } from './scan'

/** How many image headers are read to find the common size. */
export const SIZE_PROBES = 48
/** The working size when the images differ in size. */
export const DEFAULT_WORKING_SIZE = 64
/** The largest working size chosen without being asked for (the option's own maximum). */
export const MAX_AUTO_WORKING_SIZE = 512

export interface WorkingSize {
  size: number
  /** Why this size, in words. */
  reason: string
}

/** What the headers of the sampled images said: how many were read, and their sizes (upright). */
export interface SizeProbe {
  probed: number
  sizes: { width: number; height: number }[]
}

/** The decision from what is known: the option, the layout's native size, the sampled sizes. */
export function decideWorkingSize(options: Pick<IndexOptions, 'workingSize'>, layout: Pick<Detected, 'kind' | 'nativeSize'>, probe: SizeProbe): WorkingSize {
  if (options.workingSize) return { size: options.workingSize, reason: `working size ${options.workingSize}, as chosen` }
  if (layout.nativeSize) return { size: layout.nativeSize, reason: `working size ${layout.nativeSize}: the native size of ${layout.kind}` }
  const distinct = new Map<string, { width: number; height: number }>()
  for (const s of probe.sizes) distinct.set(`${s.width}x${s.height}`, s)
  if (distinct.size === 1) {
    const { width: w, height: h } = [...distinct.values()][0]!
    const s = Math.min(w, h, MAX_AUTO_WORKING_SIZE)
    return { size: s, reason: `working size ${s}: every sampled image is ${w}x${h}${w !== h ? ' (centre-cropped to a square)' : ''}` }
  }
  const why =
    distinct.size === 0
      ? `none of the ${probe.probed} sampled images has a readable size`
      : `the ${probe.probed} sampled images have ${distinct.size} different sizes`
  return { size: DEFAULT_WORKING_SIZE, reason: `working size ${DEFAULT_WORKING_SIZE}: ${why} (choose another with the working size option)` }
}

/**
 * Read the headers of up to SIZE_PROBES image files spread evenly over `d`'s items. Files whose
 * size cannot be read, over the decoding limit, or below `minImageSide` (they will be left out)
 * say nothing about the size of the rest and are not counted in `sizes`.
 */
export async function probeSizes(
  source: string,
  d: Pick<Detected, 'items'>,
  minImageSide: number,
  isCancelled: () => boolean = () => false
): Promise<SizeProbe> {
  const files = d.items.filter((it) => !it.record)
  const probed = Math.min(files.length, SIZE_PROBES)
  const sizes: SizeProbe['sizes'] = []
  for (let k = 0; k < probed; k++) {
    if (isCancelled()) throw new Cancelled()
    const it = files[Math.floor((k * files.length) / probed)]!
    try {
      const abs = absPath(source, it.rel)
      const bytes = SYNC_IO ? readFileSync(abs) : await fs.readFile(abs)
      const format = sniffFormat(bytes)
      const meta = format ? readHeader(bytes, format) : null
      if (!meta) continue
      const { width, height } = meta
      if (overLimits(width, height)) continue
      if (Math.min(width, height) < minImageSide) continue
      sizes.push(meta.orientation >= 5 ? { width: height, height: width } : { width, height })
    } catch {
      // A bad file is reported when it is decoded; it says nothing about the size here.
    }
  }
  return { probed, sizes }
}

/** The working size of `d` indexed with `options`: what inspect reports and add uses. */
export async function chooseWorkingSize(
  source: string,
  d: Detected,
  options: Pick<IndexOptions, 'workingSize' | 'minImageSide'>,
  isCancelled?: () => boolean
): Promise<WorkingSize> {
  const probe = options.workingSize || d.nativeSize ? { probed: 0, sizes: [] } : await probeSizes(source, d, options.minImageSide, isCancelled)
  return decideWorkingSize(options, d, probe)
}
