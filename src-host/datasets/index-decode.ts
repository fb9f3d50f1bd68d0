// The decode stage of an indexing job: every detected image read, checked, decoded to the working
// size (or copied from the previous cache when unchanged) and streamed into its split's cache
// file in sorted order. Memory stays bounded: a few images are decoded at a time (`concurrency`
// in flight, written in order), and only per-image metadata (path, label, size, hash) is kept for
// the index: a folder of 100 000 images needs about its cache's metadata (~20 MB), not its pixels.
import { promises as fs, readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import type { IndexOptions, Problem, SplitName } from '../../src-shared/contract/datasets'
import { SPLIT_NAMES } from '../../src-shared/contract/datasets'
import type { SplitColumns } from '../../src-node/dataset-folder'
import { ImageProblem, decodeImage, resizeRgb } from './decode'
import { CIFAR_RECORD, type Detected, type Item } from './layout'
import { Cancelled, SYNC_IO, absPath } from './scan'
import type { CacheGeneration, PreviousCache } from './cache-generation'
import type { JobHooks, JobProgress } from './index-progress'

/** What reading one image gave: its pixels (null when only measured), or why it is left out. */
type Outcome =
  | { ok: true; rgb: Uint8Array | null; w: number; h: number; hash: string; label: number; reused: boolean }
  | { ok: false; kind: Problem['kind']; reason: string }

export interface DecodeInput {
  source: string
  options: IndexOptions
  detected: Detected
  workingSize: number
  generation: CacheGeneration
  concurrency: number
  /** Every problem found; images left out are added here. */
  problems: Problem[]
  progress: JobProgress
  hooks: JobHooks
}

export interface Decoded {
  /** The splits with at least one usable image. */
  splits: Partial<Record<SplitName, SplitColumns>>
  /** Original sizes of every usable image, for the size statistics. */
  widths: number[]
  heights: number[]
}

function sha1(b: Uint8Array): string {
  return createHash('sha1').update(b).digest('hex')
}

function fileProblem(err: unknown): { kind: Problem['kind']; reason: string } {
  const code = (err as NodeJS.ErrnoException)?.code
  if (code === 'EACCES' || code === 'EPERM') return { kind: 'unreadable', reason: 'permission denied' }
  if (code === 'ENOENT') return { kind: 'unreadable', reason: 'the file disappeared while indexing' }
  if (code === 'ELOOP') return { kind: 'symlink-loop', reason: 'symbolic link loop' }
  if (code === 'EISDIR') return { kind: 'unreadable', reason: 'it is a folder' }
  return { kind: 'unreadable', reason: `cannot read it: ${(err as Error)?.message ?? String(err)}` }
}

/** CIFAR record: label byte + 1024 R + 1024 G + 1024 B -> interleaved 32x32 RGB. */
function cifarToRgb(rec: Uint8Array): Uint8Array {
  const out = new Uint8Array(32 * 32 * 3)
  for (let p = 0; p < 1024; p++) {
    out[p * 3] = rec[1 + p]!
    out[p * 3 + 1] = rec[1 + 1024 + p]!
    out[p * 3 + 2] = rec[1 + 2048 + p]!
  }
  return out
}

/**
 * Reads one item to an Outcome: from the previous cache when unchanged (same path, size and mtime,
 * or same content hash), else decoded; a file that cannot be used becomes a problem, not a throw.
 */
function itemReader(source: string, classCount: number, workingSize: number, generation: CacheGeneration): (it: Item) => Promise<Outcome> {
  const writing = generation.writes
  const prev: PreviousCache | null = generation.previous
  const px = workingSize * workingSize * 3
  // CIFAR batch files are read whole, one at a time (30 MB each), and sliced per record.
  let batchFile: { rel: string; data: Promise<Buffer> } | null = null
  const recordBytes = async (it: Item): Promise<Uint8Array> => {
    const r = it.record!
    if (!batchFile || batchFile.rel !== r.file) batchFile = { rel: r.file, data: fs.readFile(absPath(source, r.file)) }
    const data = await batchFile.data
    return data.subarray(r.offset, r.offset + CIFAR_RECORD)
  }
  return async (it) => {
    try {
      if (it.record) {
        const rec = await recordBytes(it)
        const label = rec[0]!
        if (label < 0 || label >= classCount) return { ok: false, kind: 'corrupt', reason: `label byte ${label} is not one of the ${classCount} classes` }
        const hash = sha1(rec)
        const p = prev?.sameContent(hash)
        if (p && writing) return { ok: true, rgb: await prev!.read(p.ref, px), w: 32, h: 32, hash, label, reused: true }
        const rgb = writing ? await resizeRgb(cifarToRgb(rec), 32, workingSize) : null
        return { ok: true, rgb, w: 32, h: 32, hash, label, reused: false }
      }
      if (writing && prev) {
        const same = prev.unchanged(it)
        if (same) return { ok: true, rgb: await prev.read(same.ref, px), w: same.w, h: same.h, hash: same.hash, label: it.label, reused: true }
      }
      const abs = absPath(source, it.rel)
      const bytes = SYNC_IO ? readFileSync(abs) : await fs.readFile(abs)
      const hash = sha1(bytes)
      if (writing && prev) {
        const same = prev.sameContent(hash)
        if (same) return { ok: true, rgb: await prev.read(same.ref, px), w: same.w, h: same.h, hash, label: it.label, reused: true }
      }
      const dec = await decodeImage(bytes, writing ? workingSize : null)
      return { ok: true, rgb: dec.rgb, w: dec.width, h: dec.height, hash, label: it.label, reused: false }
    } catch (err) {
      if (err instanceof ImageProblem) return { ok: false, kind: err.kind, reason: err.message }
      if ((err as NodeJS.ErrnoException)?.code) return { ok: false, ...fileProblem(err) }
      throw err
    }
  }
}

/** First copy of each content hash seen so far, across splits. */
type SeenHashes = Map<string, { rel: string; split: SplitName }>

/**
 * Whether a read image goes into the cache: too small, or a copy of an earlier image of the same
 * split, is left out (with a problem); a copy in another split is kept, with a leak warning.
 */
function admit(out: Extract<Outcome, { ok: true }>, it: Item, split: SplitName, minSide: number, seen: SeenHashes, problems: Problem[]): boolean {
  if (Math.min(out.w, out.h) < minSide) {
    problems.push({ kind: 'too-small', path: it.rel, reason: `${out.w}x${out.h} is below the minimum side of ${minSide} pixels: left out`, skipped: true })
    return false
  }
  const first = seen.get(out.hash)
  if (first) {
    if (first.split === split) {
      problems.push({ kind: 'duplicate', path: it.rel, reason: `same content as ${first.rel}: left out (the first copy is kept)`, skipped: true })
      return false
    }
    problems.push({
      kind: 'duplicate',
      path: it.rel,
      reason: `same content as ${first.rel} in the ${first.split} split: kept in both splits (may leak between them)`,
      skipped: false
    })
  } else seen.set(out.hash, { rel: it.rel, split })
  return true
}

/** Decode every split in SPLIT_NAMES order into the generation; throws Cancelled when asked to stop. */
export async function decodeSplits(input: DecodeInput): Promise<Decoded> {
  const { detected: d, progress } = input
  const read = itemReader(input.source, d.classIds.length, input.workingSize, input.generation)
  const seen: SeenHashes = new Map()
  const out: Decoded = { splits: {}, widths: [], heights: [] }
  progress.startDecoding()
  for (const split of SPLIT_NAMES) {
    const items = d.items.filter((it) => it.split === split)
    if (items.length === 0) continue
    const cols = await decodeSplit(input, split, items, read, seen, out)
    if (cols) out.splits[split] = cols
  }
  return out
}

/** One split's items, read in a sliding window and written in order; null when none was usable (its file is removed). */
async function decodeSplit(
  input: DecodeInput,
  split: SplitName,
  items: Item[],
  read: (it: Item) => Promise<Outcome>,
  seen: SeenHashes,
  sizes: Pick<Decoded, 'widths' | 'heights'>
): Promise<SplitColumns | null> {
  const { progress, problems, hooks, concurrency } = input
  const writer = await input.generation.openSplit(split, input.workingSize * input.workingSize * 3)
  const cols: SplitColumns = {
    file: writer.file,
    count: 0,
    sha256: '',
    labelled: split !== 'unlabelled',
    paths: [],
    labels: [],
    widths: [],
    heights: [],
    bytes: [],
    mtimes: [],
    hashes: []
  }
  try {
    // Consumed in order, so the cache order is the sorted item order whatever finishes first.
    const inflight = new Map<number, Promise<Outcome>>()
    let next = 0
    for (let i = 0; i < items.length; i++) {
      while (next < items.length && next < i + concurrency) {
        inflight.set(next, read(items[next]!))
        next++
      }
      if (hooks.isCancelled()) {
        await Promise.allSettled(inflight.values())
        throw new Cancelled()
      }
      const out = await inflight.get(i)!
      inflight.delete(i)
      const it = items[i]!
      if (!out.ok) {
        problems.push({ kind: out.kind, path: it.rel, reason: out.reason, skipped: true })
        progress.skip()
        continue
      }
      if (!admit(out, it, split, input.options.minImageSide, seen, problems)) {
        progress.skip()
        continue
      }
      if (out.reused) progress.reused++
      else progress.decoded++
      cols.paths.push(it.rel)
      cols.labels.push(split === 'unlabelled' ? -1 : out.label)
      cols.widths.push(out.w)
      cols.heights.push(out.h)
      cols.bytes.push(it.record ? CIFAR_RECORD : it.size)
      cols.mtimes.push(it.mtimeMs)
      cols.hashes.push(out.hash)
      sizes.widths.push(out.w)
      sizes.heights.push(out.h)
      cols.count++
      await writer.add(out.rgb)
      progress.send()
    }
    cols.sha256 = await writer.finish()
  } finally {
    await writer.close()
  }
  if (cols.count > 0) return cols
  await input.generation.dropSplit(writer)
  return null
}
