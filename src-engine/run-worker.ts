// Worker entry for runs: executes one run folder's pipeline and streams its events. Started by
// the host as an Electron utilityProcess (process.parentPort) or a child_process.fork
// (process.send); the same messages either way. One run per process: it exits when the run
// finishes, pauses, is cancelled or fails.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { selectBackend } from './backends'
import { parseRunConfig, type RunConfig } from '../src-shared/config/run'
import { runPipeline, type PipelineEvent, type PipelineOutcome } from './pipeline'
import type { BackendStatus } from '../src-shared/contract'
import { MapSpecSchema } from '../src-shared/contract/maps'
import { computeMap, type MapProgress } from './maps'
import { workspaceReader, workspaceOfRun, workspaceSubsetReader } from './data/sources'
import { benchmarkEngine, type BenchProgress } from './estimate'
import type { EngineBenchmark } from '../src-shared/estimate'

export const ToRunWorkerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('run'), runDir: z.string().min(1) }),
  /** Compute an embedding map of the run's features instead of training. */
  z.object({ type: z.literal('map'), runDir: z.string().min(1), spec: MapSpecSchema }),
  /** Previews of a run (answered by id; the worker serves many while it lives). */
  z.object({ type: z.literal('analysis'), reqId: z.number().int(), runDir: z.string().min(1), request: z.discriminatedUnion('kind', [z.object({ kind: z.literal('preview'), options: z.record(z.string(), z.unknown()) }), z.object({ kind: z.literal('augment'), options: z.record(z.string(), z.unknown()) })]) }),
  /** Time the steps of a run config on this machine (the New-run form's estimate). */
  z.object({ type: z.literal('bench'), config: z.unknown() }),
  z.object({ type: z.literal('pause') }),
  z.object({ type: z.literal('cancel') })
])
export type ToRunWorker = z.infer<typeof ToRunWorkerSchema>

export type FromRunWorker =
  | { type: 'ready'; backend: string; statuses: BackendStatus[] }
  | { type: 'event'; event: PipelineEvent }
  | { type: 'finished'; outcome: PipelineOutcome }
  | { type: 'mapProgress'; progress: MapProgress }
  | { type: 'mapDone'; key: string }
  | { type: 'benchProgress'; progress: BenchProgress }
  | { type: 'benchDone'; result: EngineBenchmark }
  | { type: 'reply'; reqId: number; value: unknown }
  | { type: 'replyError'; reqId: number; message: string; code?: string }
  | { type: 'error'; message: string; stage: string; code?: string }

interface Port {
  send(msg: FromRunWorker): void
  onMessage(fn: (msg: unknown) => void): void
}

function parentPort(): Port | null {
  const electronPort = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', f: (ev: { data: unknown }) => void): void } }).parentPort
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

function exitSoon(code: number): void {
  setTimeout(() => process.exit(code), 100)
}

/** Ask the running pipeline to checkpoint and stop (set by serveRunWorker). */
let pauseNow: () => void = () => {}

export function serveRunWorker(port: Port): void {
  let control: 'pause' | 'cancel' | null = null
  let active = false
  pauseNow = () => {
    control = 'pause'
    if (!active) process.exit(2)
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
      const { reqId, runDir, request } = msg.data
      void answerAnalysis(runDir, request).then(
        (value) => port.send({ type: 'reply', reqId, value }),
        (err: unknown) => port.send({ type: 'replyError', reqId, message: (err as Error)?.message ?? String(err), code: (err as { code?: string })?.code })
      )
      return
    }
    if (started) return
    started = true
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
      const { runDir, spec } = msg.data
      const abort = new AbortController()
      const timer = setInterval(() => {
        if (control === 'cancel') abort.abort(new Error('cancelled'))
      }, 50)
      void (async () => {
        const config = await readRunConfig(runDir)
        stage = 'backend'
        await selectBackend(config.backend)
        stage = 'map'
        const r = await computeMap(runDir, config, spec, (progress) => port.send({ type: 'mapProgress', progress }), abort.signal, workspaceReader(workspaceOfRun(runDir)))
        clearInterval(timer)
        port.send({ type: 'mapDone', key: r.key })
        exitSoon(0)
      })().catch((err: unknown) => {
        port.send({ type: 'error', message: (err as Error)?.message ?? String(err), stage })
        exitSoon(1)
      })
      return
    }
    const runDir = msg.data.runDir
    active = true
    void (async () => {
      stage = 'config'
      const config = await readRunConfig(runDir)
      stage = 'backend'
      const { name, statuses } = await selectBackend(config.backend)
      port.send({ type: 'ready', backend: name, statuses })
      stage = 'pipeline'
      const outcome = await runPipeline(config, {
        runDir,
        emit: (event) => {
          if (event.type === 'stage') stage = event.stage
          port.send({ type: 'event', event })
        },
        control: () => control,
        readRegistered: workspaceReader(workspaceOfRun(runDir)),
        readSubset: workspaceSubsetReader(workspaceOfRun(runDir))
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

/** The checked config of the run whose folder this is. */
async function readRunConfig(runDir: string): Promise<RunConfig> {
  const run = JSON.parse(await fs.readFile(path.join(runDir, 'run.json'), 'utf8')) as { config: unknown }
  return parseRunConfig(run.config)
}

let analysisBackend: Promise<unknown> | null = null
/** One analysis request: the run's config, its backend (once per process), then the preview. */
async function answerAnalysis(runDir: string, request: { kind: 'preview' | 'augment'; options: Record<string, unknown> }): Promise<unknown> {
  const config = await readRunConfig(runDir)
  analysisBackend ??= selectBackend(config.backend)
  await analysisBackend
  const { rotationPreview, augmentations } = await import('./previews')
  const reader = workspaceReader(workspaceOfRun(runDir))
  return request.kind === 'preview'
    ? rotationPreview(runDir, config, request.options as Parameters<typeof rotationPreview>[2], reader)
    : augmentations(config, request.options as Parameters<typeof augmentations>[1], reader)
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
