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
