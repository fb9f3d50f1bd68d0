// Batch-job entry: trains one run folder on a cluster node, where the host that queued the run
// cannot reach the worker over IPC. It serves the same worker (serveRunWorker, in this process)
// and appends each message the host would have received to an events file in the run folder
// (JSON lines); the host tails that file and supervises the run exactly as it does a local worker.
//
//   node job-worker.js <runDir> <workspaceDir> <eventsFile>
//
// Signals stand in for the host's commands: SIGUSR1 pauses (checkpoint, outcome `paused`),
// SIGUSR2 cancels. SIGTERM (scancel, the time limit, preemption) checkpoints and stops without an
// outcome: the host reads the job's final state to tell a cancel from an interruption. The run's
// lock is watched too: once the host that submitted the job no longer holds it (it died and
// another process recovered the run), the worker checkpoints and stops, so a run never has two
// writers.
import { appendFileSync, readFileSync } from 'node:fs'
import os from 'node:os'
import { serveRunWorker, type Port } from './run-worker'
import { runPaths } from '../src-node/run-folder'
import type { FromRunWorker } from '../src-shared/contract/worker'

const [runDir, workspaceDir, eventsFile] = process.argv.slice(2)
if (!runDir || !workspaceDir || !eventsFile) {
  process.stderr.write('usage: job-worker <runDir> <workspaceDir> <eventsFile>\n')
  process.exit(2)
}

/** Why the worker is stopping without an outcome of its own, once it is. */
let stopping: string | null = null
let handler: (msg: unknown) => void = () => {}

const write = (m: FromRunWorker): void => appendFileSync(eventsFile, JSON.stringify(m) + '\n')
const port: Port = {
  send: (m) => {
    // A pause the worker did not ask for is no outcome: the job's end state says what happened.
    if (stopping && m.type === 'finished' && m.outcome === 'paused') {
      write({ type: 'event', event: { type: 'log', level: 'warn', message: `Checkpointed and stopped: ${stopping}.` } })
      return
    }
    write(m)
  },
  onMessage: (fn) => {
    handler = fn
  }
}

function stopWithoutOutcome(why: string): void {
  if (stopping) return
  stopping = why
  handler({ type: 'pause' })
  // Nothing to wait for if the pipeline never started (or hangs): Slurm kills us after KillWait anyway.
  setTimeout(() => process.exit(3), 60_000).unref()
}

serveRunWorker(port, (code) => process.exit(stopping && code === 0 ? 3 : code))
process.on('SIGUSR1', () => handler({ type: 'pause' }))
process.on('SIGUSR2', () => handler({ type: 'cancel' }))
process.on('SIGTERM', () => stopWithoutOutcome('Slurm sent SIGTERM (scancel, the time limit or preemption)'))

const owner = process.env.QUARTERTURN_LOCK_OWNER
/** When the host's lock counts as stale (the host's STALE_MS, passed by the batch script). */
const staleMs = Number(process.env.QUARTERTURN_LOCK_STALE_MS) || 120_000
if (owner) {
  setInterval(() => {
    let lock: { owner?: string; heartbeat?: number } | null = null
    try {
      lock = JSON.parse(readFileSync(runPaths(runDir).lock, 'utf8')) as { owner?: string; heartbeat?: number }
    } catch (err) {
      // Being rewritten this instant (heartbeat): look again next time.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return
    }
    if (lock?.owner !== owner) stopWithoutOutcome('the host that submitted this job no longer holds the run')
    // A host killed outright stops beating; twice its staleness allows for clocks that differ between machines.
    else if (typeof lock.heartbeat === 'number' && Date.now() - lock.heartbeat > 2 * staleMs)
      stopWithoutOutcome('the host that submitted this job stopped answering (its lock has no heartbeat)')
  }, 3000).unref()
}

write({
  type: 'event',
  event: { type: 'log', level: 'info', message: `Worker process ${process.pid} on ${os.hostname()} (Slurm job ${process.env.SLURM_JOB_ID ?? '?'}).` }
})
handler({ type: 'run', runDir, workspaceDir })
