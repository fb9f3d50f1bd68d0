// Worker entry: the process where TensorFlow.js runs. It trains one run folder and streams its
// events, or computes one embedding map, one engine benchmark or one backend probe, or serves
// previews by id. Started by the host as an Electron utilityProcess (process.parentPort) or a
// child_process.fork (process.send), or served inside the app's trainer window by its preload
// (src-preload/trainer.ts, over IPC); the same messages every way, declared and validated by
// src-shared/contract/worker.ts. One job per process: it exits when the job ends (a run when it
// finishes, pauses, is cancelled or fails); in the trainer window "exit" closes the window.
import { selectBackend, detectBackends } from './backends'
import { parseRunConfig, type RunConfig } from '../src-shared/config/run'
import { runPipeline } from './pipeline'
import { ToRunWorkerSchema, type AnalysisRequest, type FromRunWorker } from '../src-shared/contract/worker'
import { readStoredConfig } from '../src-node/run-folder'
import { computeMap } from './maps'
import { workspaceReader, workspaceSubsetReader } from './data/sources'
import { benchmarkEngine } from './estimate'
import { trainConfigFor } from './train-config'
import { warmUpGpuKernels } from './webgpu/warm-up'

export interface Port {
  send(msg: FromRunWorker): void
  onMessage(fn: (msg: unknown) => void): void
}

function parentPort(): Port | null {
  const electronPort = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', f: (ev: { data: unknown }) => void): void } })
    .parentPort
  if (electronPort) return { send: (m) => electronPort.postMessage(m), onMessage: (fn) => electronPort.on('message', (ev) => fn(ev.data)) }
  if (process.send) {
    return {
      // After the host is gone there is no one to tell; the run still checkpoints (see below).
      // The callback swallows a send racing the channel's close (it would otherwise be an
      // unhandled 'error' event that kills the process before it can checkpoint).
      send: (m) => void (process.connected && process.send!(m, undefined, undefined, () => {})),
      onMessage: (fn) => void process.on('message', fn)
    }
  }
  return null
}

/** Ask the running pipeline to checkpoint and stop (set by serveRunWorker). */
let pauseNow: () => void = () => {}

/**
 * Serves one job's messages on `port`. `exit` ends the worker with a code (the process by
 * default; the trainer window's preload closes its window instead).
 */
export function serveRunWorker(port: Port, exit: (code: number) => void = (code) => process.exit(code)): void {
  // A moment for the last messages to leave before the worker goes.
  const exitSoon = (code: number): void => void setTimeout(() => exit(code), 100)
  let control: 'pause' | 'cancel' | null = null
  let active = false
  pauseNow = () => {
    control = 'pause'
    if (!active) exit(2)
  }
  let stage = 'setup'
  let started = false
  port.onMessage((raw) => {
    const msg = ToRunWorkerSchema.safeParse(raw)
    if (!msg.success) return port.send({ type: 'error', message: `malformed command: ${msg.error.issues[0]?.message}`, stage: 'protocol' })
    if (msg.data.type === 'pause' || msg.data.type === 'cancel') {
      control = msg.data.type
      return
    }
    if (msg.data.type === 'analysis') {
      const { reqId, runDir, workspaceDir, request } = msg.data
      void answerAnalysis(runDir, workspaceDir, request).then(
        (value) => port.send({ type: 'reply', reqId, value }),
        (err: unknown) => port.send({ type: 'replyError', reqId, message: (err as Error)?.message ?? String(err), code: (err as { code?: string })?.code })
      )
      return
    }
    if (started) return
    started = true
    if (msg.data.type === 'detect') {
      void (async () => {
        stage = 'backend'
        port.send({ type: 'backends', statuses: await detectBackends() })
        exitSoon(0)
      })().catch((err: unknown) => {
        port.send({ type: 'error', message: (err as Error)?.message ?? String(err), stage })
        exitSoon(1)
      })
      return
    }
    if (msg.data.type === 'bench') {
      const raw = msg.data.config
      void (async () => {
        stage = 'config'
        const config = parseRunConfig(raw)
        stage = 'backend'
        await selectBackend(config.backend)
        stage = 'benchmark'
        const result = benchmarkEngine(config, (progress) => port.send({ type: 'benchProgress', progress }))
        port.send({ type: 'benchDone', result })
        exitSoon(0)
      })().catch((err: unknown) => {
        port.send({ type: 'error', message: (err as Error)?.message ?? String(err), stage })
        exitSoon(1)
      })
      return
    }
    if (msg.data.type === 'map') {
      const { runDir, workspaceDir, spec } = msg.data
      const abort = new AbortController()
      const timer = setInterval(() => {
        if (control === 'cancel') abort.abort(new Error('cancelled'))
      }, 50)
      void (async () => {
        const config = await readRunConfig(runDir)
        stage = 'backend'
        await selectBackend(config.backend)
        stage = 'map'
        const r = await computeMap(
          runDir,
          config,
          spec,
          (progress) => port.send({ type: 'mapProgress', progress }),
          abort.signal,
          workspaceReader(workspaceDir)
        )
        clearInterval(timer)
        port.send({ type: 'mapDone', key: r.key })
        exitSoon(0)
      })().catch((err: unknown) => {
        port.send({ type: 'error', message: (err as Error)?.message ?? String(err), stage })
        exitSoon(1)
      })
      return
    }
    const { runDir, workspaceDir } = msg.data
    active = true
    void (async () => {
      stage = 'config'
      const config = await readRunConfig(runDir)
      stage = 'backend'
      const { name, statuses } = await selectBackend(config.backend)
      port.send({ type: 'ready', backend: name, statuses })
      if (name === 'webgpu') {
        // Compile the GPU pipelines now, with progress shown, rather than in a silent first step.
        stage = 'warm-up'
        const log = (level: 'info' | 'warn', message: string): void => port.send({ type: 'event', event: { type: 'log', level, message } })
        try {
          warmUpGpuKernels(trainConfigFor(config, 'pretrain'), (p) => log('info', p.message))
        } catch (err) {
          log('warn', `GPU warm-up step failed (${(err as Error)?.message ?? String(err)}); training goes on and compiles the kernels in its first step.`)
        }
      }
      stage = 'pipeline'
      const outcome = await runPipeline(config, {
        runDir,
        emit: (event) => {
          if (event.type === 'stage') stage = event.stage
          port.send({ type: 'event', event })
        },
        control: () => control,
        readRegistered: workspaceReader(workspaceDir),
        readSubset: workspaceSubsetReader(workspaceDir)
      })
      port.send({ type: 'finished', outcome })
      exitSoon(0)
    })().catch((err: unknown) => {
      const e = err as NodeJS.ErrnoException
      port.send({ type: 'error', message: e?.message ?? String(err), stage, code: e?.code })
      exitSoon(1)
    })
  })
}

/** The run's config, parsed here once: everything below takes it typed. */
async function readRunConfig(runDir: string): Promise<RunConfig> {
  return parseRunConfig(await readStoredConfig(runDir))
}

let analysisBackend: Promise<unknown> | null = null
/** One analysis request: the run's config, its backend (once per process; thumbnails need none), then the answer. */
async function answerAnalysis(runDir: string, workspaceDir: string, request: AnalysisRequest): Promise<unknown> {
  const config = await readRunConfig(runDir)
  const reader = workspaceReader(workspaceDir)
  if (request.kind === 'images') {
    const { runImages } = await import('./data/run-split')
    return runImages(config, request.options, reader)
  }
  analysisBackend ??= selectBackend(config.backend)
  await analysisBackend
  const { rotationPreview, augmentations } = await import('./previews')
  return request.kind === 'preview' ? rotationPreview(runDir, config, request.options, reader) : augmentations(config, request.options, reader)
}

const port = parentPort()
if (port) {
  serveRunWorker(port)
  // The host went away (killed, crashed): checkpoint and stop instead of training on
  // unsupervised. A run resumed after the host restarts must be the only writer of its folder.
  process.on('disconnect', () => {
    pauseNow()
    // Nothing to wait for if no run was started.
    setTimeout(() => process.exit(2), 30_000).unref()
  })
}
