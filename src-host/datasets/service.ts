// Dataset service: the registry of datasets in the workspace (datasets/<id>/dataset.json), their
// indexing jobs, and browsing served from the cache. The renderer names datasets by id only; the
// host maps an id to datasets/<id>/ itself and reads nothing else for it, so no path the renderer
// sends can reach a file outside a registered dataset's folder or the workspace. The folder's
// layout (dataset.json, problems.json, cache/, subsets/, the sample's source/) is
// src-node/dataset-folder.ts's.
import { promises as fs } from 'node:fs'
import { slugify } from '../../src-shared/slug'
import path from 'node:path'
import { createHash, randomBytes } from 'node:crypto'
import { z } from 'zod'
import {
  AddArgSchema,
  AddSampleArgSchema,
  CreateSubsetArgSchema,
  DatasetIdSchema,
  IndexOptionsSchema,
  InspectArgSchema,
  ProblemSchema,
  ProblemsArgSchema,
  SubsetInfoSchema,
  ThumbnailsArgSchema,
  type DatasetDetail,
  type DatasetSummary,
  type ImageResult,
  type IndexOptions,
  type IndexProgress,
  type InspectResult,
  type Problem,
  type SplitName,
  type SubsetInfo,
  type ThumbnailsResult,
  ClassInfoSchema,
  DatasetStatusSchema,
  FingerprintSchema,
  LayoutKindSchema,
  ProblemCountsSchema,
  SizeStatsSchema,
  SplitInfoSchema
} from '../../src-shared/contract/datasets'
import { CacheSplitFile, SubsetFileSchema, datasetPaths, datasetsDirOf, isDatasetId, openCacheSplit, readCacheIndex, subsetFileOf, type CacheIndex, type CacheSplit, type SubsetFile } from '../../src-node/dataset-folder'
import { ServiceError, describeFsError } from '../errors'
import { writeFileAtomic } from '../../src-node/fsutil'
import type { WorkspaceService } from '../services/workspace'
import type { SettingsService } from '../services/settings'
import { rgbToPngDataUrl } from './decode'
import { JobFailed, startIndexJob, type JobHandle } from './jobs'
import type { IndexOutcome, ProgressUpdate } from './indexer'
import { SAMPLE_SIZE } from './sample'
import { selectSubset, subsetIdOf } from './splits'
import type { WorkerFailure } from './protocol'

export const SAMPLE_ID = 'sample'
const RECORD_FORMAT = 1

/** What dataset.json holds. */
const DatasetRecordSchema = z.object({
  format: z.literal(RECORD_FORMAT),
  id: DatasetIdSchema,
  name: z.string(),
  source: z.string(),
  builtIn: z.boolean(),
  sample: z.object({ perClass: z.number().int(), seed: z.number().int() }).nullable(),
  options: IndexOptionsSchema,
  createdAt: z.string(),
  indexedAt: z.string().nullable(),
  status: DatasetStatusSchema,
  statusMessage: z.string().nullable(),
  /** Why the last job failed, for the CLI's exit code. */
  failureKind: z.enum(['cancelled', 'no-usable-images', 'source', 'fs', 'internal']).nullable(),
  layout: LayoutKindSchema.nullable(),
  evidence: z.array(z.string()),
  workingSize: z.number().int().positive().nullable(),
  workingSizeReason: z.string(),
  images: z.number().int().nonnegative(),
  classList: z.array(ClassInfoSchema),
  splits: z.array(SplitInfoSchema),
  problemCounts: ProblemCountsSchema,
  sizeStats: SizeStatsSchema.nullable(),
  fingerprint: FingerprintSchema.nullable(),
  cacheBytes: z.number().int().nonnegative(),
  lastJob: z
    .object({ decoded: z.number(), reused: z.number(), skipped: z.number(), elapsedMs: z.number(), runner: z.enum(['worker', 'in-process']) })
    .nullable()
})
type DatasetRecord = z.infer<typeof DatasetRecordSchema>

/** Why datasets/<id>/ is not a usable dataset; `name` and `source` when the record still says them. */
interface Damage {
  reason: string
  action: string
  name?: string
  source?: string
}

/** A ServiceError that says which expected failure it was (the CLI's exit codes). */
export class DatasetError extends ServiceError {
  constructor(
    message: string,
    readonly reason: WorkerFailure['kind'] | 'not-found' | 'bad-path' | 'busy',
    code: ServiceError['code'] = 'failed'
  ) {
    super(message, code)
    this.name = 'DatasetError'
  }
}

export interface DatasetEvents {
  progress(p: IndexProgress): void
  changed(id: string, dataset: DatasetSummary | null): void
}

interface RunningJob {
  jobId: string
  handle: JobHandle
  /** Settles once dataset.json has the outcome. */
  finished: Promise<void>
}

const slug = (name: string): string => slugify(name, 40, 'dataset')

function newJobId(): string {
  return randomBytes(6).toString('hex')
}

export class DatasetService {
  private readonly running = new Map<string, RunningJob>()
  private readonly inspecting = new Map<string, JobHandle>()
  private readonly indexCache = new Map<string, { key: string; index: CacheIndex }>()

  constructor(
    private readonly workspace: WorkspaceService,
    private readonly settings: SettingsService,
    private readonly events: DatasetEvents,
    private readonly opts: { inProcess?: boolean; logError?: (err: unknown, context: string) => void } = {}
  ) {}

  // ---- registry --------------------------------------------------------------------------

  private async datasetsRoot(create: boolean): Promise<string> {
    const ws = create ? await this.workspace.ensureReady() : (await this.workspace.info()).path
    return datasetsDirOf(ws)
  }

  /** datasets/<id>, after checking the id's shape (the CLI calls in without the contract). */
  private async dirOf(id: string, create = false): Promise<string> {
    if (!isDatasetId(id)) throw new DatasetError(`"${id}" is not a dataset id.`, 'not-found', 'invalid-argument')
    return path.join(await this.datasetsRoot(create), id)
  }

  /**
   * datasets/<id>/dataset.json, or why the folder is not a usable dataset. `absent`: there is no
   * such folder at all (an unknown id, not a damaged dataset).
   */
  private async loadRecord(id: string): Promise<{ rec: DatasetRecord } | { absent: true } | { damaged: Damage }> {
    const dir = await this.dirOf(id)
    const file = datasetPaths(dir).record
    const action = (source?: string): string =>
      `Remove it (that deletes only ${dir} in the workspace, never the image folder) and add ${source ? `the folder ${source}` : 'its image folder'} again.`
    let text: string
    try {
      text = await fs.readFile(file, 'utf8')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        const isDir = await fs.stat(dir).then((st) => st.isDirectory(), () => false)
        if (!isDir) return { absent: true }
        return { damaged: { reason: `Its record ${file} is missing (deleted, or the folder was copied only in part).`, action: action() } }
      }
      return { damaged: { reason: describeFsError(err, file, 'read'), action: `Fix the file's permissions, or ${action().replace(/^R/, 'r')}` } }
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (err) {
      const why = text.trim() === '' ? 'is empty' : `is not valid JSON (${(err as Error).message}; cut short, or edited by hand?)`
      return { damaged: { reason: `Its record ${file} ${why}.`, action: action() } }
    }
    // What can still be read, to name the dataset and its folder in the list.
    const loose = json && typeof json === 'object' ? (json as Record<string, unknown>) : {}
    const source = typeof loose.source === 'string' ? loose.source : undefined
    const name = typeof loose.name === 'string' ? loose.name : undefined
    const parsed = DatasetRecordSchema.safeParse(json)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue && issue.path.length ? ` (${issue.path.join('.')}: ${issue.message})` : issue ? ` (${issue.message})` : ''
      return { damaged: { reason: `Its record ${file} is not a dataset record this version can read${where}.`, action: action(source), name, source } }
    }
    if (parsed.data.id !== id) {
      // Not named after the record: it is a copy of another dataset's folder, not that dataset.
      return { damaged: { reason: `Its record ${file} is for the dataset "${parsed.data.id}", not "${id}" (the folder was copied or renamed by hand?).`, action: `Rename the folder back to datasets/${parsed.data.id}, or ${action(source).replace(/^R/, 'r')}` } }
    }
    return { rec: parsed.data }
  }

  private async readRecord(id: string): Promise<DatasetRecord> {
    const r = await this.loadRecord(id)
    if ('rec' in r) return r.rec
    if ('absent' in r) {
      throw new DatasetError(`No dataset "${id}" is registered in this workspace (${path.dirname(await this.dirOf(id))}). Add its folder first, or pick one from the list.`, 'not-found', 'invalid-argument')
    }
    throw new DatasetError(`The dataset "${id}" is damaged: ${r.damaged.reason} ${r.damaged.action}`, 'fs')
  }

  private async writeRecord(rec: DatasetRecord): Promise<void> {
    const dir = await this.dirOf(rec.id, true)
    try {
      await fs.mkdir(dir, { recursive: true })
      await writeFileAtomic(datasetPaths(dir).record, JSON.stringify(rec, null, 2) + '\n')
    } catch (err) {
      throw new DatasetError(describeFsError(err, dir, 'save the dataset record in'), 'fs')
    }
  }

  private async summaryOf(rec: DatasetRecord): Promise<DatasetSummary> {
    const dir = await this.dirOf(rec.id)
    const [sourceAvailable, cacheReady] = await Promise.all([
      fs.access(rec.source, fs.constants.R_OK).then(() => fs.stat(rec.source).then((s) => s.isDirectory()), () => false),
      fs.stat(datasetPaths(dir).cacheIndex).then((s) => s.isFile(), () => false)
    ])
    let status = rec.status
    let statusMessage = rec.statusMessage
    if (status === 'indexing' && !this.running.has(rec.id)) {
      status = 'interrupted'
      statusMessage = `Indexing was interrupted (the app stopped).${cacheReady ? ' The previous cache is still in use.' : ''} Re-index to finish it.`
    }
    if (status === 'ready' && !cacheReady) statusMessage = `The cache in ${datasetPaths(dir).cache} is missing (deleted?): re-index the dataset.`
    if (!sourceAvailable && status !== 'indexing') {
      statusMessage = `The folder ${rec.source} is missing or unreadable now.${cacheReady ? ' The cached images can still be browsed and trained on; re-indexing needs the folder back.' : ' Reconnect it or remove the dataset.'}`
    }
    return {
      id: rec.id,
      name: rec.name,
      source: rec.source,
      sourceAvailable,
      builtIn: rec.builtIn,
      layout: rec.layout,
      status,
      statusMessage,
      cacheReady,
      workingSize: rec.workingSize,
      images: rec.images,
      classes: rec.classList.length,
      splits: rec.splits,
      problems: Object.values(rec.problemCounts).reduce((a, b) => a + (b ?? 0), 0),
      createdAt: rec.createdAt,
      indexedAt: rec.indexedAt,
      fingerprint: rec.fingerprint,
      options: rec.options,
      damaged: null
    }
  }

  /**
   * Every registered dataset, sample first. A folder in datasets/ that is not a readable dataset
   * is listed as damaged (why, and what to do), not hidden and never failing the list.
   */
  async list(): Promise<DatasetSummary[]> {
    const root = await this.datasetsRoot(false)
    const entries = await fs.readdir(root, { withFileTypes: true }).catch(() => [])
    const out: DatasetSummary[] = []
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      // Only folders named as ids can be datasets (and be removed by id); anything else there is not ours.
      if (!isDatasetId(e.name)) continue
      if (!e.isDirectory() && !(e.isSymbolicLink() && (await fs.stat(path.join(root, e.name)).then((st) => st.isDirectory(), () => false)))) continue
      try {
        const r = await this.loadRecord(e.name)
        if ('absent' in r) continue // removed meanwhile
        out.push('rec' in r ? await this.summaryOf(r.rec) : this.damagedSummary(e.name, path.join(root, e.name), r.damaged))
      } catch (err) {
        out.push(this.damagedSummary(e.name, path.join(root, e.name), { reason: (err as Error).message, action: 'Check the workspace folder, or remove this dataset and add its folder again.' }))
      }
    }
    return out.sort((a, b) => (a.builtIn !== b.builtIn ? (a.builtIn ? -1 : 1) : a.name.localeCompare(b.name)))
  }

  /** Each dataset as last pushed from disk (JSON), for refreshFromDisk's comparison. */
  private seenOnDisk: Map<string, string> | null = null

  /**
   * Push the datasets another process added, changed or removed (the workspace watcher calls
   * this). The first call only records what is there: subscribers listed it already.
   */
  async refreshFromDisk(): Promise<void> {
    const now = new Map((await this.list()).map((d) => [d.id, JSON.stringify(d)]))
    const before = this.seenOnDisk
    this.seenOnDisk = now
    if (!before) return
    for (const [id, json] of now) if (before.get(id) !== json) this.events.changed(id, JSON.parse(json) as DatasetSummary)
    for (const id of before.keys()) if (!now.has(id)) this.events.changed(id, null)
  }

  private damagedSummary(id: string, dir: string, damage: Damage): DatasetSummary {
    return {
      id,
      name: damage.name ?? id,
      source: damage.source ?? dir,
      sourceAvailable: false,
      builtIn: false,
      layout: null,
      status: 'failed',
      statusMessage: `This dataset is damaged: ${damage.reason} ${damage.action}`,
      cacheReady: false,
      workingSize: null,
      images: 0,
      classes: 0,
      splits: [],
      problems: 0,
      createdAt: new Date(0).toISOString(),
      indexedAt: null,
      fingerprint: null,
      options: IndexOptionsSchema.parse({}),
      damaged: { reason: damage.reason, action: damage.action }
    }
  }

  async get(id: string): Promise<DatasetDetail> {
    const rec = await this.readRecord(id)
    return {
      ...(await this.summaryOf(rec)),
      evidence: rec.evidence,
      classList: rec.classList,
      problemCounts: rec.problemCounts,
      sizeStats: rec.sizeStats,
      resizePolicy: rec.workingSize
        ? `${rec.workingSizeReason}. Each image: shorter side scaled to ${rec.workingSize} (bilinear, antialiased), centre ${rec.workingSize}x${rec.workingSize} crop; EXIF orientation applied; alpha dropped.`
        : 'not indexed yet',
      cacheBytes: rec.cacheBytes
    }
  }

  /** One page of the problems list, optionally of one kind. */
  async problems(arg: z.input<typeof ProblemsArgSchema>): Promise<{ total: number; offset: number; items: Problem[] }> {
    const a = ProblemsArgSchema.parse(arg)
    await this.readRecord(a.id)
    const file = datasetPaths(await this.dirOf(a.id)).problems
    const all = await fs
      .readFile(file, 'utf8')
      .then((t) => z.array(ProblemSchema).parse(JSON.parse(t)))
      .catch(() => [] as Problem[])
    const list = a.kind ? all.filter((p) => p.kind === a.kind) : all
    return { total: list.length, offset: a.offset, items: list.slice(a.offset, a.offset + a.limit) }
  }

  // ---- folders: inspect and add ---------------------------------------------------------------

  /** Check a folder path the renderer or the command line sent: absolute, a folder, not the workspace's own datasets/. */
  private async checkFolder(p: string, allowInsideDatasets = false): Promise<string> {
    if (!path.isAbsolute(p)) throw new DatasetError(`"${p}" is not an absolute path. Give the full folder path, e.g. /home/you/data/tiny-imagenet-200.`, 'bad-path', 'invalid-argument')
    const abs = path.resolve(p)
    const st = await fs.stat(abs).catch((err: NodeJS.ErrnoException) => err)
    if (st instanceof Error) {
      if (st.code === 'ENOENT') throw new DatasetError(`The folder ${abs} does not exist. Check the path (and that its drive is connected).`, 'bad-path', 'invalid-argument')
      throw new DatasetError(describeFsError(st, abs, 'open'), 'bad-path', 'invalid-argument')
    }
    if (!st.isDirectory()) throw new DatasetError(`${abs} is a file, not a folder: choose the folder that holds the images.`, 'bad-path', 'invalid-argument')
    if (!allowInsideDatasets) {
      const root = path.resolve(await this.datasetsRoot(false))
      const real = await fs.realpath(abs).catch(() => abs)
      const realRoot = await fs.realpath(root).catch(() => root)
      if (real === realRoot || real.startsWith(realRoot + path.sep)) {
        throw new DatasetError(`${abs} is inside the workspace's datasets folder, where Quarterturn keeps its caches. Choose the folder that holds your original images.`, 'bad-path', 'invalid-argument')
      }
    }
    return abs
  }

  /** Detect and check a folder without writing anything anywhere. */
  async inspect(arg: z.input<typeof InspectArgSchema>, onProgress?: (p: IndexProgress) => void): Promise<InspectResult> {
    const a = InspectArgSchema.parse(arg)
    const source = await this.checkFolder(a.path, true)
    const jobId = a.jobId ?? newJobId()
    if (this.inspecting.has(jobId)) throw new DatasetError(`An inspect job "${jobId}" is already running.`, 'busy', 'invalid-argument')
    const options = a.options ?? IndexOptionsSchema.parse({})
    const report = (p: ProgressUpdate | IndexProgress['phase'], message: string | null = null): void => {
      const full = this.progressOf(jobId, null, source, p, message)
      onProgress?.(full)
      this.events.progress(full)
    }
    const handle = startIndexJob({ mode: 'inspect', source, datasetDir: null, options }, (p) => report(p), { inProcess: this.opts.inProcess })
    this.inspecting.set(jobId, handle)
    try {
      const o = await handle.promise
      report('done')
      return {
        path: source,
        layout: o.layout,
        evidence: o.evidence,
        classes: o.classes,
        splits: o.splits,
        sizeStats: o.sizeStats,
        problems: o.problems,
        problemCounts: o.problemCounts,
        files: o.files,
        usableImages: o.usable,
        suggestedWorkingSize: o.workingSize,
        workingSizeReason: o.workingSizeReason
      }
    } catch (err) {
      const e = this.jobError(err, source, null)
      report(e.reason === 'cancelled' ? 'cancelled' : 'failed', e.message)
      throw e
    } finally {
      this.inspecting.delete(jobId)
    }
  }

  private progressOf(jobId: string, datasetId: string | null, source: string, p: ProgressUpdate | IndexProgress['phase'], message: string | null): IndexProgress {
    if (typeof p === 'string') {
      return { jobId, datasetId, source, phase: p, filesSeen: 0, total: 0, decoded: 0, reused: 0, skipped: 0, elapsedMs: 0, etaSeconds: null, message }
    }
    return { jobId, datasetId, source, ...p, etaSeconds: p.etaSeconds === null ? null : Math.max(0, p.etaSeconds) }
  }

  private jobError(err: unknown, source: string, datasetDir: string | null): DatasetError {
    if (err instanceof DatasetError) return err
    if (err instanceof JobFailed) {
      const f = err.failure
      if (f.kind === 'fs') {
        const target = datasetDir ? datasetPaths(datasetDir).cache : source
        return new DatasetError(describeFsError(Object.assign(new Error(f.message), { code: f.code }), target, 'write the dataset cache in'), 'fs')
      }
      return new DatasetError(f.kind === 'cancelled' ? 'Indexing was cancelled.' : f.message, f.kind)
    }
    ;(this.opts.logError ?? ((e, c) => console.error(`[datasets] ${c}:`, e)))(err, `indexing ${source}`)
    return new DatasetError(`Indexing ${source} failed unexpectedly: ${(err as Error)?.message ?? String(err)}`, 'internal', 'internal')
  }

  /** Register a folder (or update its options when already registered) and index it in the background. */
  async add(arg: z.input<typeof AddArgSchema>): Promise<DatasetSummary> {
    const a = AddArgSchema.parse(arg)
    const source = await this.checkFolder(a.path)
    // The same folder twice is the same dataset: update its options and index it again.
    const all = await this.list()
    const existing = all.find((d) => d.source === source && !d.builtIn && !d.damaged)
    if (a.id && existing && existing.id !== a.id) {
      throw new DatasetError(`${source} is registered already, as "${existing.id}". Remove it first to register it under another id.`, 'busy', 'invalid-argument')
    }
    // A damaged dataset is no use to anyone: adding a folder again may take its id (and its place).
    const taken = (id: string): boolean => id === SAMPLE_ID || all.some((d) => d.id === id && d.source !== source && !d.damaged)
    if (a.id && taken(a.id)) throw new DatasetError(`The id "${a.id}" is taken by another dataset. Choose another id.`, 'busy', 'invalid-argument')
    const previous = existing ? await this.readRecord(existing.id).catch(() => null) : null
    const options = a.options ?? previous?.options ?? IndexOptionsSchema.parse({})
    // Default id: the folder's name, made unique with a hash of its path when another folder has
    // it; a damaged record of this same folder is replaced under its own id.
    const base = slug(path.basename(source))
    const damagedSelf = existing ? undefined : all.find((d) => d.damaged && d.source === source)
    const id = existing?.id ?? a.id ?? damagedSelf?.id ?? (taken(base) ? `${base.slice(0, 56)}-${createHash('sha256').update(source).digest('hex').slice(0, 6)}` : base)
    if (!existing && all.some((d) => d.id === id && d.damaged)) {
      // Its cache cannot be trusted without its record (it may be another folder's): start afresh.
      const dir = await this.dirOf(id)
      await fs.rm(dir, { recursive: true, force: true }).catch((err: unknown) => {
        throw new DatasetError(describeFsError(err, dir, 'remove the damaged dataset folder'), 'fs')
      })
    }
    const rec: DatasetRecord = previous ? { ...previous, options, name: a.name ?? previous.name } : this.newRecord(id, a.name ?? path.basename(source), source, false, options)
    const recent = [source, ...this.settings.get().recentFolders.filter((f) => f !== source)].slice(0, 20)
    this.settings.update({ recentFolders: recent })
    return this.startJob(rec)
  }

  /** Draw the built-in sample into datasets/sample/source and index it (kept when already there with the same parameters). */
  async addSample(arg: z.input<typeof AddSampleArgSchema> = {}): Promise<DatasetSummary> {
    const a = AddSampleArgSchema.parse(arg)
    const dir = await this.dirOf(SAMPLE_ID, true)
    const source = datasetPaths(dir).sampleSource
    const existing = await this.readRecord(SAMPLE_ID).catch(() => null)
    if (existing && existing.sample?.perClass === a.perClass && existing.sample.seed === a.seed && existing.status === 'ready') {
      const s = await this.summaryOf(existing)
      if (s.cacheReady && s.sourceAvailable) return s
    }
    const options = IndexOptionsSchema.parse({ workingSize: SAMPLE_SIZE })
    const rec: DatasetRecord = { ...(existing ?? this.newRecord(SAMPLE_ID, 'Sample: ten drawn classes', source, true, options)), sample: { perClass: a.perClass, seed: a.seed }, source, options }
    return this.startJob(rec)
  }

  async reindex(id: string): Promise<DatasetSummary> {
    const rec = await this.readRecord(id)
    if (!rec.builtIn) await this.checkFolder(rec.source).catch((err: DatasetError) => {
      throw new DatasetError(`Cannot re-index "${rec.name}": ${err.message} The cached images stay usable meanwhile.`, 'source')
    })
    return this.startJob(rec)
  }

  private newRecord(id: string, name: string, source: string, builtIn: boolean, options: IndexOptions): DatasetRecord {
    return {
      format: RECORD_FORMAT,
      id,
      name,
      source,
      builtIn,
      sample: null,
      options,
      createdAt: new Date().toISOString(),
      indexedAt: null,
      status: 'indexing',
      statusMessage: null,
      failureKind: null,
      layout: null,
      evidence: [],
      workingSize: null,
      workingSizeReason: '',
      images: 0,
      classList: [],
      splits: [],
      problemCounts: {},
      sizeStats: null,
      fingerprint: null,
      cacheBytes: 0,
      lastJob: null
    }
  }

  private async startJob(rec: DatasetRecord): Promise<DatasetSummary> {
    if (this.running.has(rec.id)) throw new DatasetError(`"${rec.name}" is being indexed already: wait for it, or cancel it first.`, 'busy')
    const dir = await this.dirOf(rec.id, true)
    const jobId = newJobId()
    const indexing: DatasetRecord = { ...rec, status: 'indexing', statusMessage: null, failureKind: null }
    await this.writeRecord(indexing)
    const handle = startIndexJob(
      { mode: 'index', source: rec.source, datasetDir: dir, options: rec.options, ...(rec.sample ? { sample: rec.sample } : {}) },
      (p) => this.events.progress(this.progressOf(jobId, rec.id, rec.source, p, null)),
      { inProcess: this.opts.inProcess }
    )
    const finished = handle.promise.then(
      (o) => this.finishJob(indexing, jobId, handle, o, null),
      (err: unknown) => this.finishJob(indexing, jobId, handle, null, this.jobError(err, rec.source, dir))
    )
    this.running.set(rec.id, { jobId, handle, finished })
    const summary = await this.summaryOf(indexing)
    this.events.changed(rec.id, summary)
    return summary
  }

  private async finishJob(rec: DatasetRecord, jobId: string, handle: JobHandle, o: IndexOutcome | null, err: DatasetError | null): Promise<void> {
    const dir = await this.dirOf(rec.id)
    let next: DatasetRecord
    try {
      if (o) {
        await writeFileAtomic(datasetPaths(dir).problems, JSON.stringify(o.problems))
        next = {
          ...rec,
          status: 'ready',
          statusMessage: null,
          failureKind: null,
          indexedAt: new Date().toISOString(),
          layout: o.layout,
          evidence: o.evidence,
          workingSize: o.workingSize,
          workingSizeReason: o.workingSizeReason,
          images: o.usable,
          classList: o.classes,
          splits: o.splits,
          problemCounts: o.problemCounts,
          sizeStats: o.sizeStats,
          fingerprint: o.fingerprint,
          cacheBytes: o.cacheBytes,
          lastJob: { decoded: o.decoded, reused: o.reused, skipped: o.skipped, elapsedMs: Math.round(o.elapsedMs), runner: handle.runner }
        }
      } else {
        const hadCache = await fs.stat(datasetPaths(dir).cacheIndex).then(() => true, () => false)
        const keep = hadCache ? ' The previous cache is still in use.' : ''
        next = {
          ...rec,
          status: err!.reason === 'cancelled' ? 'cancelled' : 'failed',
          statusMessage: err!.message + keep,
          failureKind: err!.reason as DatasetRecord['failureKind']
        }
      }
      await this.writeRecord(next)
    } catch (e) {
      // The workspace went away under the job (removed, unmounted): nothing left to record.
      ;(this.opts.logError ?? ((x, c) => console.error(`[datasets] ${c}:`, x)))(e, `saving dataset ${rec.id}`)
      this.running.delete(rec.id)
      return
    }
    this.running.delete(rec.id)
    this.indexCache.delete(rec.id)
    this.events.progress(this.progressOf(jobId, rec.id, rec.source, o ? 'done' : next.status === 'cancelled' ? 'cancelled' : 'failed', next.statusMessage))
    this.events.changed(rec.id, await this.summaryOf(next))
  }

  /** Resolves when the dataset's running job (if any) is finished and recorded. */
  async waitForJob(id: string): Promise<{ summary: DatasetSummary; failureKind: DatasetRecord['failureKind'] }> {
    await this.running.get(id)?.finished
    const rec = await this.readRecord(id)
    return { summary: await this.summaryOf(rec), failureKind: rec.status === 'ready' ? null : rec.failureKind }
  }

  cancel(arg: { id: string } | { jobId: string }): { cancelled: boolean } {
    if ('id' in arg) {
      const job = this.running.get(arg.id)
      job?.handle.cancel()
      return { cancelled: !!job }
    }
    const byJob = [...this.running.values()].find((j) => j.jobId === arg.jobId)?.handle ?? this.inspecting.get(arg.jobId)
    byJob?.cancel()
    return { cancelled: !!byJob }
  }

  /** Unregister: deletes datasets/<id>/ (cache, record, subsets; the sample's drawn images). Never the source folder. */
  async remove(id: string): Promise<{ removed: boolean }> {
    const dir = await this.dirOf(id)
    // The folder, not its record: a damaged dataset (record missing or unreadable) can be removed too.
    const exists = await fs.stat(dir).then((st) => st.isDirectory(), () => false)
    if (!exists) throw new DatasetError(`No dataset "${id}" is registered in this workspace.`, 'not-found', 'invalid-argument')
    const job = this.running.get(id)
    if (job) {
      job.handle.cancel()
      await job.finished
    }
    try {
      await fs.rm(dir, { recursive: true, force: true })
    } catch (err) {
      throw new DatasetError(describeFsError(err, dir, 'remove'), 'fs')
    }
    this.indexCache.delete(id)
    this.events.changed(id, null)
    return { removed: true }
  }

  // ---- browsing, from the cache only --------------------------------------------------------

  private async cacheOf(id: string): Promise<{ dir: string; index: CacheIndex }> {
    await this.readRecord(id)
    const dir = await this.dirOf(id)
    const file = datasetPaths(dir).cacheIndex
    const st = await fs.stat(file).catch(() => null)
    if (!st) throw new DatasetError(`Dataset "${id}" has no cache yet: wait for indexing to finish, or re-index it.`, 'not-found')
    const key = `${st.mtimeMs}:${st.size}`
    const hit = this.indexCache.get(id)
    if (hit && hit.key === key) return { dir, index: hit.index }
    try {
      const index = await readCacheIndex(dir)
      this.indexCache.set(id, { key, index })
      return { dir, index }
    } catch (err) {
      throw new DatasetError(`${(err as Error).message}`, 'fs')
    }
  }

  private splitColumns(index: CacheIndex, id: string, split: SplitName) {
    const s = index.splits[split]
    if (!s) throw new DatasetError(`Dataset "${id}" has no "${split}" split (it has: ${Object.keys(index.splits).join(', ')}).`, 'not-found', 'invalid-argument')
    return s
  }

  private async readImages(dir: string, index: CacheIndex, split: SplitName, positions: number[]): Promise<Uint8Array> {
    const file = await CacheSplitFile.open(dir, split, index).catch((err: Error) => {
      throw new DatasetError(err.message, 'fs')
    })
    try {
      return await file.readBatch(positions)
    } finally {
      await file.close()
    }
  }

  async thumbnails(arg: z.input<typeof ThumbnailsArgSchema>): Promise<ThumbnailsResult> {
    const a = ThumbnailsArgSchema.parse(arg)
    const { dir, index } = await this.cacheOf(a.id)
    const s = this.splitColumns(index, a.id, a.split)
    let positions: number[]
    if (a.classIndex === undefined || a.classIndex === null) positions = Array.from({ length: s.count }, (_, i) => i)
    else {
      if (a.classIndex >= index.classIds.length) throw new DatasetError(`Dataset "${a.id}" has ${index.classIds.length} classes; there is no class ${a.classIndex}.`, 'not-found', 'invalid-argument')
      positions = []
      for (let i = 0; i < s.count; i++) if (s.labels[i] === a.classIndex) positions.push(i)
    }
    const page = positions.slice(a.offset, a.offset + a.limit)
    const px = index.size * index.size * 3
    const pixels = page.length ? await this.readImages(dir, index, a.split, page) : new Uint8Array(0)
    const thumb = Math.min(a.size, index.size)
    const items = page.map((pos, k) => {
      const label = s.labels[pos]!
      return {
        index: pos,
        label,
        className: label >= 0 ? (index.classNames[label] ?? null) : null,
        path: s.paths[pos]!,
        dataUrl: rgbToPngDataUrl(pixels.subarray(k * px, (k + 1) * px), index.size, thumb)
      }
    })
    return { total: positions.length, offset: a.offset, items }
  }

  async image(arg: { id: string; split: SplitName; index: number }): Promise<ImageResult> {
    const { dir, index } = await this.cacheOf(arg.id)
    const s = this.splitColumns(index, arg.id, arg.split)
    if (!Number.isInteger(arg.index) || arg.index < 0 || arg.index >= s.count) {
      throw new DatasetError(`Split "${arg.split}" of "${arg.id}" has ${s.count} images; there is no image ${arg.index}.`, 'not-found', 'invalid-argument')
    }
    const rgb = await this.readImages(dir, index, arg.split, [arg.index])
    const label = s.labels[arg.index]!
    return {
      index: arg.index,
      label,
      className: label >= 0 ? (index.classNames[label] ?? null) : null,
      path: s.paths[arg.index]!,
      dataUrl: rgbToPngDataUrl(rgb, index.size),
      size: index.size,
      originalWidth: s.widths[arg.index]!,
      originalHeight: s.heights[arg.index]!
    }
  }

  /**
   * The folder of a registered dataset (datasets/<id>), for code that reads its cache directly
   * (a run's worker: `openCacheSplit(dir, split)`, `readSubsetIndices(dir, subsetId)`).
   */
  async datasetDir(id: string): Promise<string> {
    await this.readRecord(id)
    return this.dirOf(id)
  }

  /** One split of a registered dataset as an ImageSet the trainer takes (loaded into memory). */
  async readSplit(id: string, split: string): Promise<CacheSplit> {
    const { dir } = await this.cacheOf(id)
    return openCacheSplit(dir, split).catch((err: Error) => {
      throw new DatasetError(`Dataset "${id}": ${err.message}`, 'not-found', 'invalid-argument')
    })
  }

  // ---- labelled subsets ------------------------------------------------------------------

  async createSubset(arg: z.input<typeof CreateSubsetArgSchema>): Promise<SubsetInfo> {
    const a = CreateSubsetArgSchema.parse(arg)
    const rec = await this.readRecord(a.id)
    const { dir, index } = await this.cacheOf(a.id)
    const s = this.splitColumns(index, a.id, a.split)
    const id = subsetIdOf(a.split, a.selection)
    const file = subsetFileOf(dir, id)
    const existing = await fs.readFile(file, 'utf8').then((t) => SubsetFileSchema.parse(JSON.parse(t)), () => null)
    if (existing) return this.subsetInfo(existing)
    const indices = selectSubset(s.paths, s.labels, a.selection)
    if (indices.length === 0) throw new DatasetError(`Split "${a.split}" of "${rec.name}" has no labelled images to choose from.`, 'not-found', 'invalid-argument')
    const perClass = index.classIds.map(() => 0)
    for (const i of indices) perClass[s.labels[i]!]!++
    const sub: SubsetFile = {
      format: 1,
      id,
      datasetId: a.id,
      name: a.name ?? describeSelection(a.split, a.selection),
      split: a.split,
      selection: a.selection,
      createdAt: new Date().toISOString(),
      fingerprintId: rec.fingerprint?.id ?? '',
      count: indices.length,
      perClass,
      cacheSha256: s.sha256,
      paths: indices.map((i) => s.paths[i]!),
      indices
    }
    try {
      await fs.mkdir(path.dirname(file), { recursive: true })
      await writeFileAtomic(file, JSON.stringify(sub))
    } catch (err) {
      throw new DatasetError(describeFsError(err, path.dirname(file), 'save the subset in'), 'fs')
    }
    return this.subsetInfo(sub)
  }

  private subsetInfo(s: SubsetFile): SubsetInfo {
    return SubsetInfoSchema.parse({
      id: s.id,
      datasetId: s.datasetId,
      name: s.name,
      split: s.split,
      selection: s.selection,
      count: s.count,
      perClass: s.perClass,
      createdAt: s.createdAt,
      fingerprintId: s.fingerprintId
    })
  }

  async listSubsets(id: string): Promise<SubsetInfo[]> {
    await this.readRecord(id)
    const dir = datasetPaths(await this.dirOf(id)).subsets
    const names = await fs.readdir(dir).catch(() => [] as string[])
    const out: SubsetInfo[] = []
    for (const n of names.filter((x) => x.endsWith('.json')).sort()) {
      const s = await fs.readFile(path.join(dir, n), 'utf8').then((t) => SubsetFileSchema.parse(JSON.parse(t)), () => null)
      if (s) out.push(this.subsetInfo(s))
    }
    return out
  }

  /** Cancel every job and wait for them to be recorded (host shutdown). */
  async shutdown(): Promise<void> {
    for (const h of this.inspecting.values()) h.cancel()
    const jobs = [...this.running.values()]
    for (const j of jobs) j.handle.cancel()
    await Promise.allSettled(jobs.map((j) => j.finished))
  }
}

function describeSelection(split: string, s: z.infer<typeof CreateSubsetArgSchema>['selection']): string {
  switch (s.mode) {
    case 'fraction':
      return `${Math.round(s.fraction * 1000) / 10}% of each class of ${split} (seed ${s.seed})`
    case 'perClass':
      return `${s.count} per class of ${split} (seed ${s.seed})`
    case 'firstN':
      return `first ${s.count} per class of ${split}, sorted by path`
  }
}
