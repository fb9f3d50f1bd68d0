// Indexing jobs of the dataset service: one job at a time per dataset, started in the indexing
// worker (jobs.ts), reported as progress events, and always finalised: dataset.json records the
// outcome (ready, failed, cancelled) before `finished` settles, so a caller that waits for a job
// reads its result from the registry. Inspect jobs run the same indexer without writing anything.
import { promises as fs } from 'node:fs'
import { randomBytes } from 'node:crypto'
import type { z } from 'zod'
import { IndexOptionsSchema, InspectArgSchema, type DatasetSummary, type IndexProgress, type InspectResult } from '../../src-shared/contract/datasets'
import { SAMPLE_DEFAULTS } from '../../src-shared/sample-dataset'
import { datasetPaths } from '../../src-node/dataset-folder'
import { writeFileAtomic } from '../../src-node/fsutil'
import { describeFsError } from '../errors'
import { DatasetError } from './dataset-error'
import { JobFailed, startIndexJob, type JobHandle } from './jobs'
import type { IndexOutcome, ProgressUpdate } from './indexer'
import type { DatasetRecord, DatasetRegistry } from './registry'

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

function newJobId(): string {
  return randomBytes(6).toString('hex')
}

export class IndexJobs {
  private readonly running = new Map<string, RunningJob>()
  private readonly inspecting = new Map<string, JobHandle>()

  constructor(
    private readonly registry: DatasetRegistry,
    private readonly events: DatasetEvents,
    private readonly opts: { inProcess?: boolean; logError?: (err: unknown, context: string) => void },
    /** Called once a job's outcome is recorded (the cache it wrote replaces the one browsed). */
    private readonly onRecorded: (id: string) => void
  ) {}

  isRunning(id: string): boolean {
    return this.running.has(id)
  }

  /** Mark the dataset as indexing and start its job in the background; the summary as it is now. */
  async start(rec: DatasetRecord): Promise<DatasetSummary> {
    if (this.running.has(rec.id)) throw new DatasetError(`"${rec.name}" is being indexed already: wait for it, or cancel it first.`, 'busy')
    const dir = await this.registry.dirOf(rec.id, true)
    const jobId = newJobId()
    const indexing: DatasetRecord = { ...rec, status: 'indexing', statusMessage: null, failureKind: null }
    await this.registry.writeRecord(indexing)
    const handle = startIndexJob(
      {
        mode: 'index',
        source: rec.source,
        datasetDir: dir,
        options: rec.options,
        ...(rec.sample
          ? { sample: { perClass: rec.sample.perClass, testPerClass: rec.sample.testPerClass ?? SAMPLE_DEFAULTS.testPerClass, seed: rec.sample.seed } }
          : {})
      },
      (p) => this.events.progress(this.progressOf(jobId, rec.id, rec.source, p, null)),
      { inProcess: this.opts.inProcess }
    )
    const finished = handle.promise.then(
      (o) => this.finishJob(indexing, jobId, handle, o, null),
      (err: unknown) => this.finishJob(indexing, jobId, handle, null, this.jobError(err, rec.source, dir))
    )
    this.running.set(rec.id, { jobId, handle, finished })
    const summary = await this.registry.summaryOf(indexing)
    this.events.changed(rec.id, summary)
    return summary
  }

  private async finishJob(rec: DatasetRecord, jobId: string, handle: JobHandle, o: IndexOutcome | null, err: DatasetError | null): Promise<void> {
    const dir = await this.registry.dirOf(rec.id)
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
        const hadCache = await fs.stat(datasetPaths(dir).cacheIndex).then(
          () => true,
          () => false
        )
        const keep = hadCache ? ' The previous cache is still in use.' : ''
        next = {
          ...rec,
          status: err!.reason === 'cancelled' ? 'cancelled' : 'failed',
          statusMessage: err!.message + keep,
          failureKind: err!.reason as DatasetRecord['failureKind']
        }
      }
      await this.registry.writeRecord(next)
    } catch (e) {
      // The workspace went away under the job (removed, unmounted): nothing left to record.
      ;(this.opts.logError ?? ((x, c) => console.error(`[datasets] ${c}:`, x)))(e, `saving dataset ${rec.id}`)
      this.running.delete(rec.id)
      return
    }
    this.running.delete(rec.id)
    this.onRecorded(rec.id)
    this.events.progress(this.progressOf(jobId, rec.id, rec.source, o ? 'done' : next.status === 'cancelled' ? 'cancelled' : 'failed', next.statusMessage))
    this.events.changed(rec.id, await this.registry.summaryOf(next))
  }

  async waitFor(id: string): Promise<{ summary: DatasetSummary; failureKind: DatasetRecord['failureKind'] }> {
    await this.running.get(id)?.finished
    const rec = await this.registry.readRecord(id)
    return { summary: await this.registry.summaryOf(rec), failureKind: rec.status === 'ready' ? null : rec.failureKind }
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

  /** Cancel the dataset's running job, if any, and wait until its outcome is recorded. */
  async stop(id: string): Promise<void> {
    const job = this.running.get(id)
    if (job) {
      job.handle.cancel()
      await job.finished
    }
  }

  /** Detect and check a folder without writing anything anywhere. */
  async inspect(arg: z.input<typeof InspectArgSchema>, onProgress?: (p: IndexProgress) => void): Promise<InspectResult> {
    const a = InspectArgSchema.parse(arg)
    const source = await this.registry.checkFolder(a.path, true)
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

  private progressOf(
    jobId: string,
    datasetId: string | null,
    source: string,
    p: ProgressUpdate | IndexProgress['phase'],
    message: string | null
  ): IndexProgress {
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

  /** Cancel every job and wait for them to be recorded (host shutdown). */
  async shutdown(): Promise<void> {
    for (const h of this.inspecting.values()) h.cancel()
    const jobs = [...this.running.values()]
    for (const j of jobs) j.handle.cancel()
    await Promise.allSettled(jobs.map((j) => j.finished))
  }
}
