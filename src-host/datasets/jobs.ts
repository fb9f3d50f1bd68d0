// Starting an indexing job: in a worker thread (index-worker.ts) so decoding never stalls the
// host's event loop, or in-process where no worker file is at hand. Either way the caller gets
// progress callbacks, a promise of the outcome and a cancel switch.
//
// Finding the worker: from source (tests, tsx, `npm run bench:data`) the entry is index-worker.ts,
// loaded through tsx's require hook (Node 20 does not apply the ESM loader hooks of `--import tsx`
// inside worker threads). Built, it is dataset-index-worker.js next to the bundle; when that file
// is missing the job runs in-process: the same code, with decoding still on libuv's thread pool.
import { Worker } from 'node:worker_threads'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import path from 'node:path'
import { runIndex, type IndexJob, type IndexOutcome, type ProgressUpdate } from './indexer'
import { toWorkerFailure, type FromIndexWorker, type WorkerFailure } from './protocol'

export const WORKER_BUNDLE_NAME = 'dataset-index-worker.js'
/** How long a worker may take to stop after a cancel before it is terminated. */
const CANCEL_GRACE_MS = 10_000

/** A job that ended without an outcome. */
export class JobFailed extends Error {
  constructor(readonly failure: WorkerFailure) {
    super(failure.message)
    this.name = 'JobFailed'
  }
}

export interface JobHandle {
  readonly promise: Promise<IndexOutcome>
  /** 'worker' or 'in-process'. */
  readonly runner: 'worker' | 'in-process'
  cancel(): void
}

type Launch = { kind: 'eval'; code: string } | { kind: 'file'; file: string } | null

let launch: Launch | undefined
function workerLaunch(): Launch {
  if (launch !== undefined) return launch
  const here = fileURLToPath(import.meta.url)
  if (here.endsWith('.ts')) {
    try {
      const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api')
      const entry = path.join(path.dirname(here), 'index-worker.ts')
      launch = { kind: 'eval', code: `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)})` }
    } catch {
      launch = null
    }
  } else {
    const dir = path.dirname(here)
    const file = [path.join(dir, WORKER_BUNDLE_NAME), path.join(dir, '..', WORKER_BUNDLE_NAME)].find((f) => existsSync(f))
    launch = file ? { kind: 'file', file } : null
  }
  return launch
}

/**
 * Start `job`. `inProcess` (or QUARTERTURN_INDEX_IN_PROCESS=1 in the environment, a switch for
 * troubleshooting and for tests that are not about the worker) runs it on this thread.
 */
export function startIndexJob(job: IndexJob, onProgress: (p: ProgressUpdate) => void, opts: { inProcess?: boolean } = {}): JobHandle {
  const inProcess = opts.inProcess ?? process.env.QUARTERTURN_INDEX_IN_PROCESS === '1'
  const how = inProcess ? null : workerLaunch()
  if (!how) {
    let cancelled = false
    const promise = runIndex(job, { progress: onProgress, isCancelled: () => cancelled }).catch((err: unknown) => {
      const failure = toWorkerFailure(err)
      if (failure.kind === 'internal') throw err
      throw new JobFailed(failure)
    })
    return { promise, runner: 'in-process', cancel: () => void (cancelled = true) }
  }
  const workerData = { quarterturnIndexJob: job }
  const worker = how.kind === 'eval' ? new Worker(how.code, { eval: true, workerData }) : new Worker(how.file, { workerData })
  let settled = false
  let killTimer: NodeJS.Timeout | null = null
  const promise = new Promise<IndexOutcome>((resolve, reject) => {
    const finish = (fn: () => void): void => {
      if (settled) return
      settled = true
      if (killTimer) clearTimeout(killTimer)
      fn()
      void worker.terminate()
    }
    worker.on('message', (m: FromIndexWorker) => {
      if (m.type === 'progress') onProgress(m.progress)
      else if (m.type === 'done') finish(() => resolve(m.outcome))
      else if (m.type === 'failed') {
        finish(() => {
          if (m.failure.kind === 'internal') {
            const e = new Error(m.failure.message)
            if (m.failure.stack) e.stack = m.failure.stack
            reject(e)
          } else reject(new JobFailed(m.failure))
        })
      }
    })
    worker.on('error', (err) => finish(() => reject(err)))
    worker.on('exit', (code) =>
      finish(() =>
        reject(
          killTimer ? new JobFailed({ kind: 'cancelled', message: 'cancelled' }) : new Error(`the indexing worker stopped unexpectedly (exit code ${code})`)
        )
      )
    )
  })
  return {
    promise,
    runner: 'worker',
    cancel: () => {
      if (settled || killTimer) return
      worker.postMessage({ type: 'cancel' })
      killTimer = setTimeout(() => void worker.terminate(), CANCEL_GRACE_MS)
    }
  }
}
