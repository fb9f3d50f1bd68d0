// Runs service: the runs of the workspace as this process sees them, and their lifecycle. It
// creates run folders, keeps the queue (./run-queue.ts), starts each run's worker process
// (utilityProcess in the app, child_process.fork headless: the launcher is injected) and
// supervises it (./run-supervision.ts), persists every state change (./run-files.ts), and
// recovers from crashes. Previews and maps: ./run-analyses.ts. Host code: no Electron.
//
// Lifecycle: queued -> running <-> paused -> done | failed | cancelled | interrupted.
// A host that was killed finds its running runs `interrupted` at the next boot; queued runs are
// still queued.
//
// One writer per run (./run-lock.ts): the process that trains a run holds its lock; any other
// process on the same workspace (a second window, the CLI, a web host) sees the run as it is on
// disk and refuses to change it. Loading the workspace (list, show) starts nothing: only a
// process that creates or resumes a run, or that serves the queue (`startQueue`), trains.
// A run folder that cannot be read is listed as `damaged`, with the reason, never hiding others.
//
// Runs changed by other processes reach this one's subscribers when the workspace watcher (the
// Host's) calls refreshFromDisk: new and deleted run folders, status and notes changes, and the
// metric records appended since (./run-watch.ts).
import { promises as fs } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { stagesOf } from '../../src-shared/stages'
import type { RunConfig } from '../../src-shared/config/run'
import { planSweep, type RunSweep, type SweepAxis } from '../../src-shared/sweep'
import { makeRunFolder, readResults, runDirOf, runsDirOf } from '../../src-node/run-folder'
import { WeightsImportError, checkBackboneFile, copyInitBackbone, type CheckedBackbone } from '../../src-node/weights-import'
import type { HostEvent } from '../../src-shared/contract'
import type {
  AugmentOptions,
  AugmentResult,
  MetricRecord,
  PreviewOptions,
  PreviewResult,
  RunDetail,
  RunImages,
  RunImagesOptions,
  RunNotes,
  RunStatus,
  RunSummary
} from '../../src-shared/contract/runs'
import type { MapInfo, MapResult, MapSpec } from '../../src-shared/contract/maps'
import { runMethodOf } from '../../src-shared/methods/catalog'
import { ServiceError, describeFsError } from '../errors'
import type { WorkspaceService } from '../services/workspace'
import type { SettingsService } from '../services/settings'
import { RunLock, describeHolder, heldByOther, newOwner, retireOwner, type LockInfo } from './run-lock'
import { readRunNotes, writeRunNotes } from './run-notes'
import { RunDiskWatch } from './run-watch'
import {
  appendLog,
  newRunFile,
  newStatus,
  readRunFolder,
  readRunMetrics,
  readRunRecords,
  readStatus,
  resolveRunConfig,
  writeRunFile,
  writeStatus,
  type MetricsFilter
} from './run-files'
import { RunQueue } from './run-queue'
import { RunAnalyses } from './run-analyses'
import { liveRun, onTrainingMessage, placeOf, settleAttempt, type LiveRun, type RunKeeper } from './run-supervision'
import { onWorkerMessages, type LogError, type WorkerHandle, type WorkerLauncher } from './workers'
import type { Executors, TrainingHandle } from './executors'

export type { WorkerHandle, WorkerLauncher }
export { configHash, resolveRunConfig, summarise } from './run-files'

/** A new run's imported backbone (backbone.init of kind 'file'), checked against its architecture and width; bad files are invalid arguments. */
async function checkedInitBackbone(config: RunConfig): Promise<{ source: string; checked: CheckedBackbone } | null> {
  const init = config.backbone.init
  if (init?.kind !== 'file') return null
  try {
    return { source: init.path, checked: await checkBackboneFile(init.path, config.backbone.arch, config.backbone.width) }
  } catch (err) {
    if (err instanceof WeightsImportError) throw new ServiceError(err.message, 'invalid-argument')
    throw err
  }
}

export type RunsEvent = HostEvent<'runs.changed' | 'runs.removed' | 'runs.metrics' | 'runs.log' | 'maps.progress'>

const METRICS_FLUSH_MS = 250

export class RunsService {
  private runs = new Map<string, LiveRun>()
  private readonly queue: RunQueue
  private listeners = new Set<(e: RunsEvent) => void>()
  private flushTimer: NodeJS.Timeout | null = null
  private booted = false
  /** Run folders that could not be loaded, by id, as listed. */
  private damaged = new Map<string, RunSummary>()
  /** This service's identity in run locks. */
  private readonly owner = newOwner()
  /** Worker-exit handlers still saving a run's final state. */
  private exiting = new Set<Promise<void>>()
  private readonly analyses: RunAnalyses
  /** What supervising a worker may do to a run. */
  private readonly keeper: RunKeeper
  /** Tags and notes by run id (runs/<id>/notes.json), for runs that have them. */
  private readonly notes = new Map<string, RunNotes>()
  /** What was last seen on disk of runs this process does not train. */
  private readonly disk = new RunDiskWatch()
  /** Runs being created here: a watcher must not load their half-written folders. */
  private readonly creating = new Set<string>()

  constructor(
    private readonly opts: {
      workspace: WorkspaceService
      settings: SettingsService
      launch: WorkerLauncher
      versions: Record<string, string>
      logError?: LogError
      /** Makes the datasets a new run names ready before its folder is written (the sample is drawn on first use). */
      prepare?: (config: RunConfig) => Promise<void>
      /** Where training workers run (./executors.ts); without it, `launch` starts them here. */
      executors?: Executors
    }
  ) {
    this.queue = new RunQueue(() => opts.workspace.ensureReady())
    this.analyses = new RunAnalyses({ launch: () => opts.launch(), emit: (e) => this.emit(e), logError: opts.logError })
    this.keeper = {
      persist: (r) => this.persist(r),
      setState: (r, s) => this.setState(r, s),
      saveRunFile: (r) => this.saveRunFile(r),
      log: (r, level, message) => this.log(r, level, message),
      changed: (r) => this.changed(r),
      metricsPending: () => this.scheduleFlush()
    }
  }

  /** Whether this process starts queued runs (see startQueue). */
  private get scheduling(): boolean {
    return this.queue.serving
  }
  private set scheduling(on: boolean) {
    this.queue.serving = on
  }

  /** Load every run folder (starting nothing); a run left running by a dead process becomes interrupted. */
  async boot(): Promise<void> {
    if (this.booted) return
    this.booted = true
    await this.rescan()
    await this.queue.load([...this.runs].filter(([, r]) => r.status.state === 'queued').map(([id]) => id))
  }

  /** Serve the queue from this process: start queued runs as slots free up (the app, `serve`). */
  async startQueue(): Promise<void> {
    await this.boot()
    this.scheduling = true
    this.schedule()
  }

  /**
   * Bring the in-memory view up to date with the folder: runs created by other processes appear,
   * runs trained elsewhere show their current state, and a run whose owner died is interrupted.
   */
  private async rescan(announce = false): Promise<void> {
    const ws = await this.opts.workspace.ensureReady()
    const names = await fs.readdir(runsDirOf(ws), { withFileTypes: true }).catch(() => [])
    for (const e of names) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue
      const known = this.runs.get(e.name)
      if (known) {
        if (!known.lock && !known.starting) await this.reloadWatched(known)
        continue
      }
      await this.loadFolder(ws, e.name, announce)
    }
  }

  /** A run folder not loaded yet (created by another process, or at boot). */
  private async loadFolder(ws: string, id: string, announce: boolean): Promise<void> {
    const dir = runDirOf(ws, id)
    const loaded = await readRunFolder(dir)
    if (!loaded || this.runs.has(id) || this.creating.has(id)) return
    if ('damage' in loaded) {
      const was = this.damaged.get(id)
      this.damaged.set(id, loaded.damage)
      if (announce && JSON.stringify(was) !== JSON.stringify(loaded.damage)) this.emit({ name: 'runs.changed', payload: loaded.damage })
      return
    }
    this.damaged.delete(id)
    const live = liveRun(dir, ws, loaded.run, loaded.status)
    live.evaluations = loaded.evaluations
    this.runs.set(id, live)
    await this.reloadNotes(live)
    await this.disk.look(id, dir)
    await this.recoverIfOrphaned(live)
    if (announce) this.changed(live)
  }

  private async reloadNotes(r: LiveRun): Promise<boolean> {
    const notes = await readRunNotes(r.dir)
    const before = this.notes.get(r.run.id)
    if (JSON.stringify(notes) === JSON.stringify(before ?? null)) return false
    if (notes) this.notes.set(r.run.id, notes)
    else this.notes.delete(r.run.id)
    return true
  }

  /**
   * Push what other processes changed in the workspace's runs. `ids`: the run folders a watcher
   * saw change (each is re-read); without them, a cheap pass over every run (the periodic
   * fallback): folders added or gone, and runs whose status.json or notes.json changed mtime.
   * Metric records appended to a watched run's metrics.jsonl stream as runs.metrics.
   */
  async refreshFromDisk(ids?: Iterable<string>): Promise<void> {
    if (!this.booted) return
    const ws = await this.opts.workspace.ensureReady()
    const present = ids
      ? null
      : new Set(
          (await fs.readdir(runsDirOf(ws), { withFileTypes: true }).catch(() => []))
            .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
            .map((e) => e.name)
        )
    const todo = ids ? new Set(ids) : new Set([...present!, ...this.runs.keys(), ...this.damaged.keys()])
    for (const id of todo) {
      if (this.creating.has(id)) continue
      const r = this.runs.get(id)
      const dir = runDirOf(ws, id)
      const gone = present
        ? !present.has(id)
        : !(await fs.stat(dir).then(
            (st) => st.isDirectory(),
            () => false
          ))
      if (gone) {
        if (r?.lock || r?.starting || r?.worker) continue
        if (r || this.damaged.has(id)) this.forgetRun(id)
        continue
      }
      if (!r) {
        await this.loadFolder(ws, id, true)
        continue
      }
      if (r.lock || r.starting || r.worker || r.settling) {
        // Trained here: this process pushes its changes as they happen.
        this.disk.forget(id)
        continue
      }
      const first = !this.disk.has(id)
      const seen = await this.disk.look(id, r.dir)
      if (ids || first || seen.status) await this.reloadWatched(r)
      if ((ids || seen.notes) && (await this.reloadNotes(r))) this.changed(r)
      const records = await this.disk.tail(id, r.dir)
      if (records.length) this.emit({ name: 'runs.metrics', payload: { id, records } })
    }
  }

  private forgetRun(id: string): void {
    this.runs.delete(id)
    this.damaged.delete(id)
    this.notes.delete(id)
    this.disk.forget(id)
    this.queue.remove(id)
    this.emit({ name: 'runs.removed', payload: { id } })
  }

  /** A run saved as running whose owner is gone (killed, crashed, the app closed) is interrupted. */
  private async recoverIfOrphaned(r: LiveRun): Promise<void> {
    if (r.status.state !== 'running') return
    await this.withLock(r, 'recovery', async () => {
      if (r.status.state !== 'running') return
      // A batch job the dead owner submitted may still run: stop it before anyone resumes the run.
      await this.opts.executors?.reclaim(r.dir).catch(() => {})
      r.status.state = 'interrupted'
      r.status.etaSec = null
      r.status.error =
        'The process training this run stopped (the app was closed, or it was killed) while it was running. Resume continues from its last checkpoint.'
      await this.persist(r)
      this.changed(r)
    }).catch(() => {
      // Trained by a live process elsewhere: it stays `running`, watched from here.
    })
  }

  /** A run another process owns: show what is on disk now. */
  private async reloadWatched(r: LiveRun): Promise<void> {
    const status = await readStatus(r.dir)
    if (status && JSON.stringify(status) !== JSON.stringify(r.status)) {
      r.status = status
      r.evaluations = (await readResults(r.dir)).evaluations
      if (r.status.state !== 'queued') this.queue.remove(r.run.id)
      this.changed(r)
    }
    await this.recoverIfOrphaned(r)
  }

  /**
   * Run `fn` holding the run's lock (taken for the moment unless this process trains the run).
   * Refused, naming the owner, while another live process owns the run.
   */
  private async withLock<T>(r: LiveRun, purpose: string, fn: () => Promise<T>): Promise<T> {
    // A worker that just exited still holds the lock while its final state is saved: a command
    // arriving meanwhile (a resume right after the run failed) waits for that, then locks afresh.
    if (r.settling) await r.settling
    if (r.lock) return fn()
    const got = await RunLock.acquire(r.dir, this.owner, purpose).catch((err: unknown) => {
      throw new ServiceError(describeFsError(err, r.dir, 'lock the run folder'))
    })
    if (!(got instanceof RunLock)) throw ownedElsewhere(r.run.id, got)
    r.lock = got
    try {
      // Another process may have changed the run since we last read it.
      await this.reloadStatusFromDisk(r)
      return await fn()
    } finally {
      r.lock = null
      await got.release()
    }
  }

  private async reloadStatusFromDisk(r: LiveRun): Promise<void> {
    // Keep what we have when the file is unreadable: the write that follows repairs it.
    r.status = (await readStatus(r.dir)) ?? r.status
  }

  onEvent(fn: (e: RunsEvent) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }
  private emit(e: RunsEvent): void {
    for (const l of this.listeners) l(e)
  }

  /**
   * "Repeat with N seeds": one run per seed, the same config otherwise, queued in seed order and
   * sharing a group id in run.json, so tables show them as one row (mean ± sd). Every config is
   * checked before any folder is written: a bad one creates none.
   */
  async createGroup(input: Record<string, unknown>, preset: string | null, seeds: number[]): Promise<RunSummary[]> {
    await this.boot()
    if (new Set(seeds).size !== seeds.length) throw new ServiceError(`seeds: each seed once, got ${seeds.join(', ')}`, 'invalid-argument')
    const configs = seeds.map((seed) => resolveRunConfig({ ...input, seed }, preset))
    if (configs[0]) await this.opts.prepare?.(configs[0])
    const group = `g-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(3).toString('hex')}`
    const out: RunSummary[] = []
    for (const config of configs) out.push(await this.create(config, null, group, preset))
    return out
  }

  /**
   * A grid sweep (src-shared/sweep.ts): one run per grid point and seed, each its own folder and
   * config, sharing the sweep's id in run.json (a point's seeds also share a group). Every config
   * is checked before any folder is written: a bad value creates none and names the point.
   */
  async createSweep(input: Record<string, unknown>, preset: string | null, axes: SweepAxis[], seeds: number[] | null): Promise<RunSummary[]> {
    await this.boot()
    const id = `s-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}-${randomBytes(3).toString('hex')}`
    const plan = planSweep(resolveRunConfig(input, preset), axes, seeds, id)
    if ('error' in plan) throw new ServiceError(plan.error, 'invalid-argument')
    await this.opts.prepare?.(plan.runs[0]!.config)
    const out: RunSummary[] = []
    for (const r of plan.runs) out.push(await this.create(r.config, null, r.group, preset, r.sweep))
    return out
  }

  /** Validate, write the run folder, queue it. */
  async create(input: unknown, preset: string | null = null, group?: string, presetLabel: string | null = preset, sweep?: RunSweep): Promise<RunSummary> {
    await this.boot()
    const config = resolveRunConfig(input, preset)
    await this.opts.prepare?.(config)
    const initBackbone = await checkedInitBackbone(config)
    const run = { ...newRunFile(config, presetLabel, this.opts.versions), ...(group ? { group } : {}), ...(sweep ? { sweep } : {}) }
    const ws = await this.opts.workspace.ensureReady()
    const dir = runDirOf(ws, run.id)
    const live = liveRun(dir, ws, run, newStatus())
    this.creating.add(run.id)
    try {
      await makeRunFolder(dir)
      // The imported backbone is copied in, so the run does not depend on the file staying where it is.
      if (initBackbone) run.backboneInit = await copyInitBackbone(dir, initBackbone.source, initBackbone.checked)
      await this.withLock(live, 'creating', async () => {
        await writeRunFile(dir, run)
        live.status = newStatus()
        await this.persist(live)
      })
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true }).catch(() => {})
      throw new ServiceError(describeFsError(err, dir, 'create the run folder'))
    } finally {
      this.creating.delete(run.id)
    }
    this.runs.set(run.id, live)
    this.queue.push(run.id)
    this.scheduling = true
    await this.queue.save()
    this.changed(live)
    this.schedule()
    return this.summary(live)
  }

  async list(): Promise<RunSummary[]> {
    await this.boot()
    await this.rescan()
    const all = [...this.runs.values()].map((r) => this.summary(r)).concat([...this.damaged.values()])
    return all.sort((a, b) => b.status.createdAt.localeCompare(a.status.createdAt))
  }

  async get(id: string): Promise<RunDetail> {
    await this.boot()
    const known = this.runs.get(id)
    if (known && !known.lock && !known.starting) await this.reloadWatched(known)
    else if (!known) await this.rescan()
    const r = this.must(id)
    const records = await readRunRecords(r.dir)
    r.evaluations = (await readResults(r.dir)).evaluations
    return {
      ...this.summary(r),
      ...records,
      dataFingerprints: r.run.dataFingerprints ?? [],
      config: r.run.config as unknown as Record<string, unknown>,
      versions: r.run.versions,
      datasets: r.run.datasets
    }
  }

  /** Metric records of a run, at most `maxPoints` (evenly thinned; the last is kept). */
  async metrics(id: string, maxPoints = 5000, only: MetricsFilter = {}): Promise<MetricRecord[]> {
    await this.boot()
    return readRunMetrics(this.must(id).dir, maxPoints, only)
  }

  /** Rotated views of a few images with the model's predicted rotation probabilities. */
  async preview(id: string, o: PreviewOptions): Promise<PreviewResult> {
    await this.boot()
    return this.analyses.preview(placeOf(this.must(id)), o)
  }

  /** Training views of a few images, as the run's pretraining method makes them. */
  async augmentations(id: string, o: AugmentOptions): Promise<AugmentResult> {
    await this.boot()
    return this.analyses.augmentations(placeOf(this.must(id)), o)
  }

  /** Thumbnails of the run's dataset split. */
  async images(id: string, o: RunImagesOptions): Promise<RunImages> {
    await this.boot()
    return this.analyses.images(placeOf(this.must(id)), o)
  }

  /** Start computing an embedding map (or return the stored one's key); progress as maps.progress. */
  async startMap(id: string, spec: MapSpec): Promise<{ key: string; cached: boolean }> {
    await this.boot()
    return this.analyses.startMap(id, placeOf(this.must(id)), spec)
  }

  /** The folder of a run. */
  async runDir(id: string): Promise<string> {
    await this.boot()
    return this.must(id).dir
  }

  async cancelMap(id: string, key: string): Promise<void> {
    this.analyses.cancelMap(id, key)
  }

  /** The maps stored for a run (without their points), newest first. */
  async listMaps(id: string): Promise<MapInfo[]> {
    await this.boot()
    return this.analyses.listMaps(this.must(id).dir)
  }

  async getMap(id: string, key: string): Promise<MapResult> {
    await this.boot()
    return this.analyses.getMap(id, this.must(id).dir, key)
  }

  async pause(id: string): Promise<RunSummary> {
    await this.boot()
    const r = this.must(id)
    if (r.worker) {
      if (r.status.state !== 'running') throw new ServiceError(`Run ${id} is ${r.status.state}; only queued or running runs can be paused.`)
      r.requested = 'pause'
      r.worker.send({ type: 'pause' })
      return this.summary(r)
    }
    await this.withLock(r, 'pause', async () => {
      if (r.status.state !== 'queued') throw new ServiceError(`Run ${id} is ${r.status.state}; only queued or running runs can be paused.`)
      this.queue.remove(id)
      await this.queue.save()
      await this.setState(r, 'paused')
    })
    return this.summary(r)
  }

  async resume(id: string): Promise<RunSummary> {
    await this.boot()
    const r = this.must(id)
    if (r.worker) throw new ServiceError(`Run ${id} is ${r.status.state}; only paused, interrupted or failed runs can be resumed.`)
    await this.withLock(r, 'resume', async () => {
      if (!['paused', 'interrupted', 'failed'].includes(r.status.state)) {
        throw new ServiceError(`Run ${id} is ${r.status.state}; only paused, interrupted or failed runs can be resumed.`)
      }
      r.status.error = null
      r.status.errorStage = null
      r.resubmitted = 0
      this.queue.putFirst(id)
      await this.queue.save()
      await this.setState(r, 'queued')
    })
    this.scheduling = true
    this.schedule()
    return this.summary(r)
  }

  async cancel(id: string): Promise<RunSummary> {
    await this.boot()
    const r = this.must(id)
    if (r.worker) {
      if (r.status.state !== 'running') throw new ServiceError(`Run ${id} is already ${r.status.state}.`)
      r.requested = 'cancel'
      r.worker.send({ type: 'cancel' })
      return this.summary(r)
    }
    await this.withLock(r, 'cancel', async () => {
      if (!['queued', 'paused', 'interrupted', 'failed'].includes(r.status.state)) throw new ServiceError(`Run ${id} is already ${r.status.state}.`)
      this.queue.remove(id)
      await this.queue.save()
      r.status.endedAt = new Date().toISOString()
      await this.setState(r, 'cancelled')
    })
    return this.summary(r)
  }

  /** Set a run's tags and notes. No lock: training never touches notes.json (see ./run-notes.ts). */
  async annotate(id: string, notes: RunNotes): Promise<RunSummary> {
    await this.boot()
    const r = this.must(id)
    const saved = await writeRunNotes(r.dir, notes).catch((err: unknown) => {
      throw new ServiceError(describeFsError(err, r.dir, 'save the notes of'))
    })
    this.notes.set(id, saved)
    this.changed(r)
    return this.summary(r)
  }

  /**
   * Delete a run's folder (checkpoints, metrics, maps). Refused while it is queued or running,
   * and while another live process holds its lock; the lock is held while the folder goes, so no
   * process starts the run meanwhile. A damaged run can be deleted too.
   */
  async delete(id: string): Promise<{ removed: boolean }> {
    await this.boot()
    const ws = await this.opts.workspace.ensureReady()
    const damaged = this.damaged.get(id)
    if (!this.runs.has(id) && damaged) {
      const dir = runDirOf(ws, id)
      const holder = await heldByOther(dir, this.owner)
      if (holder) throw ownedElsewhere(id, holder)
      await fs.rm(dir, { recursive: true, force: true }).catch((err: unknown) => {
        throw new ServiceError(describeFsError(err, dir, 'delete'))
      })
      this.forgetRun(id)
      return { removed: true }
    }
    const r = this.must(id)
    if (r.worker || r.starting) throw new ServiceError(`Run ${id} is ${r.status.state}: pause or cancel it before deleting it.`)
    await this.withLock(r, 'delete', async () => {
      if (['queued', 'running'].includes(r.status.state)) throw new ServiceError(`Run ${id} is ${r.status.state}: pause or cancel it before deleting it.`)
      // Everything but the lock first, so no process finds a half-deleted run it may take.
      const entries = await fs.readdir(r.dir).catch(() => [] as string[])
      try {
        for (const name of entries) if (name !== 'lock.json') await fs.rm(`${r.dir}/${name}`, { recursive: true, force: true })
      } catch (err) {
        throw new ServiceError(describeFsError(err, r.dir, 'delete'))
      }
    })
    await fs.rm(r.dir, { recursive: true, force: true }).catch(() => {})
    this.forgetRun(id)
    return { removed: true }
  }

  /** Resolves when the run reaches a state other than queued/running. */
  waitSettled(id: string): Promise<RunSummary> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const r = this.runs.get(id)
        if (r && !['queued', 'running'].includes(r.status.state)) {
          resolve(this.summary(r))
          return true
        }
        return false
      }
      if (check()) return
      const off = this.onEvent((e) => {
        if (e.name === 'runs.changed' && e.payload.id === id && check()) off()
      })
    })
  }

  /** Pause every running run (checkpointing it) before the host exits. */
  async shutdown(): Promise<void> {
    this.analyses.stop()
    const running = [...this.runs.values()].filter((r) => r.worker)
    await Promise.all(
      running.map(
        (r) =>
          new Promise<void>((resolve) => {
            r.worker!.onExit(() => resolve())
            r.requested = 'pause'
            r.worker!.send({ type: 'pause' })
            setTimeout(() => {
              r.worker?.kill('SIGKILL')
              resolve()
            }, 30_000)
          })
      )
    )
    await Promise.all([...this.exiting])
    for (const r of this.runs.values()) await r.lock?.release()
    retireOwner(this.owner)
  }

  private must(id: string): LiveRun {
    const r = this.runs.get(id)
    const damaged = this.damaged.get(id)
    if (!r && damaged) throw new ServiceError(`Run ${id} is damaged: ${damaged.status.error}`, 'failed')
    if (!r) throw new ServiceError(`No run with id "${id}". List runs with \`quarterturn list\`.`, 'invalid-argument')
    return r
  }

  private summary(r: LiveRun): RunSummary {
    return {
      id: r.run.id,
      name: r.run.name,
      method: runMethodOf(r.run.config),
      preset: r.run.preset,
      configHash: r.run.configHash,
      status: { ...r.status },
      evaluations: r.evaluations,
      group: r.run.group ?? null,
      ...(r.run.sweep ? { sweep: r.run.sweep } : {}),
      seed: r.run.seed,
      dataset: r.run.datasets[0]?.label ?? (r.run.config.dataset.kind === 'sample' ? 'sample' : r.run.config.dataset.id),
      ...this.notes.get(r.run.id)
    }
  }

  private changed(r: LiveRun): void {
    r.lastChanged = Date.now()
    this.emit({ name: 'runs.changed', payload: this.summary(r) })
  }

  private async persist(r: LiveRun): Promise<void> {
    // Only the lock's holder writes a run: a state written by a watcher would overwrite the owner's.
    if (!r.lock) throw new Error(`internal: status of run ${r.run.id} written without its lock`)
    r.lastPersist = Date.now()
    await writeStatus(r.dir, r.status)
  }

  private async setState(r: LiveRun, state: RunStatus['state']): Promise<void> {
    r.status.state = state
    await this.persist(r).catch((err) => this.log(r, 'error', describeFsError(err, r.dir, 'save the state of')))
    this.changed(r)
  }

  private async saveRunFile(r: LiveRun): Promise<void> {
    if (!r.lock) return
    // One write at a time, each of the run as it is then: an earlier write never lands after a later one.
    const write = async (): Promise<void> => {
      if (r.lock) await writeRunFile(r.dir, r.run).catch((err) => this.log(r, 'error', describeFsError(err, r.dir, 'update run.json in')))
    }
    const next = (r.runFileWrite ?? Promise.resolve()).then(write)
    r.runFileWrite = next
    await next
  }

  private log(r: LiveRun, level: 'info' | 'warn' | 'error', message: string): void {
    if (r.lock) void appendLog(r.dir, level, message).catch(() => {})
    this.emit({ name: 'runs.log', payload: { id: r.run.id, level, message } })
  }

  private schedule(): void {
    if (!this.scheduling) return
    const anyRun = this.runs.values().next().value
    const max = (anyRun && this.opts.executors?.concurrency(anyRun.workspaceDir)) ?? this.opts.settings.get().maxConcurrentRuns
    // Runs trained by other processes are theirs to count.
    let running = [...this.runs.values()].filter((r) => r.lock || r.starting).length
    while (running < max && this.queue.size) {
      const id = this.queue.shift()!
      const r = this.runs.get(id)
      if (!r || r.status.state !== 'queued' || r.lock || r.starting) continue
      running++
      r.starting = true
      void this.start(r)
    }
    void this.queue.save().catch(() => {})
  }

  private async start(r: LiveRun): Promise<void> {
    const got = await RunLock.acquire(r.dir, this.owner, 'training', (by) => this.lostLock(r, by)).catch((err: unknown) => err as Error)
    r.starting = false
    if (!(got instanceof RunLock)) {
      // Another process took the run first (or the folder cannot be locked): watch it instead.
      if (got instanceof Error)
        this.emit({ name: 'runs.log', payload: { id: r.run.id, level: 'error', message: describeFsError(got, r.dir, 'lock the run folder') } })
      await this.reloadWatched(r)
      return this.schedule()
    }
    r.lock = got
    await this.reloadStatusFromDisk(r)
    if (r.status.state !== 'queued') {
      // Changed by another process since it was queued here (started, cancelled, paused).
      r.lock = null
      await got.release()
      this.changed(r)
      return this.schedule()
    }
    r.requested = null
    r.errorSeen = null
    r.attemptStart = Date.now()
    r.status.startedAt ??= new Date().toISOString()
    r.status.stage = stagesOf(r.run.config)[0] ?? null
    await this.setState(r, 'running')
    let worker: WorkerHandle
    try {
      worker = this.opts.executors ? await this.opts.executors.launchTraining(placeOf(r), r.run.id) : this.opts.launch()
    } catch (err) {
      r.status.error = `Could not start the training worker: ${(err as Error).message}`
      this.log(r, 'error', r.status.error)
      await this.setState(r, 'failed')
      r.lock = null
      await got.release()
      return this.schedule()
    }
    r.worker = worker
    onWorkerMessages(worker, (m) => onTrainingMessage(r, m, this.keeper), this.opts.logError)
    worker.onExit((code, signal) => {
      const done: Promise<void> = this.onWorkerExit(r, code, signal).finally(() => {
        this.exiting.delete(done)
        if (r.settling === done) r.settling = null
      })
      r.settling = done
      this.exiting.add(done)
    })
    await got.setWorker(worker.pid)
    worker.send({ type: 'run', ...placeOf(r) })
  }

  private scheduleFlush(): void {
    if (this.flushTimer) return
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null
      for (const r of this.runs.values()) {
        if (!r.pendingMetrics.length) continue
        this.emit({ name: 'runs.metrics', payload: { id: r.run.id, records: r.pendingMetrics.splice(0) } })
      }
    }, METRICS_FLUSH_MS)
  }

  private async onWorkerExit(r: LiveRun, code: number | null, signal: string | null): Promise<void> {
    const handle = r.worker as TrainingHandle | null
    await settleAttempt(r, code, signal, this.keeper)
    // A batch job that ended without the run (node failure, time limit, preemption, a kill) is
    // resubmitted from the newest checkpoint, a bounded number of times.
    const allowed = handle?.resubmits ?? 0
    if (r.status.state === 'interrupted' && !r.requested && r.lock && r.resubmitted < allowed) {
      r.resubmitted++
      this.log(r, 'warn', `Resubmitting from the newest checkpoint (automatic resubmission ${r.resubmitted} of ${allowed}).`)
      r.status.error = null
      this.queue.putFirst(r.run.id)
      await this.setState(r, 'queued')
      await this.queue.save().catch(() => {})
    }
    const lock = r.lock
    r.lock = null
    await lock?.release()
    this.schedule()
  }

  /** Our lock was taken over (this process was judged dead): stop writing the run at once. */
  private lostLock(r: LiveRun, by: LockInfo | null): void {
    r.lock = null
    this.emit({
      name: 'runs.log',
      payload: { id: r.run.id, level: 'error', message: `This process lost the run to ${by ? describeHolder(by) : 'another process'}; its worker was stopped.` }
    })
    r.worker?.kill('SIGKILL')
  }
}

function ownedElsewhere(id: string, holder: LockInfo): ServiceError {
  return new ServiceError(
    `Run ${id} is in use by ${describeHolder(holder)}. Pause, resume or cancel it there; other windows and commands can only watch it.`,
    'failed'
  )
}
