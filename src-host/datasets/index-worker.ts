// Entry of the dataset indexing worker thread: runs one job (indexer.ts) and reports progress,
// the outcome or the failure to the host (jobs.ts), which can ask it to cancel at any time.
// Built as its own file (out/main/dataset-index-worker.js) for the app; run from source by tsx
// in development and tests.
import { parentPort, workerData } from 'node:worker_threads'
import { runIndex, type IndexJob } from './indexer'
import { toWorkerFailure, type FromIndexWorker, type ToIndexWorker } from './protocol'

if (parentPort && (workerData as { quarterturnIndexJob?: IndexJob } | null)?.quarterturnIndexJob) {
  const port = parentPort
  const job = (workerData as { quarterturnIndexJob: IndexJob }).quarterturnIndexJob
  let cancelled = false
  port.on('message', (m: ToIndexWorker) => {
    if (m.type === 'cancel') cancelled = true
  })
  const send = (m: FromIndexWorker): void => port.postMessage(m)
  runIndex(job, { progress: (p) => send({ type: 'progress', progress: p }), isCancelled: () => cancelled })
    .then((outcome) => send({ type: 'done', outcome }))
    .catch((err: unknown) => send({ type: 'failed', failure: toWorkerFailure(err) }))
    .finally(() => port.close())
}
