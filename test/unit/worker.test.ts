// The training worker as a real child process (child_process.fork, as the headless host runs
// it): it selects a backend, trains, streams metrics, pauses, resumes and cancels between steps.
import { describe, expect, it } from 'vitest'
import { fork, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { FromWorkerSchema, type FromWorker, type ToWorker } from '../../src-engine/worker-protocol'

const WORKER = path.resolve('src-engine/worker.ts')

function start(): { child: ChildProcess; messages: FromWorker[]; next: (pred: (m: FromWorker) => boolean) => Promise<FromWorker>; send: (m: ToWorker) => void; exit: Promise<number | null> } {
  const child = fork(WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  const messages: FromWorker[] = []
  const waiters: { pred: (m: FromWorker) => boolean; resolve: (m: FromWorker) => void }[] = []
  child.on('message', (raw) => {
    const m = FromWorkerSchema.parse(raw)
    messages.push(m)
    for (const w of [...waiters]) if (w.pred(m)) {
      waiters.splice(waiters.indexOf(w), 1)
      w.resolve(m)
    }
  })
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return {
    child,
    messages,
    send: (m) => void child.send(m),
    next: (pred) =>
      new Promise((resolve) => {
        const seen = messages.find(pred)
        if (seen) return resolve(seen)
        waiters.push({ pred, resolve })
      }),
    exit
  }
}

const job = (steps: number): ToWorker => ({
  type: 'start',
  job: {
    config: { seed: 1, backbone: { arch: 'alexnet32', width: 0.0625 }, method: { method: 'rotnet' }, batchSize: 8, schedule: { kind: 'constant', lr: 0.05 } },
    data: { kind: 'sample', perClass: 2, size: 32, seed: 1 },
    steps,
    backend: 'wasm',
    metricsIntervalMs: 0
  }
})

describe('training worker', () => {
  it('trains N steps on wasm and streams metrics, then exits', async () => {
    const w = start()
    w.send(job(6))
    const ready = await w.next((m) => m.type === 'ready')
    expect(ready).toMatchObject({ type: 'ready', backend: 'wasm', stepsPerEpoch: 3 })
    await w.next((m) => m.type === 'status' && m.state === 'done')
    const metrics = w.messages.filter((m) => m.type === 'metrics')
    expect(metrics).toHaveLength(6)
    for (const m of metrics) if (m.type === 'metrics') expect(m.metrics.values.loss).toBeGreaterThan(0)
    expect(await w.exit).toBe(0)
  }, 60_000)

  it('pauses, resumes and cancels between steps', async () => {
    const w = start()
    w.send(job(10_000))
    await w.next((m) => m.type === 'metrics')
    w.send({ type: 'pause' })
    const paused = await w.next((m) => m.type === 'status' && m.state === 'paused')
    const countAtPause = w.messages.filter((m) => m.type === 'metrics').length
    await new Promise((r) => setTimeout(r, 400))
    expect(w.messages.filter((m) => m.type === 'metrics').length).toBe(countAtPause)
    w.send({ type: 'resume' })
    await w.next((m) => m.type === 'status' && m.state === 'running' && m !== paused && m.step > 0)
    await w.next((m) => m.type === 'metrics' && w.messages.filter((x) => x.type === 'metrics').length > countAtPause)
    w.send({ type: 'cancel' })
    await w.next((m) => m.type === 'status' && m.state === 'cancelled')
    expect(await w.exit).toBe(0)
  }, 60_000)

  it('reports an invalid config as an error naming the field, and exits non-zero', async () => {
    const w = start()
    const bad = job(2) as Extract<ToWorker, { type: 'start' }>
    ;(bad.job.config as Record<string, unknown>).batchSize = 1
    w.send(bad)
    const err = await w.next((m) => m.type === 'error')
    expect(err).toMatchObject({ type: 'error', stage: 'setup' })
    if (err.type === 'error') expect(err.message).toMatch(/batch size must be at least 2/)
    expect(await w.exit).toBe(1)
  }, 60_000)
})

describe('run worker', () => {
  it('checkpoints and exits when its host dies, so a resumed run never has two writers', async () => {
    const { spawn } = await import('node:child_process')
    const { mkdtempSync, writeFileSync } = await import('node:fs')
    const os = await import('node:os')
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'qt-orphan-'))
    // A long run, so the worker is busy training when its host disappears.
    const config = { backend: 'wasm', dataset: { kind: 'sample', perClass: 40, testPerClass: 2, size: 32 }, backbone: { arch: 'alexnet32', width: 0.0625 }, pretrain: { epochs: 1000, batchSize: 10 } }
    writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ config }))
    const script = `
      const { fork } = require('node:child_process')
      const w = fork(${JSON.stringify(path.resolve('src-engine/run-worker.ts'))}, [], { execArgv: ['--import', 'tsx'], stdio: 'ignore' })
      w.send({ type: 'run', runDir: ${JSON.stringify(runDir)} })
      w.on('message', (m) => { if (m.type === 'event' && m.event.type === 'metrics') console.log(w.pid) })
      setInterval(() => {}, 1000)
    `
    const host = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] })
    const pid = await new Promise<number>((resolve) => host.stdout!.once('data', (d) => resolve(Number(String(d).trim()))))
    const alive = (p: number): boolean => {
      try {
        process.kill(p, 0)
        return true
      } catch {
        return false
      }
    }
    expect(alive(pid)).toBe(true)
    host.kill('SIGKILL')
    const t0 = Date.now()
    while (alive(pid) && Date.now() - t0 < 15_000) await new Promise((r) => setTimeout(r, 100))
    expect(alive(pid)).toBe(false)
    // It stopped at a checkpoint of its own: the newest one covers every step it recorded.
    const { readMetrics } = await import('../../src-node/metrics-log')
    const { CheckpointStore } = await import('../../src-node/checkpoint')
    const steps = (await readMetrics(path.join(runDir, 'metrics.jsonl'))).length
    const latest = await new CheckpointStore(path.join(runDir, 'checkpoints')).loadLatest()
    expect(steps).toBeGreaterThan(0)
    expect(latest?.label).toMatchObject({ stage: 'pretrain', step: steps })
  }, 30_000)
})
