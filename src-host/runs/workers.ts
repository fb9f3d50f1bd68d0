// Worker processes as the host sees them. A launcher (utilityProcess in the app, child_process.fork
// headless, a test's own) makes a handle; whatever a worker sends is checked against the
// contract's FromRunWorker schema before anything reads it. A worker that sends a malformed
// message is logged, stopped, and what it was doing fails with that message, the way a worker
// error would: its other messages cannot be trusted either.
import { FromRunWorkerSchema, type FromRunWorker, type ToRunWorker } from '../../src-shared/contract/worker'

export interface WorkerHandle {
  /** The worker's process id, where the launcher knows it (recorded in the run's lock). */
  pid?: number
  send(msg: ToRunWorker): void
  /** Raw messages, as they arrive: read them through onWorkerMessages. */
  onMessage(fn: (msg: unknown) => void): void
  onExit(fn: (code: number | null, signal: string | null) => void): void
  kill(signal?: NodeJS.Signals): void
}
export type WorkerLauncher = () => WorkerHandle

/** Where a worker's job works: the run folder, and the workspace whose datasets it reads. */
export interface RunPlace {
  runDir: string
  workspaceDir: string
}

export type LogError = (err: unknown, context: string) => void
const logToConsole: LogError = (err, context) => console.error(`[host] ${context}:`, err)

/** Hand `fn` each message of `w` that matches the contract; a malformed one arrives as a 'protocol' error, and `w` is stopped. */
export function onWorkerMessages(w: WorkerHandle, fn: (m: FromRunWorker) => void, logError: LogError = logToConsole): void {
  w.onMessage((raw) => {
    const m = FromRunWorkerSchema.safeParse(raw)
    if (m.success) return fn(m.data)
    const issue = m.error.issues[0]
    const message = `The worker process sent a malformed message (${issue?.path.join('.') || 'message'}: ${issue?.message}); it was stopped.`
    logError(new Error(message), 'worker message')
    fn({ type: 'error', stage: 'protocol', message })
    w.kill()
  })
}
