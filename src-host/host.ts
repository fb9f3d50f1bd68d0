// The host: owns the services and answers the contract. Every entry point (Electron main, web
// host, CLI, tests) builds one Host and forwards raw calls to `dispatch`, which validates the
// request name and argument, runs the handler and returns an Envelope — never throws.
import {
  requests,
  isRequestName,
  issuesOf,
  type AppInfo,
  type Envelope,
  type EventName,
  type EventPayload,
  type HostEvent,
  type RequestArg,
  type RequestParsedArg,
  type RequestName,
  type RequestResult
} from '../src-shared/contract'
import { ServiceError } from './errors'
import { SettingsService, type KeyValueStore } from './services/settings'
import { WorkspaceService } from './services/workspace'
import { DatasetService } from './datasets/service'
import { SAMPLE_ID } from '../src-shared/sample-dataset'
import { PRESETS } from '../src-shared/config/run'
import { RunsService, type WorkerLauncher } from './runs/service'
import { makeExecutors, type Executors } from './runs/executors'
import type { WorkerEntry } from './runs/fork-launcher'
import { exportReport } from './reports/export'
import { exportWeights } from './runs/weights'
import { EngineBench } from './runs/engine-bench'
import { BackendProbe } from './runs/backend-probe'
import { WorkspaceWatcher } from './services/workspace-watch'
import path from 'node:path'

export interface HostOptions {
  store: KeyValueStore
  shell: AppInfo['shell']
  version: string
  defaultWorkspace: string
  /** Native folder picker, where the shell has one. */
  pickFolder?: () => Promise<string | null>
  /** Prints an HTML file to PDF (Electron's printToPDF); absent headless. */
  printPdf?: (htmlFile: string, pdfFile: string) => Promise<void>
  /** Starts a training worker process (utilityProcess in the app, fork headless). */
  launchRunWorker?: WorkerLauncher
  /** The engine's batch-job entry (job-worker): lets the Slurm executor submit runs; absent in the app. */
  jobWorker?: WorkerEntry
  /** Where unexpected errors are reported (default: console.error). */
  logError?: (err: unknown, context: string) => void
  /** Run dataset indexing in-process instead of a worker thread (tests of that path). */
  indexInProcess?: boolean
}

type Handlers = { [K in RequestName]: (arg: RequestParsedArg<K>) => Promise<RequestResult<K>> | RequestResult<K> }
type EventListener = <E extends EventName>(name: E, payload: EventPayload<E>) => void

export class Host {
  readonly settings: SettingsService
  readonly workspace: WorkspaceService
  readonly runs: RunsService
  readonly datasets: DatasetService
  readonly bench: EngineBench
  readonly backends: BackendProbe
  /** Where runs train: local worker processes or a Slurm cluster (the workspace's executor.json). */
  readonly executors: Executors
  private readonly listeners = new Set<EventListener>()
  private readonly handlers: Handlers
  private readonly unsubscribe: (() => void)[] = []
  private watcher: WorkspaceWatcher | null = null

  constructor(private readonly opts: HostOptions) {
    this.settings = new SettingsService(opts.store)
    this.workspace = new WorkspaceService(this.settings, opts.defaultWorkspace)
    // Training, maps, previews, engine benchmarks and backend detection all run in worker
    // processes: TensorFlow.js never loads in the host.
    const launch: WorkerLauncher =
      opts.launchRunWorker ??
      (() => {
        throw new ServiceError('This host cannot start worker processes (training, maps, previews, time estimates, backend detection).', 'unsupported')
      })
    this.runs = new RunsService({
      workspace: this.workspace,
      settings: this.settings,
      launch,
      executors: (this.executors = makeExecutors(launch, opts.jobWorker ?? null)),
      versions: { app: opts.version, node: process.versions.node, tfjs: '4.22.0' },
      logError: opts.logError,
      prepare: async (config) => {
        if ([config.dataset, ...config.evaluation.transfer].some((d) => d.kind === 'dataset' && d.id === SAMPLE_ID)) await this.datasets.ensureSample()
      }
    })
    this.bench = new EngineBench({
      launch,
      workspaceDir: () => this.workspace.ensureReady(),
      appVersion: opts.version,
      emit: (e) => this.emit(e.name, e.payload),
      logError: opts.logError
    })
    this.backends = new BackendProbe({ launch, logError: opts.logError })
    this.datasets = new DatasetService(
      this.workspace,
      this.settings,
      { progress: (p) => this.emit('datasets.progress', p), changed: (id, dataset) => this.emit('datasets.changed', { id, dataset }) },
      { inProcess: opts.indexInProcess, logError: opts.logError }
    )
    this.unsubscribe.push(
      this.settings.onChanged((s) => this.emit('settings.changed', s)),
      this.workspace.onChanged((w) => this.emit('workspace.changed', w)),
      this.runs.onEvent((e) => this.push(e))
    )
    this.handlers = {
      'app.info': () => ({
        name: 'Quarterturn',
        version: opts.version,
        shell: opts.shell,
        platform: process.platform,
        node: process.versions.node
      }),
      'settings.get': () => this.settings.get(),
      'settings.update': (patch) => this.settings.update(patch),
      'settings.reset': () => this.settings.reset(),
      'workspace.get': () => this.workspace.info(),
      'workspace.open': ({ path }) => this.workspace.open(path),
      'workspace.pickFolder': async () => {
        if (!opts.pickFolder) throw new ServiceError('This window has no native folder picker: type the folder path instead.', 'unsupported')
        return { path: await opts.pickFolder() }
      },
      'backends.detect': () => this.backends.detect(),
      'executors.describe': async () => this.executors.describe((await this.workspace.info()).path),
      'engine.benchmark': ({ config, mode }) => this.bench.measure(config, mode),
      'runs.list': () => this.runs.list(),
      'runs.get': ({ id }) => this.runs.get(id),
      'runs.create': ({ config, preset }) => this.runs.create(config, preset),
      'runs.createGroup': ({ config, preset, seeds }) => this.runs.createGroup(config, preset, seeds),
      'runs.createSweep': ({ config, preset, axes, seeds }) => this.runs.createSweep(config, preset, axes, seeds),
      'runs.pause': ({ id }) => this.runs.pause(id),
      'runs.resume': ({ id }) => this.runs.resume(id),
      'runs.cancel': ({ id }) => this.runs.cancel(id),
      'runs.annotate': ({ id, tags, notes }) => this.runs.annotate(id, { tags, notes }),
      'runs.delete': ({ id }) => this.runs.delete(id),
      'runs.exportWeights': async (a) =>
        exportWeights(await this.runs.runDir(a.id), path.join(await this.workspace.ensureReady(), 'exports', 'weights'), a, opts.version),
      'runs.metrics': ({ id, maxPoints, stage, keys }) => this.runs.metrics(id, maxPoints, { stage, keys }),
      'runs.preview': ({ id, ...o }) => this.runs.preview(id, o),
      'runs.augmentations': ({ id, ...o }) => this.runs.augmentations(id, o),
      'runs.images': ({ id, ...o }) => this.runs.images(id, o),
      'maps.compute': ({ id, spec }) => this.runs.startMap(id, spec),
      'maps.get': ({ id, key }) => this.runs.getMap(id, key),
      'maps.list': ({ id }) => this.runs.listMaps(id),
      'maps.cancel': async ({ id, key }) => {
        await this.runs.cancelMap(id, key)
        return {}
      },
      'reports.export': async (a) =>
        exportReport(
          this.runs,
          path.join(await this.workspace.ensureReady(), 'reports'),
          { ...a, name: a.name ?? new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19) },
          opts.version,
          opts.printPdf
        ),
      'runs.presets': () => PRESETS.map((p) => ({ name: p.name, description: p.description, config: p.config as Record<string, unknown> })),
      'datasets.list': () => this.datasets.list(),
      'datasets.inspect': (arg) => this.datasets.inspect(arg),
      'datasets.add': (arg) => this.datasets.add(arg),
      'datasets.addSample': (arg) => this.datasets.addSample(arg),
      'datasets.cancel': (arg) => this.datasets.cancel(arg),
      'datasets.get': ({ id }) => this.datasets.get(id),
      'datasets.problems': (arg) => this.datasets.problems(arg),
      'datasets.thumbnails': (arg) => this.datasets.thumbnails(arg),
      'datasets.image': (arg) => this.datasets.image(arg),
      'datasets.reindex': ({ id }) => this.datasets.reindex(id),
      'datasets.remove': ({ id }) => this.datasets.remove(id),
      'datasets.createSubset': (arg) => this.datasets.createSubset(arg),
      'datasets.listSubsets': ({ id }) => this.datasets.listSubsets(id)
    }
  }

  /**
   * Push what other processes change in the workspace (runs, datasets) to this host's
   * subscribers, as the events this host's own changes make. Entry points with windows call it
   * (the app, the web host); one-shot commands do not.
   */
  async watchWorkspace(o: { debounceMs?: number; rescanMs?: number } = {}): Promise<void> {
    if (this.watcher) return
    const logError = this.opts.logError ?? ((e: unknown, c: string) => console.error(`[host] ${c}:`, e))
    const watcher = new WorkspaceWatcher({
      dir: async () => (await this.workspace.info()).path,
      runs: (ids) => this.runs.refreshFromDisk(ids ?? undefined),
      datasets: () => this.datasets.refreshFromDisk(),
      onError: logError,
      ...o
    })
    this.watcher = watcher
    await this.datasets.refreshFromDisk().catch((err) => logError(err, 'listing datasets'))
    await watcher.start()
    this.unsubscribe.push(this.workspace.onChanged(() => void watcher.restart().catch((err) => logError(err, 'watching the workspace'))))
  }

  /** Validate and run one request from an untrusted caller. */
  async dispatch(name: unknown, arg: unknown): Promise<Envelope> {
    if (!isRequestName(name)) {
      return { ok: false, error: { code: 'unknown-request', message: `Unknown request ${JSON.stringify(name)}.` } }
    }
    const parsed = requests[name].arg.safeParse(arg ?? {})
    if (!parsed.success) {
      const issues = issuesOf(parsed.error)
      const first = issues[0]
      return {
        ok: false,
        error: { code: 'invalid-argument', message: `Invalid argument for ${name}: ${first?.path}: ${first?.message}`, issues }
      }
    }
    try {
      const handler = this.handlers[name] as (a: unknown) => unknown
      const value = await handler(parsed.data)
      return { ok: true, value }
    } catch (err) {
      if (err instanceof ServiceError) return { ok: false, error: { code: err.code, message: err.message } }
      ;(this.opts.logError ?? ((e, c) => console.error(`[host] ${c}:`, e)))(err, name)
      return { ok: false, error: { code: 'internal', message: `Internal error in ${name}: ${(err as Error)?.message ?? String(err)}` } }
    }
  }

  /** Typed in-process call (CLI, tests): throws on an error envelope. */
  async call<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<RequestResult<K>> {
    const env = await this.dispatch(name, arg)
    if (!env.ok) throw new ServiceError(env.error.message, env.error.code)
    return env.value as RequestResult<K>
  }

  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private emit<E extends EventName>(name: E, payload: EventPayload<E>): void {
    for (const l of this.listeners) l(name, payload)
  }

  /** Push an event a service built as one value. */
  private push<E extends EventName>(e: HostEvent<E>): void {
    this.emit<E>(e.name, e.payload)
  }

  async shutdown(): Promise<void> {
    this.watcher?.close()
    await this.runs.shutdown()
    await this.datasets.shutdown()
    for (const u of this.unsubscribe) u()
    this.listeners.clear()
  }
}
