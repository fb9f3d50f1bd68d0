// The Slurm executor: each attempt of a run is one batch job (sbatch) running the engine's
// job-worker entry on the run folder, which the nodes reach over a shared filesystem. The job
// appends its worker's messages to runs/<id>/slurm/attempt-N.events.jsonl; the handle made here
// tails that file and hands the messages to the host's one supervision path (run-supervision.ts)
// as if they came over IPC, then reports the attempt's end once the job has left the queue.
//
// State comes from `squeue`, then `scontrol show job` for the final state (no sacct: accounting is
// often off). pause = `scancel --batch --signal=USR1` (the worker checkpoints and exits), cancel =
// `scancel` (SIGTERM: it checkpoints and exits; the job ends CANCELLED). A job that ends without
// the worker saying how (NODE_FAIL, TIMEOUT, PREEMPTED, a kill) leaves the run interrupted; the
// handle's `resubmits` lets the service resubmit it from its newest checkpoint. Jobs are submitted
// with --no-requeue: Slurm's own requeue reuses the job id and overwrites its output, where a
// resubmission here gets a new job and its own log per attempt.
import { execFile } from 'node:child_process'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { FromRunWorkerSchema, type FromRunWorker, type ToRunWorker } from '../../src-shared/contract/worker'
import type { Placement, SlurmSettings } from '../../src-shared/contract/executor'
import { STALE_MS, readLock } from './run-lock'
import type { RunPlace, WorkerHandle } from './workers'
import type { WorkerEntry } from './fork-launcher'

const POLL_MS = 500

export interface SlurmCommandResult {
  code: number
  stdout: string
  stderr: string
}

/** Run a Slurm client command (never through a shell). */
export function slurmCommand(cmd: string, args: string[], timeoutMs = 30_000): Promise<SlurmCommandResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code as number) : -1) : 0
      resolve({ code, stdout, stderr: stderr || (err && code === -1 ? err.message : '') })
    })
  })
}

export interface SlurmAvailability {
  ok: boolean
  detail: string
  fix?: string
}

/** Whether this machine can submit jobs: sbatch is installed and a controller answers. */
export async function slurmAvailability(): Promise<SlurmAvailability> {
  const fix =
    "Install the Slurm client commands (e.g. apt-get install slurm-client, or load your cluster's slurm module) and set SLURM_CONF if your cluster's slurm.conf is not in the default place."
  const v = await slurmCommand('sbatch', ['--version'], 10_000)
  if (v.code !== 0) return { ok: false, detail: `sbatch is not available (${(v.stderr || 'not found').trim()})`, fix }
  const ping = await slurmCommand('scontrol', ['ping'], 10_000)
  if (ping.code !== 0 || !/UP/.test(ping.stdout)) {
    return {
      ok: false,
      detail: `${v.stdout.trim()} is installed, but no Slurm controller answers (${(ping.stdout + ping.stderr).trim() || 'scontrol ping failed'})`,
      fix
    }
  }
  return { ok: true, detail: `${v.stdout.trim()}; controller: ${ping.stdout.trim().replace(/\s+/g, ' ')}` }
}

/** The #SBATCH lines for `s` (validated: no newlines smuggled into a line). */
export function sbatchOptions(s: SlurmSettings): string[] {
  const out: string[] = []
  if (s.partition) out.push(`--partition=${s.partition}`)
  out.push(`--time=${s.time}`, '--nodes=1', '--ntasks=1', `--cpus-per-task=${s.cpus}`)
  if (s.mem) out.push(`--mem=${s.mem}`)
  if (s.gres) out.push(`--gres=${s.gres}`)
  if (s.account) out.push(`--account=${s.account}`)
  for (const line of s.extra) out.push(line.replace(/^#SBATCH\s+/, '').trim())
  for (const o of out) if (/[\r\n]/.test(o)) throw new Error(`Slurm setting "${o}" spans lines; give each sbatch option on its own.`)
  return out
}

const shq = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`

export interface SubmitOptions {
  place: RunPlace
  settings: SlurmSettings
  /** The engine's job-worker entry (built job-worker.js, or the .ts source with execArgv). */
  entry: WorkerEntry
  /** The attempt number (1 for the first submission). */
  attempt: number
  runId: string
}

/** Write the attempt's batch script and submit it; throws with sbatch's own words when refused. */
export async function submitAttempt(o: SubmitOptions): Promise<SlurmJob> {
  const dir = path.join(o.place.runDir, 'slurm')
  await fs.mkdir(dir, { recursive: true })
  const base = `attempt-${o.attempt}`
  const script = path.join(dir, `${base}.sh`)
  const events = path.join(dir, `${base}.events.jsonl`)
  const output = path.join(dir, `${base}.out`)
  await fs.rm(events, { force: true })
  const owner = (await readLock(o.place.runDir))?.owner ?? ''
  const node = o.settings.node ?? process.execPath
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=qt-${o.runId}`,
    `#SBATCH --output=${output}`,
    // The run folder is on the shared filesystem; a source entry run through tsx resolves it from the project folder.
    `#SBATCH --chdir=${o.entry.entry.endsWith('.ts') ? process.cwd() : o.place.runDir}`,
    '#SBATCH --no-requeue',
    ...sbatchOptions(o.settings).map((x) => `#SBATCH ${x}`),
    `# Quarterturn run ${o.runId}, attempt ${o.attempt}: the worker writes its messages to ${events}.`,
    `export QUARTERTURN_LOCK_OWNER=${shq(owner)}`,
    `export QUARTERTURN_LOCK_STALE_MS=${STALE_MS}`,
    `exec ${[node, ...(o.entry.execArgv ?? []), o.entry.entry, o.place.runDir, o.place.workspaceDir, events].map(shq).join(' ')}`
  ]
  await fs.writeFile(script, lines.join('\n') + '\n', { mode: 0o755 })
  const r = await slurmCommand('sbatch', ['--parsable', script])
  if (r.code !== 0) {
    const said = (r.stderr || r.stdout)
      .trim()
      .replace(/^sbatch: error: /gm, '')
      .split('\n')
      .join('; ')
    const hint =
      /partition/i.test(said) && o.settings.partition
        ? ` Check the partition "${o.settings.partition}" (sinfo lists them) in the workspace's executor.json or the run's.`
        : ''
    throw new Error(`Slurm refused the job (sbatch: ${said || `exit code ${r.code}`}).${hint}`)
  }
  const jobId = r.stdout.trim().split(';')[0]!
  const placement: Placement = {
    executor: 'slurm',
    attempt: o.attempt,
    jobId,
    nodes: null,
    submittedAt: new Date().toISOString(),
    state: null,
    log: path.relative(o.place.runDir, output)
  }
  return new SlurmJob(placement, events)
}

/** What squeue or scontrol says of a job: its state and node list (null: unknown to Slurm). */
export async function jobState(jobId: string): Promise<{ state: string; nodes: string | null; exitCode: string | null; ended: boolean } | null> {
  const q = await slurmCommand('squeue', ['-h', '-j', jobId, '-o', '%T|%N'])
  const line = q.code === 0 ? q.stdout.trim().split('\n')[0] : ''
  if (line) {
    const [state, nodes] = line.split('|')
    // COMPLETING and the like are still in squeue: not ended until gone.
    return { state: state!, nodes: nodes || null, exitCode: null, ended: false }
  }
  const s = await slurmCommand('scontrol', ['show', 'job', '-o', jobId])
  if (s.code !== 0 || !s.stdout.includes('JobState=')) return q.code === 0 ? { state: 'UNKNOWN', nodes: null, exitCode: null, ended: true } : null
  const field = (k: string): string | null => new RegExp(`(?:^|\\s)${k}=(\\S*)`).exec(s.stdout)?.[1] ?? null
  const state = field('JobState') ?? 'UNKNOWN'
  const nodes = field('NodeList')
  return {
    state,
    nodes: nodes && nodes !== '(null)' ? nodes : null,
    exitCode: field('ExitCode'),
    ended: !/^(PENDING|RUNNING|CONFIGURING|COMPLETING|SUSPENDED|REQUEUED|RESIZING|SIGNALING|STAGE_OUT)/.test(state)
  }
}

/** One submitted attempt, as a worker handle: messages from its events file, its exit when the job ends. */
export class SlurmJob implements WorkerHandle {
  readonly pid = undefined
  /** How many times an interrupted run may be resubmitted automatically (set by the executor). */
  resubmits = 0
  private msgFns: ((m: unknown) => void)[] = []
  private exitFns: ((code: number | null, signal: string | null) => void)[] = []
  private offset = 0
  private partial = ''
  private timer: NodeJS.Timeout | null = null
  private said: { outcome: boolean; error: boolean } = { outcome: false, error: false }
  /** What the host asked while the job may still be pending: the outcome to report if it never ran. */
  private asked: 'pause' | 'cancel' | null = null
  private ended = false

  constructor(
    readonly placement: Placement,
    readonly eventsFile: string
  ) {}

  send(m: ToRunWorker): void {
    if (m.type === 'run') {
      this.deliver({ type: 'placement', placement: { ...this.placement } })
      this.deliver({
        type: 'event',
        event: {
          type: 'log',
          level: 'info',
          message: `Submitted as Slurm job ${this.placement.jobId} (attempt ${this.placement.attempt}; output in ${this.placement.log}).`
        }
      })
      this.timer = setInterval(() => void this.poll(), POLL_MS)
      return
    }
    if (m.type === 'pause' || m.type === 'cancel') {
      this.asked = m.type
      void this.signal(m.type)
    }
  }

  private async signal(what: 'pause' | 'cancel'): Promise<void> {
    const now = await jobState(this.placement.jobId)
    if (what === 'cancel' || !now || now.state === 'PENDING') {
      // Never started (or cancel): take it off the queue; a running worker gets SIGTERM and checkpoints.
      await slurmCommand('scancel', [this.placement.jobId])
      return
    }
    await slurmCommand('scancel', ['--batch', '--signal=USR1', this.placement.jobId])
  }

  onMessage(fn: (msg: unknown) => void): void {
    this.msgFns.push(fn)
  }
  onExit(fn: (code: number | null, signal: string | null) => void): void {
    this.exitFns.push(fn)
  }
  kill(signal?: NodeJS.Signals): void {
    void slurmCommand('scancel', signal === 'SIGKILL' ? ['--full', '--signal=KILL', this.placement.jobId] : [this.placement.jobId])
  }

  private deliver(m: unknown): void {
    const parsed = FromRunWorkerSchema.safeParse(m)
    if (parsed.success) {
      const x: FromRunWorker = parsed.data
      if (x.type === 'finished') this.said.outcome = true
      if (x.type === 'error') this.said.error = true
    }
    for (const f of this.msgFns) f(m)
  }

  /** New complete lines of the events file. */
  private async readEvents(): Promise<void> {
    const fh = await fs.open(this.eventsFile, 'r').catch(() => null)
    if (!fh) return
    try {
      const { size } = await fh.stat()
      if (size <= this.offset) return
      const buf = Buffer.alloc(size - this.offset)
      const { bytesRead } = await fh.read(buf, 0, buf.length, this.offset)
      this.offset += bytesRead
      const text = this.partial + buf.subarray(0, bytesRead).toString('utf8')
      const lines = text.split('\n')
      this.partial = lines.pop() ?? ''
      for (const line of lines) {
        if (!line.trim()) continue
        let m: unknown
        try {
          m = JSON.parse(line)
        } catch {
          m = { type: 'unreadable', line: line.slice(0, 200) }
        }
        this.deliver(m)
      }
    } finally {
      await fh.close()
    }
  }

  private polling = false
  private async poll(): Promise<void> {
    if (this.polling || this.ended) return
    this.polling = true
    try {
      await this.readEvents()
      const st = await jobState(this.placement.jobId)
      if (st && st.nodes && st.nodes !== this.placement.nodes) {
        this.placement.nodes = st.nodes
        this.deliver({ type: 'placement', placement: { ...this.placement } })
      }
      if (st && !st.ended) return
      // Gone from the queue: the last lines may land a moment after (a shared filesystem's cache).
      await new Promise((r) => setTimeout(r, 300))
      await this.readEvents()
      this.finish(st?.state ?? 'UNKNOWN', st?.exitCode ?? null)
    } finally {
      this.polling = false
    }
  }

  private finish(state: string, exitCode: string | null): void {
    this.ended = true
    if (this.timer) clearInterval(this.timer)
    const base = state.split(/\s/)[0]!
    this.placement.state = base
    this.deliver({ type: 'placement', placement: { ...this.placement } })
    const where = `Slurm job ${this.placement.jobId} ended ${base}${this.placement.nodes ? ` on ${this.placement.nodes}` : ''}${exitCode ? ` (exit code ${exitCode})` : ''}`
    if (!this.said.outcome && !this.said.error) {
      if (base === 'CANCELLED' && this.asked !== null) {
        // Our own scancel (or a pause of a job that never started): that is the outcome.
        this.deliver({ type: 'finished', outcome: this.asked === 'pause' ? 'paused' : 'cancelled' })
      } else if (base === 'CANCELLED') {
        // scancel from outside (the user on the command line, an administrator): cancelled too.
        this.deliver({ type: 'event', event: { type: 'log', level: 'warn', message: `${where}: cancelled outside Quarterturn (scancel).` } })
        this.deliver({ type: 'finished', outcome: 'cancelled' })
      } else {
        this.deliver({ type: 'event', event: { type: 'log', level: 'warn', message: `${where} before the run finished.` } })
      }
    } else {
      this.deliver({ type: 'event', event: { type: 'log', level: 'info', message: `${where}.` } })
    }
    const [code, sig] = (exitCode ?? '').split(':').map(Number)
    const said = this.said.outcome || this.said.error
    for (const f of this.exitFns) f(said ? (code ?? 0) : null, said ? null : `Slurm job ${this.placement.jobId} ended ${base}${sig ? `, signal ${sig}` : ''}`)
  }
}
