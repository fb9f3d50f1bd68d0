// The registry of datasets in a workspace: datasets/<id>/dataset.json, one record per dataset,
// read into the summaries the renderer lists and the details it shows. A folder in datasets/ that
// is not a readable dataset is reported as damaged (why, and what to do), never hidden and never
// failing the list. The renderer names datasets by id only; an id maps to datasets/<id>/ here and
// nothing else is read for it, so no path it sends can reach a file outside a registered
// dataset's folder. File names in that folder are src-node/dataset-folder.ts's.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import {
  ClassInfoSchema,
  DatasetIdSchema,
  DatasetStatusSchema,
  FingerprintSchema,
  IndexOptionsSchema,
  LayoutKindSchema,
  ProblemCountsSchema,
  SizeStatsSchema,
  SplitInfoSchema,
  type DatasetDetail,
  type DatasetSummary,
  type IndexOptions
} from '../../src-shared/contract/datasets'
import { datasetDirOf, datasetPaths, datasetsDirOf, isDatasetId } from '../../src-node/dataset-folder'
import { writeFileAtomic } from '../../src-node/fsutil'
import { describeFsError } from '../errors'
import type { WorkspaceService } from '../services/workspace'
import { DatasetError } from './dataset-error'

const RECORD_FORMAT = 1

/** What dataset.json holds. */
const DatasetRecordSchema = z.object({
  format: z.literal(RECORD_FORMAT),
  id: DatasetIdSchema,
  name: z.string(),
  source: z.string(),
  builtIn: z.boolean(),
  /** The built-in sample's parameters; a record from before test splits and the current drawing lacks the last two. */
  sample: z
    .object({ perClass: z.number().int(), seed: z.number().int(), testPerClass: z.number().int().optional(), drawing: z.number().int().optional() })
    .nullable(),
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
export type DatasetRecord = z.infer<typeof DatasetRecordSchema>

/** Why datasets/<id>/ is not a usable dataset; `name` and `source` when the record still says them. */
interface Damage {
  reason: string
  action: string
  name?: string
  source?: string
}

/** A new dataset's record, before its first job. */
export function newRecord(id: string, name: string, source: string, builtIn: boolean, options: IndexOptions): DatasetRecord {
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

export class DatasetRegistry {
  constructor(
    private readonly workspace: WorkspaceService,
    /** Whether a job of this host is indexing the dataset now (else a record that says "indexing" was interrupted). */
    private readonly isIndexing: (id: string) => boolean
  ) {}

  /** The workspace folder; `create`: set it up first when it is not yet. */
  private async workspaceDir(create: boolean): Promise<string> {
    return create ? await this.workspace.ensureReady() : (await this.workspace.info()).path
  }

  async datasetsRoot(create: boolean): Promise<string> {
    return datasetsDirOf(await this.workspaceDir(create))
  }

  /** datasets/<id>, after checking the id's shape (the CLI calls in without the contract). */
  async dirOf(id: string, create = false): Promise<string> {
    if (!isDatasetId(id)) throw new DatasetError(`"${id}" is not a dataset id.`, 'not-found', 'invalid-argument')
    return datasetDirOf(await this.workspaceDir(create), id)
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
        const isDir = await fs.stat(dir).then(
          (st) => st.isDirectory(),
          () => false
        )
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
      return {
        damaged: {
          reason: `Its record ${file} is for the dataset "${parsed.data.id}", not "${id}" (the folder was copied or renamed by hand?).`,
          action: `Rename the folder back to datasets/${parsed.data.id}, or ${action(source).replace(/^R/, 'r')}`
        }
      }
    }
    return { rec: parsed.data }
  }

  async readRecord(id: string): Promise<DatasetRecord> {
    const r = await this.loadRecord(id)
    if ('rec' in r) return r.rec
    if ('absent' in r) {
      throw new DatasetError(
        `No dataset "${id}" is registered in this workspace (${await this.datasetsRoot(false)}). Add its folder first, or pick one from the list.`,
        'not-found',
        'invalid-argument'
      )
    }
    throw new DatasetError(`The dataset "${id}" is damaged: ${r.damaged.reason} ${r.damaged.action}`, 'fs')
  }

  async writeRecord(rec: DatasetRecord): Promise<void> {
    const dir = await this.dirOf(rec.id, true)
    try {
      await fs.mkdir(dir, { recursive: true })
      await writeFileAtomic(datasetPaths(dir).record, JSON.stringify(rec, null, 2) + '\n')
    } catch (err) {
      throw new DatasetError(describeFsError(err, dir, 'save the dataset record in'), 'fs')
    }
  }

  async summaryOf(rec: DatasetRecord): Promise<DatasetSummary> {
    const dir = await this.dirOf(rec.id)
    const [sourceAvailable, cacheReady] = await Promise.all([
      fs.access(rec.source, fs.constants.R_OK).then(
        () => fs.stat(rec.source).then((s) => s.isDirectory()),
        () => false
      ),
      fs.stat(datasetPaths(dir).cacheIndex).then(
        (s) => s.isFile(),
        () => false
      )
    ])
    let status = rec.status
    let statusMessage = rec.statusMessage
    if (status === 'indexing' && !this.isIndexing(rec.id)) {
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
    const ws = await this.workspaceDir(false)
    const entries = await fs.readdir(datasetsDirOf(ws), { withFileTypes: true }).catch(() => [])
    const out: DatasetSummary[] = []
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      // Only folders named as ids can be datasets (and be removed by id); anything else there is not ours.
      if (!isDatasetId(e.name)) continue
      const dir = datasetDirOf(ws, e.name)
      if (
        !e.isDirectory() &&
        !(
          e.isSymbolicLink() &&
          (await fs.stat(dir).then(
            (st) => st.isDirectory(),
            () => false
          ))
        )
      )
        continue
      try {
        const r = await this.loadRecord(e.name)
        if ('absent' in r) continue // removed meanwhile
        out.push('rec' in r ? await this.summaryOf(r.rec) : this.damagedSummary(e.name, dir, r.damaged))
      } catch (err) {
        out.push(
          this.damagedSummary(e.name, dir, {
            reason: (err as Error).message,
            action: 'Check the workspace folder, or remove this dataset and add its folder again.'
          })
        )
      }
    }
    return out.sort((a, b) => (a.builtIn !== b.builtIn ? (a.builtIn ? -1 : 1) : a.name.localeCompare(b.name)))
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

  /** Check a folder path the renderer or the command line sent: absolute, a folder, not the workspace's own datasets/. */
  async checkFolder(p: string, allowInsideDatasets = false): Promise<string> {
    if (!path.isAbsolute(p))
      throw new DatasetError(
        `"${p}" is not an absolute path. Give the full folder path, e.g. /home/you/data/tiny-imagenet-200.`,
        'bad-path',
        'invalid-argument'
      )
    const abs = path.resolve(p)
    const st = await fs.stat(abs).catch((err: NodeJS.ErrnoException) => err)
    if (st instanceof Error) {
      if (st.code === 'ENOENT')
        throw new DatasetError(`The folder ${abs} does not exist. Check the path (and that its drive is connected).`, 'bad-path', 'invalid-argument')
      throw new DatasetError(describeFsError(st, abs, 'open'), 'bad-path', 'invalid-argument')
    }
    if (!st.isDirectory()) throw new DatasetError(`${abs} is a file, not a folder: choose the folder that holds the images.`, 'bad-path', 'invalid-argument')
    if (!allowInsideDatasets) {
      const root = path.resolve(await this.datasetsRoot(false))
      const real = await fs.realpath(abs).catch(() => abs)
      const realRoot = await fs.realpath(root).catch(() => root)
      if (real === realRoot || real.startsWith(realRoot + path.sep)) {
        throw new DatasetError(
          `${abs} is inside the workspace's datasets folder, where Quarterturn keeps its caches. Choose the folder that holds your original images.`,
          'bad-path',
          'invalid-argument'
        )
      }
    }
    return abs
  }

  /**
   * The folder of a registered dataset (datasets/<id>), for code that reads its cache directly
   * (a run's worker: `openCacheSplit(dir, split)`, `readSubsetIndices(dir, subsetId)`).
   */
  async datasetDir(id: string): Promise<string> {
    await this.readRecord(id)
    return this.dirOf(id)
  }
}
