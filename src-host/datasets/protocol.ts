// Messages between the host and the indexing worker thread (structured clone, same process).
import type { IndexOutcome, ProgressUpdate } from './indexer'
import { NoUsableImagesError, SourceError } from './indexer'
import { Cancelled } from './scan'

export type ToIndexWorker = { type: 'cancel' }

/** Why a job ended without an outcome; `kind` survives the thread boundary where classes do not. */
export interface WorkerFailure {
  kind: 'cancelled' | 'no-usable-images' | 'source' | 'fs' | 'internal'
  message: string
  /** errno code of an 'fs' failure (writing the cache: ENOSPC, EACCES, EROFS, ...). */
  code?: string
  stack?: string
}

export type FromIndexWorker =
  { type: 'progress'; progress: ProgressUpdate } | { type: 'done'; outcome: IndexOutcome } | { type: 'failed'; failure: WorkerFailure }

export function toWorkerFailure(err: unknown): WorkerFailure {
  if (err instanceof Cancelled) return { kind: 'cancelled', message: 'cancelled' }
  if (err instanceof NoUsableImagesError) return { kind: 'no-usable-images', message: err.message }
  if (err instanceof SourceError) return { kind: 'source', message: err.message }
  const e = err as NodeJS.ErrnoException
  if (typeof e?.code === 'string' && /^E[A-Z]+$/.test(e.code)) return { kind: 'fs', code: e.code, message: e.message }
  return { kind: 'internal', message: e?.message ?? String(err), stack: e?.stack }
}
