// Dataset service: what the Host calls for datasets, composed of the parts that do each job —
// the registry of dataset records (registry.ts), indexing jobs (index-jobs.ts), browsing from the
// cache (cache-reader.ts) and labelled subsets (subsets.ts). This file keeps the registration
// commands that span them: add a folder, add the built-in sample, re-index, remove, and pushing
// what another process changed on disk. The renderer names datasets by id only; the registry maps
// an id to datasets/<id>/ and the folder's layout is src-node/dataset-folder.ts's.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { createHash } from 'node:crypto'
import type { z } from 'zod'
import {
  AddArgSchema,
  AddSampleArgSchema,
  CreateSubsetArgSchema,
  IndexOptionsSchema,
  InspectArgSchema,
  ProblemsArgSchema,
  ThumbnailsArgSchema,
  type DatasetDetail,
  type DatasetSummary,
  type ImageResult,
  type IndexProgress,
  type InspectResult,
  type Problem,
  type SplitName,
  type SubsetInfo,
  type ThumbnailsResult
} from '../../src-shared/contract/datasets'
import { slugify } from '../../src-shared/slug'
import { SAMPLE_DEFAULTS, SAMPLE_DRAWING, SAMPLE_ID } from '../../src-shared/sample-dataset'
import { datasetPaths, type CacheSplit } from '../../src-node/dataset-folder'
import { describeFsError } from '../errors'
import type { WorkspaceService } from '../services/workspace'
import type { SettingsService } from '../services/settings'
import { SAMPLE_SIZE } from './sample'
import { DatasetError } from './dataset-error'
import { DatasetRegistry, newRecord, type DatasetRecord } from './registry'
import { IndexJobs, type DatasetEvents } from './index-jobs'
import { CacheReader } from './cache-reader'
import { Subsets } from './subsets'

export { SAMPLE_ID } from '../../src-shared/sample-dataset'
export { DatasetError } from './dataset-error'
export type { DatasetEvents } from './index-jobs'

const slug = (name: string): string => slugify(name, 40, 'dataset')

export class DatasetService {
  private readonly registry: DatasetRegistry
  private readonly jobs: IndexJobs
  private readonly cache: CacheReader
  private readonly subsets: Subsets

  constructor(
    workspace: WorkspaceService,
    private readonly settings: SettingsService,
    private readonly events: DatasetEvents,
    opts: { inProcess?: boolean; logError?: (err: unknown, context: string) => void } = {}
  ) {
    this.registry = new DatasetRegistry(workspace, (id) => this.jobs.isRunning(id))
    this.cache = new CacheReader(this.registry)
    this.jobs = new IndexJobs(this.registry, events, opts, (id) => this.cache.forget(id))
    this.subsets = new Subsets(this.registry, this.cache)
  }

  // ---- the registry ------------------------------------------------------------------------

  /**
   * Every registered dataset, sample first. A folder in datasets/ that is not a readable dataset
   * is listed as damaged (why, and what to do), not hidden and never failing the list.
   */
  list(): Promise<DatasetSummary[]> {
    return this.registry.list()
  }

  get(id: string): Promise<DatasetDetail> {
    return this.registry.get(id)
  }

  /**
   * The folder of a registered dataset (datasets/<id>), for code that reads its cache directly
   * (a run's worker: `openCacheSplit(dir, split)`, `readSubsetIndices(dir, subsetId)`).
   */
  datasetDir(id: string): Promise<string> {
    return this.registry.datasetDir(id)
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

  // ---- registration ----------------------------------------------------------------------

  /** Register a folder (or update its options when already registered) and index it in the background. */
  async add(arg: z.input<typeof AddArgSchema>): Promise<DatasetSummary> {
    const a = AddArgSchema.parse(arg)
    const source = await this.registry.checkFolder(a.path)
    // The same folder twice is the same dataset: update its options and index it again.
    const all = await this.list()
    const existing = all.find((d) => d.source === source && !d.builtIn && !d.damaged)
    if (a.id && existing && existing.id !== a.id) {
      throw new DatasetError(
        `${source} is registered already, as "${existing.id}". Remove it first to register it under another id.`,
        'busy',
        'invalid-argument'
      )
    }
    // A damaged dataset is no use to anyone: adding a folder again may take its id (and its place).
    const taken = (id: string): boolean => id === SAMPLE_ID || all.some((d) => d.id === id && d.source !== source && !d.damaged)
    if (a.id && taken(a.id)) throw new DatasetError(`The id "${a.id}" is taken by another dataset. Choose another id.`, 'busy', 'invalid-argument')
    const previous = existing ? await this.registry.readRecord(existing.id).catch(() => null) : null
    const options = a.options ?? previous?.options ?? IndexOptionsSchema.parse({})
    // Default id: the folder's name, made unique with a hash of its path when another folder has
    // it; a damaged record of this same folder is replaced under its own id.
    const base = slug(path.basename(source))
    const damagedSelf = existing ? undefined : all.find((d) => d.damaged && d.source === source)
    const id =
      existing?.id ?? a.id ?? damagedSelf?.id ?? (taken(base) ? `${base.slice(0, 56)}-${createHash('sha256').update(source).digest('hex').slice(0, 6)}` : base)
    if (!existing && all.some((d) => d.id === id && d.damaged)) {
      // Its cache cannot be trusted without its record (it may be another folder's): start afresh.
      const dir = await this.registry.dirOf(id)
      await fs.rm(dir, { recursive: true, force: true }).catch((err: unknown) => {
        throw new DatasetError(describeFsError(err, dir, 'remove the damaged dataset folder'), 'fs')
      })
    }
    const rec: DatasetRecord = previous
      ? { ...previous, options, name: a.name ?? previous.name }
      : newRecord(id, a.name ?? path.basename(source), source, false, options)
    const recent = [source, ...this.settings.get().recentFolders.filter((f) => f !== source)].slice(0, 20)
    this.settings.update({ recentFolders: recent })
    return this.jobs.start(rec)
  }

  /** Draw the built-in sample into datasets/sample/source and index it (kept when already there with the same parameters). */
  async addSample(arg: z.input<typeof AddSampleArgSchema> = {}): Promise<DatasetSummary> {
    const a = AddSampleArgSchema.parse(arg)
    const dir = await this.registry.dirOf(SAMPLE_ID, true)
    const source = datasetPaths(dir).sampleSource
    const existing = await this.registry.readRecord(SAMPLE_ID).catch(() => null)
    const same =
      existing?.sample &&
      existing.sample.perClass === a.perClass &&
      existing.sample.testPerClass === a.testPerClass &&
      existing.sample.seed === a.seed &&
      existing.sample.drawing === SAMPLE_DRAWING
    if (existing && same && existing.status === 'ready') {
      const s = await this.registry.summaryOf(existing)
      if (s.cacheReady && s.sourceAvailable) return s
    }
    const options = IndexOptionsSchema.parse({ workingSize: SAMPLE_SIZE })
    const rec: DatasetRecord = {
      ...(existing ?? newRecord(SAMPLE_ID, 'Sample: ten drawn classes', source, true, options)),
      sample: { perClass: a.perClass, testPerClass: a.testPerClass, seed: a.seed, drawing: SAMPLE_DRAWING },
      source,
      options
    }
    return this.jobs.start(rec)
  }

  /**
   * The registered sample, ready to train on: drawn with the defaults the first time a run names
   * it, drawn again when an older drawing made it (that one let rotation be read off a ground band
   * along the bottom edge), and waited for while it is indexed.
   */
  async ensureSample(): Promise<DatasetSummary> {
    if (!this.jobs.isRunning(SAMPLE_ID)) {
      const existing = await this.registry.readRecord(SAMPLE_ID).catch(() => null)
      const summary = existing && (await this.registry.summaryOf(existing))
      if (!(summary?.status === 'ready' && summary.cacheReady && existing?.sample?.drawing === SAMPLE_DRAWING)) {
        const p = existing?.sample
        await this.addSample(p ? { perClass: p.perClass, testPerClass: p.testPerClass ?? SAMPLE_DEFAULTS.testPerClass, seed: p.seed } : {})
      }
    }
    const { summary } = await this.jobs.waitFor(SAMPLE_ID)
    if (summary.status !== 'ready' || !summary.cacheReady)
      throw new DatasetError(`The sample dataset could not be drawn: ${summary.statusMessage ?? summary.status}.`, 'internal')
    return summary
  }

  async reindex(id: string): Promise<DatasetSummary> {
    const rec = await this.registry.readRecord(id)
    if (!rec.builtIn)
      await this.registry.checkFolder(rec.source).catch((err: DatasetError) => {
        throw new DatasetError(`Cannot re-index "${rec.name}": ${err.message} The cached images stay usable meanwhile.`, 'source')
      })
    return this.jobs.start(rec)
  }

  /** Unregister: deletes datasets/<id>/ (cache, record, subsets; the sample's drawn images). Never the source folder. */
  async remove(id: string): Promise<{ removed: boolean }> {
    const dir = await this.registry.dirOf(id)
    // The folder, not its record: a damaged dataset (record missing or unreadable) can be removed too.
    const exists = await fs.stat(dir).then(
      (st) => st.isDirectory(),
      () => false
    )
    if (!exists) throw new DatasetError(`No dataset "${id}" is registered in this workspace.`, 'not-found', 'invalid-argument')
    await this.jobs.stop(id)
    try {
      await fs.rm(dir, { recursive: true, force: true })
    } catch (err) {
      throw new DatasetError(describeFsError(err, dir, 'remove'), 'fs')
    }
    this.cache.forget(id)
    this.events.changed(id, null)
    return { removed: true }
  }

  // ---- indexing jobs -----------------------------------------------------------------------

  /** Detect and check a folder without writing anything anywhere. */
  inspect(arg: z.input<typeof InspectArgSchema>, onProgress?: (p: IndexProgress) => void): Promise<InspectResult> {
    return this.jobs.inspect(arg, onProgress)
  }

  /** Resolves when the dataset's running job (if any) is finished and recorded. */
  waitForJob(id: string): Promise<{ summary: DatasetSummary; failureKind: DatasetRecord['failureKind'] }> {
    return this.jobs.waitFor(id)
  }

  cancel(arg: { id: string } | { jobId: string }): { cancelled: boolean } {
    return this.jobs.cancel(arg)
  }

  /** Cancel every job and wait for them to be recorded (host shutdown). */
  shutdown(): Promise<void> {
    return this.jobs.shutdown()
  }

  // ---- browsing, from the cache only -------------------------------------------------------

  /** One page of the problems list, optionally of one kind. */
  problems(arg: z.input<typeof ProblemsArgSchema>): Promise<{ total: number; offset: number; items: Problem[] }> {
    return this.cache.problems(arg)
  }

  thumbnails(arg: z.input<typeof ThumbnailsArgSchema>): Promise<ThumbnailsResult> {
    return this.cache.thumbnails(arg)
  }

  image(arg: { id: string; split: SplitName; index: number }): Promise<ImageResult> {
    return this.cache.image(arg)
  }

  /** One split of a registered dataset as an ImageSet the trainer takes (loaded into memory). */
  readSplit(id: string, split: string): Promise<CacheSplit> {
    return this.cache.readSplit(id, split)
  }

  // ---- labelled subsets --------------------------------------------------------------------

  createSubset(arg: z.input<typeof CreateSubsetArgSchema>): Promise<SubsetInfo> {
    return this.subsets.create(arg)
  }

  listSubsets(id: string): Promise<SubsetInfo[]> {
    return this.subsets.list(id)
  }
}
