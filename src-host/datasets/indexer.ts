// The indexing job, run inside the indexing worker thread (index-worker.ts) or, where no worker
// can be started, in-process: detect the layout, make the missing splits, decode every image to
// the working size and stream it into one uint8 file per split, then commit the cache index.
//
// Memory stays bounded: a few images are decoded at a time (CONCURRENCY in flight, written in
// order), output goes to disk in chunks of a few MiB, and only per-image metadata (path, label,
// size, hash) is kept for the index. A folder of 100 000 images needs about its cache's metadata
// (~20 MB), not its pixels.
//
// Nothing saved is lost on failure: new cache files get new names (<split>-<generation>.u8) and
// cache/index.json, written atomically at the very end, is the commit point. Until then readers
// keep using the previous generation, which is also where unchanged images are copied from
// instead of decoded again (same path, size and mtime, or same content hash).
import { promises as fs, readFileSync } from 'node:fs'
import path from 'node:path'
import os from 'node:os'
import { createHash, randomBytes } from 'node:crypto'
import type { ClassInfo, Fingerprint, IndexOptions, LayoutKind, Problem, ProblemCounts, SizeStats, SplitInfo, SplitName } from '../../src-shared/contract/datasets'
import { SPLIT_NAMES } from '../../src-shared/contract/datasets'
import { CACHE_FORMAT, RESIZE_POLICY, cacheFileName, datasetPaths, isCacheFileName, readCacheIndex, type CacheIndex, type SplitColumns } from '../../src-node/dataset-folder'
import { writeFileAtomic } from '../../src-node/fsutil'
import { ImageProblem, decodeImage, resizeRgb } from './decode'
import { CIFAR_RECORD, NoLayoutError, detectLayout, type Detected, type Item } from './layout'
import { Cancelled, SYNC_IO, absPath, bytesOfName, type WalkContext } from './scan'
import { chooseWorkingSize } from './working-size'
import { assignSplits } from './splits'
import { materialiseSample, type SampleParams } from './sample'

export interface IndexJob {
  mode: 'inspect' | 'index'
  /** Absolute folder of the images. */
  source: string
  /** datasets/<id> (index mode): cache/ goes below it. */
  datasetDir: string | null
  options: IndexOptions
  /** Draw the built-in sample into `source` first. */
  sample?: SampleParams
  /** Decodes in flight (default: 4 per core, at least 4). */
  concurrency?: number
}

export interface ProgressUpdate {
  phase: 'scanning' | 'decoding' | 'finishing'
  filesSeen: number
  total: number
  decoded: number
  reused: number
  skipped: number
  elapsedMs: number
  etaSeconds: number | null
  message: string | null
}

export interface IndexOutcome {
  layout: LayoutKind
  evidence: string[]
  classIds: string[]
  classNames: string[]
  classes: ClassInfo[]
  splits: SplitInfo[]
  problems: Problem[]
  problemCounts: ProblemCounts
  sizeStats: SizeStats
  workingSize: number
  /** Why this working size, in words. */
  workingSizeReason: string
  files: number
  usable: number
  decoded: number
  reused: number
  skipped: number
  fingerprint: Fingerprint | null
  cacheBytes: number
  elapsedMs: number
}

/** Nothing usable: the message says what was looked at. The CLI maps it to exit code 3. */
export class NoUsableImagesError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'NoUsableImagesError'
  }
}

/** The source folder is gone, not a folder, or unreadable. */
export class SourceError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SourceError'
  }
}

export interface JobHooks {
  progress(p: ProgressUpdate): void
  isCancelled(): boolean
}

const SPLIT_ORDER: readonly SplitName[] = SPLIT_NAMES
const PROGRESS_EVERY_MS = 200
const FLUSH_BYTES = 4 << 20

function sha1(b: Uint8Array): string {
  return createHash('sha1').update(b).digest('hex')
}

/** Where an unchanged image can be copied from in the previous cache. */
interface PrevRef {
  split: SplitName
  slot: number
}

class PreviousCache {
  private readonly byPath = new Map<string, { ref: PrevRef; bytes: number; mtime: number; hash: string; w: number; h: number }>()
  private readonly byHash = new Map<string, { ref: PrevRef; w: number; h: number }>()
  private readonly handles = new Map<SplitName, Promise<fs.FileHandle>>()
  constructor(
    readonly index: CacheIndex,
    private readonly dir: string
  ) {
    for (const name of SPLIT_ORDER) {
      const s = index.splits[name]
      if (!s) continue
      for (let i = 0; i < s.count; i++) {
        const rec = { ref: { split: name, slot: i }, bytes: s.bytes[i]!, mtime: s.mtimes[i]!, hash: s.hashes[i]!, w: s.widths[i]!, h: s.heights[i]! }
        this.byPath.set(s.paths[i]!, rec)
        this.byHash.set(rec.hash, rec)
      }
    }
  }
  unchanged(it: Item): { ref: PrevRef; hash: string; w: number; h: number } | null {
    const p = this.byPath.get(it.rel)
    return p && p.bytes === it.size && p.mtime === it.mtimeMs ? p : null
  }
  sameContent(hash: string): { ref: PrevRef; w: number; h: number } | null {
    return this.byHash.get(hash) ?? null
  }
  async read(ref: PrevRef, px: number): Promise<Uint8Array> {
    let h = this.handles.get(ref.split)
    if (!h) {
      h = fs.open(path.join(this.dir, this.index.splits[ref.split]!.file), 'r')
      this.handles.set(ref.split, h)
    }
    const out = new Uint8Array(px)
    const { bytesRead } = await (await h).read(out, 0, px, ref.slot * px)
    if (bytesRead !== px) throw new Error('previous cache file is shorter than its index')
    return out
  }
  async close(): Promise<void> {
    for (const h of this.handles.values()) await (await h.catch(() => null))?.close()
  }
}

type Outcome =
  | { ok: true; rgb: Uint8Array | null; w: number; h: number; hash: string; label: number; reused: boolean }
  | { ok: false; kind: Problem['kind']; reason: string }

function itemOrder(a: Item, b: Item): number {
  const sa = SPLIT_ORDER.indexOf(a.split)
  const sb = SPLIT_ORDER.indexOf(b.split)
  if (sa !== sb) return sa - sb
  if (a.record && b.record) {
    if (a.record.file !== b.record.file) return a.record.file < b.record.file ? -1 : 1
    return a.record.offset - b.record.offset
  }
  return a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0
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

function sizeStatsOf(widths: number[], heights: number[]): SizeStats {
  const n = widths.length
  if (n === 0) return { images: 0, minWidth: 0, maxWidth: 0, minHeight: 0, maxHeight: 0, medianWidth: 0, medianHeight: 0, common: [] }
  const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor((n - 1) / 2)]!
  const counts = new Map<string, number>()
  let minW = Infinity, maxW = 0, minH = Infinity, maxH = 0
  for (let i = 0; i < n; i++) {
    const w = widths[i]!, h = heights[i]!
    minW = Math.min(minW, w)
    maxW = Math.max(maxW, w)
    minH = Math.min(minH, h)
    maxH = Math.max(maxH, h)
    const k = `${w}x${h}`
    counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  const common = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([k, count]) => {
      const [width, height] = k.split('x').map(Number) as [number, number]
      return { width, height, count }
    })
  return { images: n, minWidth: minW, maxWidth: maxW, minHeight: minH, maxHeight: maxH, medianWidth: median(widths), medianHeight: median(heights), common }
}

export function countProblems(problems: Problem[]): ProblemCounts {
  const c: ProblemCounts = {}
  for (const p of problems) c[p.kind] = (c[p.kind] ?? 0) + 1
  return c
}

/** Run one job. Throws Cancelled, NoLayoutError, NoUsableImagesError or SourceError for the expected failures. */
export async function runIndex(job: IndexJob, hooks: JobHooks): Promise<IndexOutcome> {
  const t0 = performance.now()
  const concurrency = job.concurrency ?? Math.max(4, 4 * os.availableParallelism())
  const counters = { phase: 'scanning' as ProgressUpdate['phase'], filesSeen: 0, total: 0, decoded: 0, reused: 0, skipped: 0, message: null as string | null }
  let lastSent = 0
  let decodeStart = 0
  const send = (force = false): void => {
    const now = performance.now()
    if (!force && now - lastSent < PROGRESS_EVERY_MS) return
    lastSent = now
    const done = counters.decoded + counters.reused + counters.skipped
    let eta: number | null = null
    if (counters.phase === 'decoding' && done > 0 && counters.total > done) eta = ((now - decodeStart) / done) * (counters.total - done) / 1000
    hooks.progress({ ...counters, elapsedMs: now - t0, etaSeconds: eta })
  }

  if (job.sample) {
    counters.message = 'drawing the sample dataset'
    send(true)
    await materialiseSample(job.source, job.sample, (done) => {
      counters.message = `drawing the sample dataset (${done} images)`
      send()
    }, hooks.isCancelled)
    counters.message = null
  }

  const st = await fs.stat(job.source).catch((err: NodeJS.ErrnoException) => err)
  if (st instanceof Error) {
    if (st.code === 'ENOENT') throw new SourceError(`The folder ${job.source} does not exist: it was moved, renamed or deleted, or is on a drive that is not connected. Reconnect it, or add the folder from its new place.`)
    if (st.code === 'EACCES' || st.code === 'EPERM') throw new SourceError(`Cannot open ${job.source}: permission denied. Fix its permissions, or copy the images somewhere you can read.`)
    throw new SourceError(`Cannot open ${job.source}: ${st.message}`)
  }
  if (!st.isDirectory()) throw new SourceError(`${job.source} is a file, not a folder: choose the folder that holds the images.`)

  const problems: Problem[] = []
  const ctx: WalkContext = {
    root: job.source,
    problems,
    onFile: () => {
      counters.filesSeen++
      send()
    },
    isCancelled: () => hooks.isCancelled()
  }
  send(true)
  let d: Detected
  try {
    d = await detectLayout(ctx)
  } catch (err) {
    if (err instanceof NoLayoutError) throw new NoUsableImagesError(err.message)
    throw err
  }
  assignSplits(d, job.options.split)
  d.items.sort(itemOrder)
  counters.total = d.items.length
  counters.skipped = problems.filter((p) => p.skipped && p.kind !== 'empty-class').length
  counters.filesSeen = Math.max(counters.filesSeen, d.sourceFiles.length)

  const writing = job.mode === 'index'
  // Decided the same way in both modes, so inspect tells what add will do.
  const { size: workingSize, reason: workingSizeReason } = await chooseWorkingSize(job.source, d, job.options, () => hooks.isCancelled())
  const px = workingSize * workingSize * 3
  const cacheDir = writing ? datasetPaths(job.datasetDir!).cache : ''
  if (writing) await fs.mkdir(cacheDir, { recursive: true })

  // The previous generation, when it was made the same way (same size and policy).
  let prev: PreviousCache | null = null
  if (writing) {
    const old = await readCacheIndex(job.datasetDir!).catch(() => null)
    if (old && old.size === workingSize && old.resize === RESIZE_POLICY) prev = new PreviousCache(old, cacheDir)
  }

  const gen = randomBytes(6).toString('hex')
  const written: string[] = []
  const splitsOut: Partial<Record<SplitName, SplitColumns>> = {}
  const allW: number[] = []
  const allH: number[] = []
  const seenHash = new Map<string, { rel: string; split: SplitName }>()
  const labelOk = (l: number): boolean => l >= 0 && l < d.classIds.length

  // CIFAR batch files are read whole, one at a time (30 MB each), and sliced per record.
  let batchFile: { rel: string; data: Promise<Buffer> } | null = null
  const recordBytes = async (it: Item): Promise<Uint8Array> => {
    const r = it.record!
    if (!batchFile || batchFile.rel !== r.file) batchFile = { rel: r.file, data: fs.readFile(absPath(job.source, r.file)) }
    const data = await batchFile.data
    return data.subarray(r.offset, r.offset + CIFAR_RECORD)
  }

  const processItem = async (it: Item): Promise<Outcome> => {
    try {
      if (it.record) {
        const rec = await recordBytes(it)
        const label = rec[0]!
        if (!labelOk(label)) return { ok: false, kind: 'corrupt', reason: `label byte ${label} is not one of the ${d.classIds.length} classes` }
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
      const abs = absPath(job.source, it.rel)
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

  counters.phase = 'decoding'
  decodeStart = performance.now()
  send(true)
  try {
    for (const split of SPLIT_ORDER) {
      const items = d.items.filter((it) => it.split === split)
      if (items.length === 0) continue
      const cols: SplitColumns = {
        file: cacheFileName(split, gen),
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
      const file = writing ? path.join(cacheDir, cols.file) : ''
      const handle = writing ? await fs.open(file, 'w') : null
      if (writing) written.push(file)
      const digest = createHash('sha256')
      let chunk = writing ? Buffer.allocUnsafe(Math.max(FLUSH_BYTES, px)) : Buffer.alloc(0)
      let fill = 0
      const flush = async (): Promise<void> => {
        if (!handle || fill === 0) return
        const part = chunk.subarray(0, fill)
        digest.update(part)
        await handle.write(part, 0, fill)
        chunk = Buffer.allocUnsafe(chunk.length)
        fill = 0
      }
      try {
        // A sliding window of decodes in flight, consumed in order so the cache order is the
        // sorted item order whatever finishes first.
        const inflight = new Map<number, Promise<Outcome>>()
        let next = 0
        for (let i = 0; i < items.length; i++) {
          while (next < items.length && next < i + concurrency) {
            inflight.set(next, processItem(items[next]!))
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
            counters.skipped++
            send()
            continue
          }
          if (Math.min(out.w, out.h) < job.options.minImageSide) {
            problems.push({ kind: 'too-small', path: it.rel, reason: `${out.w}x${out.h} is below the minimum side of ${job.options.minImageSide} pixels: left out`, skipped: true })
            counters.skipped++
            send()
            continue
          }
          const first = seenHash.get(out.hash)
          if (first) {
            if (first.split === split) {
              problems.push({ kind: 'duplicate', path: it.rel, reason: `same content as ${first.rel}: left out (the first copy is kept)`, skipped: true })
              counters.skipped++
              send()
              continue
            }
            problems.push({ kind: 'duplicate', path: it.rel, reason: `same content as ${first.rel} in the ${first.split} split: kept in both splits (may leak between them)`, skipped: false })
          } else seenHash.set(out.hash, { rel: it.rel, split })
          if (out.reused) counters.reused++
          else counters.decoded++
          cols.paths.push(it.rel)
          cols.labels.push(split === 'unlabelled' ? -1 : out.label)
          cols.widths.push(out.w)
          cols.heights.push(out.h)
          cols.bytes.push(it.record ? CIFAR_RECORD : it.size)
          cols.mtimes.push(it.mtimeMs)
          cols.hashes.push(out.hash)
          allW.push(out.w)
          allH.push(out.h)
          cols.count++
          if (handle && out.rgb) {
            if (fill + px > chunk.length) await flush()
            chunk.set(out.rgb, fill)
            fill += px
          }
          send()
        }
        await flush()
        if (handle) await handle.sync()
      } finally {
        await handle?.close()
      }
      cols.sha256 = digest.digest('hex')
      if (cols.count > 0) splitsOut[split] = cols
      else if (writing) {
        await fs.rm(file, { force: true })
        written.pop()
      }
    }

    // Classes with no usable image (labels stay stable: the class keeps its index).
    const counts = d.classIds.map(() => ({}) as Partial<Record<SplitName, number>>)
    for (const [name, s] of Object.entries(splitsOut) as [SplitName, SplitColumns][]) {
      for (const l of s.labels) if (l >= 0) counts[l]![name] = (counts[l]![name] ?? 0) + 1
    }
    d.classIds.forEach((id, i) => {
      if (Object.keys(counts[i]!).length === 0) problems.push({ kind: 'empty-class', path: id, reason: `class "${d.classNames[i]}" has no usable images`, skipped: false })
    })

    const usable = Object.values(splitsOut).reduce((a, s) => a + s.count, 0)
    if (usable === 0) {
      const kinds = countProblems(problems)
      const summary = Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')
      throw new NoUsableImagesError(
        `No usable images in ${job.source}: detected ${d.kind} with ${d.items.length} image file${d.items.length === 1 ? '' : 's'}, and none could be used${summary ? ` (${summary})` : ''}.`
      )
    }

    counters.phase = 'finishing'
    counters.message = writing ? 'writing the cache index' : null
    send(true)

    const splits: SplitInfo[] = (Object.entries(splitsOut) as [SplitName, SplitColumns][]).map(([name, s]) => ({
      name,
      count: s.count,
      labelled: s.labelled,
      origin: d.splitOrigins[name]?.origin ?? 'dataset',
      detail: d.splitOrigins[name]?.detail ?? ''
    }))
    const classes: ClassInfo[] = d.classIds.map((id, index) => ({ index, id, name: d.classNames[index] ?? id, counts: counts[index]! }))

    let fingerprint: Fingerprint | null = null
    let cacheBytes = 0
    if (writing) {
      const index: CacheIndex = {
        format: CACHE_FORMAT,
        createdAt: new Date().toISOString(),
        size: workingSize,
        resize: RESIZE_POLICY,
        classIds: d.classIds,
        classNames: d.classNames,
        splits: splitsOut
      }
      await writeFileAtomic(datasetPaths(job.datasetDir!).cacheIndex, JSON.stringify(index))
      // Committed: the previous generation's files (and orphans of crashed runs) can go.
      await prev?.close()
      prev = null
      const keep = new Set(Object.values(splitsOut).map((s) => s.file))
      for (const name of await fs.readdir(cacheDir)) {
        if (!keep.has(name) && isCacheFileName(name)) await fs.rm(path.join(cacheDir, name), { force: true })
      }
      written.length = 0
      cacheBytes = usable * px
      fingerprint = fingerprintOf(d, workingSize, splitsOut)
    }

    const sizeStats = sizeStatsOf(allW, allH)
    return {
      layout: d.kind,
      evidence: d.evidence,
      classIds: d.classIds,
      classNames: d.classNames,
      classes,
      splits,
      problems,
      problemCounts: countProblems(problems),
      sizeStats,
      workingSize,
      workingSizeReason,
      files: d.sourceFiles.length,
      usable,
      decoded: counters.decoded,
      reused: counters.reused,
      skipped: counters.skipped,
      fingerprint,
      cacheBytes,
      elapsedMs: performance.now() - t0
    }
  } finally {
    await prev?.close()
    // Anything of this generation not committed is removed; the previous cache stays in force.
    for (const f of written) await fs.rm(f, { force: true }).catch(() => {})
  }
}

/** Fingerprint: the source file list (sizes, mtimes) and the cache content, hashed. */
export function fingerprintOf(d: Pick<Detected, 'sourceFiles'>, size: number, splits: Partial<Record<SplitName, SplitColumns>>): Fingerprint {
  const files = [...d.sourceFiles].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  const list = createHash('sha256')
  let bytes = 0
  for (const f of files) {
    // The name's own bytes: the same as its UTF-8 for every name that is UTF-8.
    list.update(bytesOfName(f.rel)).update(`\t${f.size}\t${f.mtimeMs}\n`)
    bytes += f.size
  }
  const cache = createHash('sha256').update(`size ${size}\n${RESIZE_POLICY}\n`)
  for (const name of SPLIT_ORDER) {
    const s = splits[name]
    if (s) cache.update(`${name} ${s.count} ${s.sha256}\n`)
  }
  const listSha256 = list.digest('hex')
  const cacheSha256 = cache.digest('hex')
  const id = createHash('sha256').update(listSha256).update(cacheSha256).digest('hex').slice(0, 16)
  return { id, files: files.length, bytes, listSha256, cacheSha256 }
}
