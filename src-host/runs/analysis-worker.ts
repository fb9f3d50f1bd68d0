// The analysis worker: one worker process (the run worker's entry, in its serving mode) that
// computes previews for the host, so a 224-pixel network never runs on the host's thread (in the
// app that is Electron's main process: every window would freeze). Started on the first request,
// kept while requests come (the backend and decoded splits stay warm), stopped after a quiet
// minute. A worker that dies fails only the requests it held; the next request starts another.
import type { FromRunWorker, ToRunWorker } from '../../src-engine/run-worker'
import type { ErrorCode } from '../../src-shared/contract'
import { ServiceError } from '../errors'
import type { WorkerHandle, WorkerLauncher } from './service'

type AnalysisRequest = Extract<ToRunWorker, { type: 'analysis' }>['request']

const IDLE_MS = 60_000

export class AnalysisWorker {
  private worker: WorkerHandle | null = null
  private nextId = 1
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()
  private idle: NodeJS.Timeout | null = null

  constructor(private readonly launch: WorkerLauncher) {}

  call(runDir: string, request: AnalysisRequest): Promise<unknown> {
    const w = this.ensure()
    const reqId = this.nextId++
    if (this.idle) clearTimeout(this.idle)
    return new Promise((resolve, reject) => {
      this.pending.set(reqId, { resolve, reject })
      w.send({ type: 'analysis', reqId, runDir, request })
    })
  }

  stop(): void {
    if (this.idle) clearTimeout(this.idle)
    this.worker?.kill()
    this.worker = null
  }

  private ensure(): WorkerHandle {
    if (this.worker) return this.worker
    const w = this.launch()
    this.worker = w
    w.onMessage((raw) => {
      const m = raw as FromRunWorker
      if (m.type !== 'reply' && m.type !== 'replyError') return
      const p = this.pending.get(m.reqId)
      if (!p) return
      this.pending.delete(m.reqId)
      if (m.type === 'reply') p.resolve(m.value)
      else p.reject(new ServiceError(m.message, m.code === 'invalid-argument' ? ('invalid-argument' as ErrorCode) : 'failed'))
      if (this.pending.size === 0) this.idle = setTimeout(() => this.stop(), IDLE_MS).unref()
    })
    w.onExit((code, signal) => {
      if (this.worker === w) this.worker = null
      for (const p of this.pending.values()) p.reject(new ServiceError(`The preview worker stopped (${signal ?? `exit code ${code}`}) before answering; try again.`))
      this.pending.clear()
    })
    return w
  }
}
