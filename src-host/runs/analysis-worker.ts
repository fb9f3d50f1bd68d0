// The analysis worker: one worker process (the run worker's entry, in its serving mode) that
// computes previews and thumbnails for the host, so a 224-pixel network never runs on the host's
// thread (in the app that is Electron's main process: every window would freeze). Started on the
// first request, kept while requests come (the backend and decoded splits stay warm), stopped
// after a quiet minute. A worker that dies fails only the requests it held; the next request
// starts another. Answers are checked against the request's result schema before they are used.
import type { z } from 'zod'
import type { AnalysisKind, AnalysisRequestInput } from '../../src-shared/contract/worker'
import { AugmentResultSchema, PreviewResultSchema, RunImagesResultSchema } from '../../src-shared/contract/runs'
import { ServiceError } from '../errors'
import { onWorkerMessages, type LogError, type RunPlace, type WorkerHandle, type WorkerLauncher } from './workers'

const IDLE_MS = 60_000

const RESULTS = { preview: PreviewResultSchema, augment: AugmentResultSchema, images: RunImagesResultSchema } as const
export type AnalysisResult<K extends AnalysisKind> = z.output<(typeof RESULTS)[K]>

interface Pending {
  kind: AnalysisKind
  resolve: (v: unknown) => void
  reject: (e: Error) => void
}

export class AnalysisWorker {
  private worker: WorkerHandle | null = null
  private nextId = 1
  private pending = new Map<number, Pending>()
  private idle: NodeJS.Timeout | null = null

  constructor(
    private readonly launch: WorkerLauncher,
    private readonly logError?: LogError
  ) {}

  call<K extends AnalysisKind>(place: RunPlace, request: Extract<AnalysisRequestInput, { kind: K }>): Promise<AnalysisResult<K>> {
    const w = this.ensure()
    const reqId = this.nextId++
    if (this.idle) clearTimeout(this.idle)
    return new Promise((resolve, reject) => {
      this.pending.set(reqId, { kind: request.kind, resolve: resolve as (v: unknown) => void, reject })
      w.send({ type: 'analysis', reqId, ...place, request })
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
    /** Why the worker failed, when it said so before exiting. */
    let failure: string | null = null
    onWorkerMessages(
      w,
      (m) => {
        if (m.type === 'error') failure = m.message
        if (m.type !== 'reply' && m.type !== 'replyError') return
        const p = this.pending.get(m.reqId)
        if (!p) return
        this.pending.delete(m.reqId)
        if (m.type === 'replyError') p.reject(new ServiceError(m.message, m.code === 'invalid-argument' ? 'invalid-argument' : 'failed'))
        else {
          const value = RESULTS[p.kind].safeParse(m.value)
          if (value.success) p.resolve(value.data)
          else {
            const message = `The preview worker answered a ${p.kind} request with something else (${value.error.issues[0]?.path.join('.')}: ${value.error.issues[0]?.message}).`
            this.logError?.(new Error(message), 'worker message')
            p.reject(new ServiceError(message))
          }
        }
        if (this.pending.size === 0) this.idle = setTimeout(() => this.stop(), IDLE_MS).unref()
      },
      this.logError
    )
    w.onExit((code, signal) => {
      if (this.worker === w) this.worker = null
      const why = failure ? `: ${failure}` : '; try again.'
      for (const p of this.pending.values()) p.reject(new ServiceError(`The preview worker stopped (${signal ?? `exit code ${code}`}) before answering${why}`))
      this.pending.clear()
    })
    return w
  }
}
