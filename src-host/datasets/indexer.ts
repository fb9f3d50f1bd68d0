// The indexing job, run inside the indexing worker thread (index-worker.ts) or, where no worker
// can be started, in-process. `runIndex` reads as its stages: check the source folder, scan it
// and detect its layout (and make the missing splits), choose the working size, decode every
// image into a new cache generation, then fingerprint it and commit the cache index.
//
// The stages that do the work live beside this file: the decode loop in index-decode.ts, the
// cache generation (new files, reuse of the previous one, the commit point) in
// cache-generation.ts, counts and the fingerprint in index-summary.ts, progress in
// index-progress.ts. An inspect job runs the same stages against a dry-run generation, so it
// reports what an index job would do without writing anything.
import { promises as fs } from 'node:fs'
import os from 'node:os'
import type { ClassInfo, Fingerprint, IndexOptions, LayoutKind, Problem, ProblemCounts, SizeStats, SplitInfo } from '../../src-shared/contract/datasets'
import { SPLIT_NAMES } from '../../src-shared/contract/datasets'
import { CACHE_FORMAT, RESIZE_POLICY } from '../../src-node/dataset-folder'
import { NoLayoutError, detectLayout, type Detected, type Item } from './layout'
import type { WalkContext } from './scan'
import { chooseWorkingSize, type WorkingSize } from './working-size'
import { assignSplits } from './splits'
import { materialiseSample, type SampleParams } from './sample'
import { CacheGeneration } from './cache-generation'
import { decodeSplits, type Decoded } from './index-decode'
import { classesOf, countProblems, fingerprintOf, sizeStatsOf, splitInfosOf } from './index-summary'
import { JobProgress, type JobHooks } from './index-progress'

export type { JobHooks, ProgressUpdate } from './index-progress'
export { countProblems, fingerprintOf } from './index-summary'

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

/** Run one job. Throws Cancelled, NoLayoutError, NoUsableImagesError or SourceError for the expected failures. */
export async function runIndex(job: IndexJob, hooks: JobHooks): Promise<IndexOutcome> {
  const progress = new JobProgress(hooks)
  if (job.sample) await drawSample(job.source, job.sample, progress, hooks)
  await checkSource(job.source)
  const problems: Problem[] = []
  const d = await scanAndDetect(job, problems, progress, hooks)
  // Decided the same way in both modes, so inspect tells what add will do.
  const size = await chooseWorkingSize(job.source, d, job.options, () => hooks.isCancelled())
  const generation = job.mode === 'index' ? await CacheGeneration.open(job.datasetDir!, size.size) : CacheGeneration.dryRun()
  try {
    const concurrency = job.concurrency ?? Math.max(4, 4 * os.availableParallelism())
    const decoded = await decodeSplits({
      source: job.source,
      options: job.options,
      detected: d,
      workingSize: size.size,
      generation,
      concurrency,
      problems,
      progress,
      hooks
    })
    const classes = classesOf(d, decoded.splits, problems)
    const usable = requireUsable(job.source, d, decoded, problems)
    progress.phase = 'finishing'
    progress.message = generation.writes ? 'writing the cache index' : null
    progress.send(true)
    const fingerprint = generation.writes ? await commitCache(generation, d, size.size, decoded) : null
    return outcomeOf(d, size, decoded, classes, problems, usable, fingerprint, progress)
  } finally {
    await generation.close()
  }
}

/** Draw the built-in sample's images into the source folder (kept when already drawn the same way). */
async function drawSample(source: string, sample: SampleParams, progress: JobProgress, hooks: JobHooks): Promise<void> {
  progress.message = 'drawing the sample dataset'
  progress.send(true)
  await materialiseSample(
    source,
    sample,
    (done) => {
      progress.message = `drawing the sample dataset (${done} images)`
      progress.send()
    },
    hooks.isCancelled
  )
  progress.message = null
}

/** The source must be a readable folder; the message says what to do when it is not. */
async function checkSource(source: string): Promise<void> {
  const st = await fs.stat(source).catch((err: NodeJS.ErrnoException) => err)
  if (st instanceof Error) {
    if (st.code === 'ENOENT')
      throw new SourceError(
        `The folder ${source} does not exist: it was moved, renamed or deleted, or is on a drive that is not connected. Reconnect it, or add the folder from its new place.`
      )
    if (st.code === 'EACCES' || st.code === 'EPERM')
      throw new SourceError(`Cannot open ${source}: permission denied. Fix its permissions, or copy the images somewhere you can read.`)
    throw new SourceError(`Cannot open ${source}: ${st.message}`)
  }
  if (!st.isDirectory()) throw new SourceError(`${source} is a file, not a folder: choose the folder that holds the images.`)
}

/**
 * Walk the folder and detect its layout (classes, splits, items), make the splits it lacks, and
 * sort the items into cache order. What the walk skipped is in `problems`.
 */
async function scanAndDetect(job: IndexJob, problems: Problem[], progress: JobProgress, hooks: JobHooks): Promise<Detected> {
  const ctx: WalkContext = {
    root: job.source,
    problems,
    onFile: () => {
      progress.filesSeen++
      progress.send()
    },
    isCancelled: () => hooks.isCancelled()
  }
  progress.send(true)
  let d: Detected
  try {
    d = await detectLayout(ctx)
  } catch (err) {
    if (err instanceof NoLayoutError) throw new NoUsableImagesError(err.message)
    throw err
  }
  assignSplits(d, job.options.split)
  d.items.sort(itemOrder)
  progress.total = d.items.length
  progress.skipped = problems.filter((p) => p.skipped && p.kind !== 'empty-class').length
  progress.filesSeen = Math.max(progress.filesSeen, d.sourceFiles.length)
  return d
}

/** Cache order: by split, then CIFAR records in file order, then by relative path. */
function itemOrder(a: Item, b: Item): number {
  const sa = SPLIT_NAMES.indexOf(a.split)
  const sb = SPLIT_NAMES.indexOf(b.split)
  if (sa !== sb) return sa - sb
  if (a.record && b.record) {
    if (a.record.file !== b.record.file) return a.record.file < b.record.file ? -1 : 1
    return a.record.offset - b.record.offset
  }
  return a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0
}

/** The number of usable images; none at all is a failure that says what was found instead. */
function requireUsable(source: string, d: Detected, decoded: Decoded, problems: Problem[]): number {
  const usable = Object.values(decoded.splits).reduce((a, s) => a + s.count, 0)
  if (usable > 0) return usable
  const summary = Object.entries(countProblems(problems))
    .map(([k, n]) => `${n} ${k}`)
    .join(', ')
  throw new NoUsableImagesError(
    `No usable images in ${source}: detected ${d.kind} with ${d.items.length} image file${d.items.length === 1 ? '' : 's'}, and none could be used${summary ? ` (${summary})` : ''}.`
  )
}

/** Write the cache index (the commit point) and fingerprint what was committed. */
async function commitCache(generation: CacheGeneration, d: Detected, workingSize: number, decoded: Decoded): Promise<Fingerprint> {
  await generation.commit({
    format: CACHE_FORMAT,
    createdAt: new Date().toISOString(),
    size: workingSize,
    resize: RESIZE_POLICY,
    classIds: d.classIds,
    classNames: d.classNames,
    splits: decoded.splits
  })
  return fingerprintOf(d, workingSize, decoded.splits)
}

function outcomeOf(
  d: Detected,
  size: WorkingSize,
  decoded: Decoded,
  classes: ClassInfo[],
  problems: Problem[],
  usable: number,
  fingerprint: Fingerprint | null,
  progress: JobProgress
): IndexOutcome {
  const px = size.size * size.size * 3
  return {
    layout: d.kind,
    evidence: d.evidence,
    classIds: d.classIds,
    classNames: d.classNames,
    classes,
    splits: splitInfosOf(d, decoded.splits),
    problems,
    problemCounts: countProblems(problems),
    sizeStats: sizeStatsOf(decoded.widths, decoded.heights),
    workingSize: size.size,
    workingSizeReason: size.reason,
    files: d.sourceFiles.length,
    usable,
    decoded: progress.decoded,
    reused: progress.reused,
    skipped: progress.skipped,
    fingerprint,
    // Only an index job writes a cache (and fingerprints it).
    cacheBytes: fingerprint ? usable * px : 0,
    elapsedMs: progress.elapsedMs
  }
}
