// Runs service: creates run folders, keeps a persistent queue, executes each run in its own
// worker process (utilityProcess in the app, child_process.fork headless: the launcher is
// injected), persists every state change, and recovers from crashes. Host code: no Electron.
//
// Lifecycle: queued -> running <-> paused -> done | failed | cancelled | interrupted.
// A worker that dies without saying why (kill -9, out of memory) leaves the run `interrupted`;
// one that reports an error leaves it `failed` with the message and the stage. Resuming either
// continues from the newest intact checkpoint. A host that was killed finds its running runs
// `interrupted` at the next boot; queued runs are still queued.
//
// One writer per run (./run-lock.ts): the process that trains a run holds its lock; any other
// process on the same workspace (a second window, the CLI, a web host) sees the run as it is on
// disk and refuses to change it. Loading the workspace (list, show) starts nothing: only a
// process that creates or resumes a run, or that serves the queue (`startQueue`), trains.
// A run folder that cannot be read is listed as `damaged`, with the reason, never hiding others.
import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { parseRunConfig, presetByName, type RunConfig } from '../../src-shared/config/run'
import { stagesOf } from '../../src-shared/stages'
import { CheckpointStore } from '../../src-node/checkpoint'
import { readMetrics } from '../../src-node/metrics-log'
import { RunFileSchema, listMaps, makeRunFolder, mapKey, queueFileOf, readMap, readResults, runDirOf, runPaths, runsDirOf, weightsIdOf, type RunFile } from '../../src-node/run-folder'
import type { FromRunWorker } from '../../src-shared/contract/worker'
import type { HostEvent } from '../../src-shared/contract'
import { RunStatusSchema, type AugmentOptions, type AugmentResult, type MetricRecord, type PreviewOptions, type PreviewResult, type RunDetail, type RunImages, type RunImagesOptions, type RunStatus, type RunSummary } from '../../src-shared/contract/runs'
import { ServiceError, describeFsError } from '../errors'
import { AnalysisWorker } from './analysis-worker'
import type { MapInfo, MapResult, MapSpec } from '../../src-shared/contract/maps'
import { writeFileAtomic } from '../../src-node/fsutil'
import { slugify } from '../../src-shared/slug'
import { runMethodOf } from '../../src-shared/methods/catalog'
import type { WorkspaceService } from '../services/workspace'
import type { SettingsService } from '../services/settings'
import { RunLock, describeHolder, newOwner, retireOwner, type LockInfo } from './run-lock'
import { onWorkerMessages, type LogError, type RunPlace, type WorkerHandle, type WorkerLauncher } from './workers'

export type { WorkerHandle, WorkerLauncher }

interface LiveRun {
  dir: string
  /** The workspace the run belongs to: its workers read that workspace's datasets. */
  workspaceDir: string
  run: RunFile
  status: RunStatus
  worker: WorkerHandle | null
  /** What the user asked of the running worker. */
  requested: 'pause' | 'cancel' | null
  attemptStart: number | null
  lastPersist: number
  pendingMetrics: MetricRecord[]
  errorSeen: { message: string; stage: string; code?: string } | null
  /** What the worker said it finished with, before it exits. */
  outcome: 'done' | 'paused' | 'cancelled' | null
  lastChanged: number
  evaluations: RunSummary['evaluations']
  /** Held while this process trains the run, or for a moment while it changes its state. */
  lock: RunLock | null
  /** Scheduled here, lock not yet taken. */
  starting: boolean
}

/** Sections every stored (resolved) config has had since the first version. */
const STORED_CONFIG_SECTIONS = ['name', 'seed', 'dataset', 'backbone', 'pretrain', 'finetune', 'evaluation'] as const

function liveRun(dir: string, workspaceDir: string, run: RunFile, status: RunStatus): LiveRun {
  return { dir, workspaceDir, run, status, worker: null, requested: null, attemptStart: null, lastPersist: 0, pendingMetrics: [], errorSeen: null, outcome: null, evaluations: [], lastChanged: 0, lock: null, starting: false }
}

export type RunsEvent = HostEvent<'runs.changed' | 'runs.metrics' | 'runs.log' | 'maps.progress'>

const METRICS_FLUSH_MS = 250
const PROGRESS_PERSIST_MS = 2000
const PROGRESS_EMIT_MS = 200

/** Stable JSON (sorted keys) for hashing configs. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object') return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`
  return JSON.stringify(v)
}

export function configHash(config: unknown): string {
  return createHash('sha256').update(canonical(config)).digest('hex').slice(0, 16)
}

function newStatus(): RunStatus {
  return { state: 'queued', stage: null, epoch: null, epochs: null, step: null, steps: null, etaSec: null, backend: null, error: null, errorStage: null, createdAt: new Date().toISOString(), startedAt: null, endedAt: null, wallMs: 0 }
}

/** A config as given (over a preset's, when named), checked; bad input is an invalid-argument error. */
export function resolveRunConfig(input: unknown, preset: string | null): RunConfig {
  try {
    const base = preset ? presetByName(preset)?.config : undefined
    if (preset && !base) throw new Error(`unknown preset "${preset}"; run \`quarterturn run --list-presets\``)
    return parseRunConfig(base ? deepMerge(base, input) : input)
  } catch (err) {
    throw new ServiceError((err as Error).message, 'invalid-argument')
  }
}

export class RunsService {
  private runs = new Map<string, LiveRun>()
  private queue: string[] = []
  private listeners = new Set<(e: RunsEvent) => void>()
  private flushTimer: NodeJS.Timeout | null = null
  private booted = false
  /** Whether this process starts queued runs (see startQueue). */
  private scheduling = false
  /** Run folders that could not be loaded, by id, as listed. */
  private damaged = new Map<string, RunSummary>()
  /** This service's identity in run locks. */
  private readonly owner = newOwner()
  /** Worker-exit handlers still saving a run's final state. */
  private exiting = new Set<Promise<void>>()

  constructor(
    private readonly opts: {
      workspace: WorkspaceService
      settings: SettingsService
      launch: WorkerLauncher
      versions: Record<string, string>
      logError?: LogError
    }
  ) {
    this.analysis = new AnalysisWorker(() => this.opts.launch(), opts.logError)
  }

  /** Computes previews in a worker process (never on the host's thread). */
  private readonly analysis: AnalysisWorker

  /** Load every run folder (starting nothing); a run left running by a dead process becomes interrupted. */
  async boot(): Promise<void> {
    if (this.booted) return
    this.booted = true
    await this.rescan()
    const saved = await fs.readFile(queueFileOf(await this.opts.workspace.ensureReady()), 'utf8').then((t) => JSON.parse(t) as unknown, () => [])
    this.queue = (Array.isArray(saved) ? saved : []).filter((id): id is string => typeof id === 'string' && this.runs.get(id)?.status.state === 'queued')
    for (const [id, r] of this.runs) if (r.status.state === 'queued' && !this.queue.includes(id)) this.queue.push(id)
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
  private async rescan(): Promise<void> {
    const ws = await this.opts.workspace.ensureReady()
    const dir = runsDirOf(ws)
    const names = await fs.readdir(dir, { withFileTypes: true }).catch(() => [])
    for (const e of names) {
      if (!e.isDirectory() || e.name.startsWith('.')) continue
      const known = this.runs.get(e.name)
      if (known) {
        if (!known.lock && !known.starting) await this.reloadWatched(known)
        continue
      }
      const loaded = await this.load(runDirOf(ws, e.name), ws)
      if (!loaded) continue
      if ('damage' in loaded) {
        this.damaged.set(e.name, loaded.damage)
        continue
      }
      this.damaged.delete(e.name)
      this.runs.set(e.name, loaded.live)
      await this.recoverIfOrphaned(loaded.live)
    }
  }

  /** Read and check one run folder; null when it is not a run folder at all. */
  private async load(runDir: string, workspaceDir: string): Promise<{ live: LiveRun } | { damage: RunSummary } | null> {
    const id = path.basename(runDir)
    const files = runPaths(runDir)
    const runText = await fs.readFile(files.run, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : err))
    const statusText = await fs.readFile(files.status, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : err))
    if (runText === null && statusText === null) return null
    let rawName: unknown = null
    const damaged = (reason: string, fix: string): { damage: RunSummary } => ({ damage: damagedSummary(id, typeof rawName === 'string' ? rawName : id, `${reason} ${fix}`) })
    const removeIt = `Restore the file from a backup, or delete the folder ${runDir} to remove the run; the other runs are not affected.`
    if (runText === null) return damaged('run.json is missing.', removeIt)
    if (runText instanceof Error) return damaged(`run.json cannot be read (${runText.message}).`, 'Fix the file\'s permissions, then reload.')
    let run: RunFile
    try {
      const raw = JSON.parse(runText) as Record<string, unknown>
      rawName = raw?.name
      const parsed = RunFileSchema.safeParse(raw)
      if (!parsed.success) return damaged(`run.json is not a run description: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}.`, removeIt)
      // A stored config is a resolved one: a missing section means the file was cut or edited,
      // and filling in defaults would show a run other than the one trained.
      const cfg = parsed.data.config as Record<string, unknown> | null
      const missing = STORED_CONFIG_SECTIONS.filter((k) => !cfg || typeof cfg !== 'object' || !(k in cfg))
      if (missing.length) return damaged(`run.json's config has no ${missing.map((k) => `"${k}"`).join(', ')}.`, removeIt)
      run = { ...parsed.data, config: parseRunConfig(parsed.data.config) }
    } catch (err) {
      return damaged(`run.json is damaged: ${(err as Error).message}.`, removeIt)
    }
    let status: RunStatus
    if (statusText === null || statusText instanceof Error) {
      return damaged(`status.json is ${statusText === null ? 'missing' : `unreadable (${statusText.message})`}.`, `Delete the folder ${runDir} to remove the run, or restore status.json.`)
    }
    try {
      const parsed = RunStatusSchema.safeParse(JSON.parse(statusText))
      if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; '))
      status = parsed.data
    } catch (err) {
      return damaged(`status.json is damaged (${(err as Error).message.slice(0, 300)}).`, `Restore it from a backup, or delete the folder ${runDir} to remove the run.`)
    }
    const live = liveRun(runDir, workspaceDir, run, status)
    live.evaluations = (await readResults(runDir)).evaluations
    return { live }
  }

  /** A run saved as running whose owner is gone (killed, crashed, the app closed) is interrupted. */
  private async recoverIfOrphaned(r: LiveRun): Promise<void> {
    if (r.status.state !== 'running') return
    await this.withLock(r, 'recovery', async () => {
      if (r.status.state !== 'running') return
      r.status.state = 'interrupted'
      r.status.etaSec = null
      r.status.error = 'The process training this run stopped (the app was closed, or it was killed) while it was running. Resume continues from its last checkpoint.'
      await this.persist(r)
      this.changed(r)
    }).catch(() => {
      // Trained by a live process elsewhere: it stays `running`, watched from here.
    })
  }

  /** A run another process owns: show what is on disk now. */
  private async reloadWatched(r: LiveRun): Promise<void> {
    const text = await fs.readFile(runPaths(r.dir).status, 'utf8').catch(() => null)
    const parsed = text === null ? null : RunStatusSchema.safeParse((() => { try { return JSON.parse(text) as unknown } catch { return null } })())
    if (parsed?.success && JSON.stringify(parsed.data) !== JSON.stringify(r.status)) {
      r.status = parsed.data
      r.evaluations = (await readResults(r.dir)).evaluations
      if (r.status.state !== 'queued') this.queue = this.queue.filter((q) => q !== r.run.id)
      this.changed(r)
    }
    await this.recoverIfOrphaned(r)
  }

  /**
   * Run `fn` holding the run's lock (taken for the moment unless this process trains the run).
   * Refused, naming the owner, while another live process owns the run.
   */
  private async withLock<T>(r: LiveRun, purpose: string, fn: () => Promise<T>): Promise<T> {
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
    const text = await fs.readFile(runPaths(r.dir).status, 'utf8').catch(() => null)
    if (text === null) return
    try {
      r.status = RunStatusSchema.parse(JSON.parse(text))
    } catch {
      // Keep what we have; the write that follows repairs the file.
    }
  }

  onEvent(fn: (e: RunsEvent) => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }
  private emit(e: RunsEvent): void {
    for (const l of this.listeners) l(e)
  }

  /** Validate, write the run folder, queue it. */
  async create(input: unknown, preset: string | null = null): Promise<RunSummary> {
    await this.boot()
    const config = resolveRunConfig(input, preset)
    const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
    const slug = slugify(config.name, 30, 'run')
    const id = `${stamp}-${slug}-${randomBytes(2).toString('hex')}`
    const ws = await this.opts.workspace.ensureReady()
    const dir = runDirOf(ws, id)
    const run: RunFile = {
      id,
      name: config.name,
      preset,
      createdAt: new Date().toISOString(),
      config,
      configHash: configHash(config),
      seed: config.seed,
      versions: this.opts.versions,
      datasets: [config.dataset, ...config.evaluation.transfer].map((ref) => ({ ref, label: ref.kind === 'sample' ? `sample seed ${ref.seed}` : ref.id }))
    }
    const live = liveRun(dir, ws, run, newStatus())
    try {
      await makeRunFolder(dir)
      await this.withLock(live, 'creating', async () => {
        await writeFileAtomic(runPaths(dir).run, JSON.stringify(run, null, 2) + '\n')
        live.status = newStatus()
        await this.persist(live)
      })
    } catch (err) {
      await fs.rm(dir, { recursive: true, force: true }).catch(() => {})
      throw new ServiceError(describeFsError(err, dir, 'create the run folder'))
    }
    this.runs.set(id, live)
    this.queue.push(id)
    this.scheduling = true
    await this.saveQueue()
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
    const files = runPaths(r.dir)
    const checkpoints = await new CheckpointStore(files.checkpoints).describe()
    const log = (await readMetrics(files.log)) as RunDetail['log']
    const results = await readResults(r.dir)
    r.evaluations = results.evaluations
    const summaries = summarise(await readMetrics(files.metrics))
    return { ...this.summary(r), summaries, dataFingerprints: r.run.dataFingerprints ?? [], config: r.run.config as unknown as Record<string, unknown>, versions: r.run.versions, datasets: r.run.datasets, checkpoints, log }
  }

  /** Metric records of a run, at most `maxPoints` per stage (evenly thinned; the last is kept). */
  async metrics(id: string, maxPoints = 5000): Promise<MetricRecord[]> {
    await this.boot()
    const r = this.must(id)
    const all = (await readMetrics(runPaths(r.dir).metrics)) as MetricRecord[]
    if (all.length <= maxPoints) return all
    const stride = Math.ceil(all.length / maxPoints)
    return all.filter((_, i) => i % stride === 0 || i === all.length - 1)
  }

  /** Rotated views of a few images with the model's predicted rotation probabilities. */
  async preview(id: string, o: PreviewOptions): Promise<PreviewResult> {
    await this.boot()
    return this.analysis.call(placeOf(this.must(id)), { kind: 'preview', options: o })
  }

  /** Training views of a few images, as the run's pretraining method makes them. */
  async augmentations(id: string, o: AugmentOptions): Promise<AugmentResult> {
    await this.boot()
    return this.analysis.call(placeOf(this.must(id)), { kind: 'augment', options: o })
  }

  /** Thumbnails of the run's dataset split (decoded in the analysis worker, like previews). */
  async images(id: string, o: RunImagesOptions): Promise<RunImages> {
    await this.boot()
    return this.analysis.call(placeOf(this.must(id)), { kind: 'images', options: o })
  }

  private mapJobs = new Map<string, WorkerHandle>()

  /**
   * Start computing an embedding map in a worker (or return the stored one's key at once).
   * Progress, layout previews and the end arrive as maps.progress events.
   */
  async startMap(id: string, spec: MapSpec): Promise<{ key: string; cached: boolean }> {
    await this.boot()
    const r = this.must(id)
    const key = mapKey(spec)
    // A stored map counts only if made from the same weights (a resumed run may have trained on).
    const stored = await readMap(r.dir, key)
    if (stored && stored.weights === (await weightsIdOf(r.dir, spec.source, spec.layer))) return { key, cached: true }
    const jobId = `${id}/${key}`
    if (this.mapJobs.has(jobId)) return { key, cached: false }
    const w = this.opts.launch()
    this.mapJobs.set(jobId, w)
    let error: string | undefined
    onWorkerMessages(
      w,
      (m) => {
        if (m.type === 'mapProgress') this.emit({ name: 'maps.progress', payload: { id, key, ...m.progress } })
        if (m.type === 'error') error = m.message
      },
      this.opts.logError
    )
    w.onExit((code) => {
      this.mapJobs.delete(jobId)
      if (code !== 0) this.emit({ name: 'maps.progress', payload: { id, key, phase: 'failed', fraction: 0, error: error ?? `the map worker stopped (exit code ${code})` } })
    })
    w.send({ type: 'map', ...placeOf(r), spec })
    return { key, cached: false }
  }

  /** The folder of a run. */
  async runDir(id: string): Promise<string> {
    await this.boot()
    return this.must(id).dir
  }

  async cancelMap(id: string, key: string): Promise<void> {
    this.mapJobs.get(`${id}/${key}`)?.send({ type: 'cancel' })
  }

  /** The maps stored for a run (without their points), newest first. */
  async listMaps(id: string): Promise<MapInfo[]> {
    await this.boot()
    return listMaps(this.must(id).dir)
  }

  async getMap(id: string, key: string): Promise<MapResult> {
    await this.boot()
    const m = await readMap(this.must(id).dir, key)
    if (!m) throw new ServiceError(`No map "${key}" for run ${id}: compute it first.`, 'invalid-argument')
    return m
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
      this.queue = this.queue.filter((q) => q !== id)
      await this.saveQueue()
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
      this.queue = [id, ...this.queue.filter((q) => q !== id)]
      await this.saveQueue()
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
      this.queue = this.queue.filter((q) => q !== id)
      await this.saveQueue()
      r.status.endedAt = new Date().toISOString()
      await this.setState(r, 'cancelled')
    })
    return this.summary(r)
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
    this.analysis.stop()
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
      evaluations: r.evaluations
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
    await writeFileAtomic(runPaths(r.dir).status, JSON.stringify(r.status, null, 2) + '\n')
  }

  private async setState(r: LiveRun, state: RunStatus['state']): Promise<void> {
    r.status.state = state
    await this.persist(r).catch((err) => this.log(r, 'error', describeFsError(err, r.dir, 'save the state of')))
    this.changed(r)
  }

  private async saveRunFile(r: LiveRun): Promise<void> {
    if (!r.lock) return
    await writeFileAtomic(runPaths(r.dir).run, JSON.stringify(r.run, null, 2) + '\n').catch((err) => this.log(r, 'error', describeFsError(err, r.dir, 'update run.json in')))
  }

  private async saveQueue(): Promise<void> {
    // queue.json is the order this process serves; a process that only reads leaves it alone.
    if (!this.scheduling) return
    await writeFileAtomic(queueFileOf(await this.opts.workspace.ensureReady()), JSON.stringify(this.queue) + '\n')
  }

  private log(r: LiveRun, level: 'info' | 'warn' | 'error', message: string): void {
    if (r.lock) void fs.appendFile(runPaths(r.dir).log, JSON.stringify({ t: Date.now(), level, message }) + '\n').catch(() => {})
    this.emit({ name: 'runs.log', payload: { id: r.run.id, level, message } })
  }

  private schedule(): void {
    if (!this.scheduling) return
    const max = this.opts.settings.get().maxConcurrentRuns
    // Runs trained by other processes are theirs to count.
    let running = [...this.runs.values()].filter((r) => r.lock || r.starting).length
    while (running < max && this.queue.length) {
      const id = this.queue.shift()!
      const r = this.runs.get(id)
      if (!r || r.status.state !== 'queued' || r.lock || r.starting) continue
      running++
      r.starting = true
      void this.start(r)
    }
    void this.saveQueue().catch(() => {})
  }

  private async start(r: LiveRun): Promise<void> {
    const got = await RunLock.acquire(r.dir, this.owner, 'training', (by) => this.lostLock(r, by)).catch((err: unknown) => err as Error)
    r.starting = false
    if (!(got instanceof RunLock)) {
      // Another process took the run first (or the folder cannot be locked): watch it instead.
      if (got instanceof Error) this.emit({ name: 'runs.log', payload: { id: r.run.id, level: 'error', message: describeFsError(got, r.dir, 'lock the run folder') } })
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
      worker = this.opts.launch()
    } catch (err) {
      r.status.error = `Could not start the training worker: ${(err as Error).message}`
      await this.setState(r, 'failed')
      r.lock = null
      await got.release()
      return this.schedule()
    }
    r.worker = worker
    onWorkerMessages(worker, (m) => this.onWorkerMessage(r, m), this.opts.logError)
    worker.onExit((code, signal) => {
      const done = this.onWorkerExit(r, code, signal).finally(() => this.exiting.delete(done))
      this.exiting.add(done)
    })
    await got.setWorker(worker.pid)
    worker.send({ type: 'run', ...placeOf(r) })
  }

  private onWorkerMessage(r: LiveRun, m: FromRunWorker): void {
    switch (m.type) {
      case 'ready':
        r.status.backend = m.backend
        r.run.backends = [...(r.run.backends ?? []), m.backend]
        void this.saveRunFile(r)
        this.log(r, 'info', `Training on ${m.backend}. ${m.statuses.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`).join('; ')}`)
        void this.persist(r).catch(() => {})
        this.changed(r)
        break
      case 'error':
        r.errorSeen = { message: m.message, stage: m.stage, code: m.code }
        break
      case 'finished':
        r.outcome = m.outcome
        break
      case 'event': {
        const e = m.event
        if (e.type === 'metrics') {
          r.pendingMetrics.push(e.record)
          this.scheduleFlush()
        } else if (e.type === 'progress') {
          Object.assign(r.status, { stage: e.stage, epoch: e.epoch, epochs: e.epochs, step: e.step, steps: e.steps, etaSec: e.etaSec })
          if (Date.now() - r.lastPersist > PROGRESS_PERSIST_MS) void this.persist(r).catch(() => {})
          // Every step reports progress; subscribers need a few updates a second, not all.
          if (Date.now() - r.lastChanged >= PROGRESS_EMIT_MS) this.changed(r)
        } else if (e.type === 'stage') {
          r.status.stage = e.stage
          this.log(r, 'info', `Stage ${e.index + 1} of ${e.total}: ${e.stage}`)
          this.changed(r)
        } else if (e.type === 'data') {
          if (!r.run.dataFingerprints) {
            r.run.dataFingerprints = e.items
            void this.saveRunFile(r)
          } else if (JSON.stringify(r.run.dataFingerprints) !== JSON.stringify(e.items)) {
            this.log(r, 'warn', 'The data differs from what this run started with (dataset changed since): results mix two datasets.')
          }
        } else if (e.type === 'log') {
          this.log(r, e.level, e.message)
        } else if (e.type === 'evaluation') {
          r.evaluations = r.evaluations.filter((x) => x.id !== e.evaluation.id).concat(e.evaluation)
          this.log(r, 'info', `${e.evaluation.protocol} on ${e.evaluation.dataset}: ${(e.evaluation.accuracy * 100).toFixed(2)}%`)
          this.changed(r)
        }
        break
      }
    }
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
    r.worker = null
    if (r.attemptStart) r.status.wallMs += Date.now() - r.attemptStart
    r.attemptStart = null
    r.status.etaSec = null
    const outcome = r.outcome
    r.outcome = null
    if (outcome === 'done') {
      r.status.endedAt = new Date().toISOString()
      await this.setState(r, 'done')
    } else if (outcome === 'paused') {
      await this.setState(r, 'paused')
    } else if (outcome === 'cancelled') {
      r.status.endedAt = new Date().toISOString()
      await this.setState(r, 'cancelled')
    } else if (r.errorSeen) {
      const e = r.errorSeen
      r.status.error = e.code === 'ENOSPC' ? `The disk is full (${e.message}). Free some space, then resume: the last checkpoint is intact.` : e.message
      r.status.errorStage = e.stage
      this.log(r, 'error', `Failed in ${e.stage}: ${r.status.error}`)
      await this.setState(r, 'failed')
    } else {
      r.status.error = `The training worker stopped unexpectedly (${signal ? `signal ${signal}` : `exit code ${code}`}), e.g. killed or out of memory. Resume continues from the last checkpoint.`
      this.log(r, 'error', r.status.error)
      await this.setState(r, 'interrupted')
    }
    const lock = r.lock
    r.lock = null
    await lock?.release()
    this.schedule()
  }

  /** Our lock was taken over (this process was judged dead): stop writing the run at once. */
  private lostLock(r: LiveRun, by: LockInfo | null): void {
    r.lock = null
    this.emit({ name: 'runs.log', payload: { id: r.run.id, level: 'error', message: `This process lost the run to ${by ? describeHolder(by) : 'another process'}; its worker was stopped.` } })
    r.worker?.kill('SIGKILL')
  }
}

const placeOf = (r: LiveRun): RunPlace => ({ runDir: r.dir, workspaceDir: r.workspaceDir })

function ownedElsewhere(id: string, holder: LockInfo): ServiceError {
  return new ServiceError(`Run ${id} is in use by ${describeHolder(holder)}. Pause, resume or cancel it there; other windows and commands can only watch it.`, 'failed')
}

function damagedSummary(id: string, name: string, error: string): RunSummary {
  return {
    id,
    name,
    method: 'unknown',
    preset: null,
    configHash: '',
    status: { ...newStatus(), state: 'damaged', error, createdAt: '' },
    evaluations: []
  }
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
    for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = deepMerge(out[k], v)
    return out
  }
  return over
}

/** last / best / min / max of every numeric metric, per stage ("pretrain.loss"). */
export function summarise(records: Record<string, unknown>[]): Record<string, { last: number; best: number; min: number; max: number; count: number }> {
  const skip = new Set(['epoch', 'step', 't', 'ms', 'lr'])
  const out: Record<string, { last: number; best: number; min: number; max: number; count: number }> = {}
  for (const rec of records) {
    for (const [k, v] of Object.entries(rec)) {
      if (skip.has(k) || typeof v !== 'number' || !Number.isFinite(v)) continue
      const key = `${String(rec.stage ?? 'run')}.${k}`
      const s = (out[key] ??= { last: v, best: v, min: v, max: v, count: 0 })
      s.last = v
      s.min = Math.min(s.min, v)
      s.max = Math.max(s.max, v)
      s.count++
      // Accuracies and throughput: higher is better; losses: lower is better.
      s.best = /^acc|imagesPerSec|feat_std/.test(k) ? s.max : s.min
    }
  }
  return out
}
