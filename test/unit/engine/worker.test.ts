// The run worker as a real child process (child_process.fork, as the headless host runs it), and
// the host's side of its messages: every message is checked against the contract on arrival.
import { describe, expect, it, vi } from 'vitest'
import { fork } from 'node:child_process'
import path from 'node:path'
import { FromRunWorkerSchema, type FromRunWorker, type ToRunWorker } from '../../../src-shared/contract/worker'
import { onWorkerMessages, type WorkerHandle } from '../../../src-host/runs/workers'

const RUN_WORKER = path.resolve('src-engine/run-worker.ts')

/** A run worker, its messages (each checked against the contract) and its exit code. */
function start(): {
  send: (m: ToRunWorker | Record<string, unknown>) => void
  next: (pred: (m: FromRunWorker) => boolean) => Promise<FromRunWorker>
  exit: Promise<number | null>
} {
  const child = fork(RUN_WORKER, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'pipe', 'ipc'] })
  const messages: FromRunWorker[] = []
  const waiters: { pred: (m: FromRunWorker) => boolean; resolve: (m: FromRunWorker) => void }[] = []
  child.on('message', (raw) => {
    const m = FromRunWorkerSchema.parse(raw)
    messages.push(m)
    for (const w of [...waiters])
      if (w.pred(m)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve(m)
      }
  })
  const exit = new Promise<number | null>((r) => child.on('exit', (code) => r(code)))
  return {
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

describe('run worker jobs', () => {
  it('reports an invalid config as an error naming the field, and exits non-zero', async () => {
    const w = start()
    w.send({ type: 'bench', config: { backend: 'wasm', backbone: { arch: 'alexnet32', width: 0.0625 }, pretrain: { batchSize: 1 } } })
    const err = await w.next((m) => m.type === 'error')
    expect(err).toMatchObject({ type: 'error', stage: 'config' })
    if (err.type === 'error') expect(err.message).toMatch(/batch size must be at least 2/)
    expect(await w.exit).toBe(1)
  }, 60_000)

  it('answers a malformed command with a protocol error instead of acting on it', async () => {
    const w = start()
    w.send({ type: 'run', runDir: '/nowhere' })
    const err = await w.next((m) => m.type === 'error')
    expect(err).toMatchObject({ type: 'error', stage: 'protocol', message: expect.stringMatching(/malformed command/) })
    w.send({ type: 'cancel' })
    w.send({ type: 'detect' })
    const found = await w.next((m) => m.type === 'backends')
    if (found.type === 'backends') expect(found.statuses.find((s) => s.name === 'cpu')?.ok).toBe(true)
    expect(await w.exit).toBe(0)
  }, 60_000)
})

describe('worker messages on arrival', () => {
  function fakeWorker(): { w: WorkerHandle; deliver: (m: unknown) => void; kill: ReturnType<typeof vi.fn> } {
    let listener: (m: unknown) => void = () => {}
    const kill = vi.fn()
    return { w: { send: () => {}, onMessage: (fn) => void (listener = fn), onExit: () => {}, kill }, deliver: (m) => listener(m), kill }
  }

  it('hands on messages that match the contract, typed', () => {
    const { w, deliver, kill } = fakeWorker()
    const got: FromRunWorker[] = []
    onWorkerMessages(
      w,
      (m) => got.push(m),
      () => {}
    )
    deliver({ type: 'mapDone', key: 'fc-test-latest-pca-s0-n10' })
    deliver({ type: 'event', event: { type: 'metrics', record: { stage: 'pretrain', loss: Number.NaN, step: 3 } } })
    expect(got.map((m) => m.type)).toEqual(['mapDone', 'event'])
    expect(kill).not.toHaveBeenCalled()
  })

  it('logs a malformed message, turns it into a protocol error and stops the worker', () => {
    const { w, deliver, kill } = fakeWorker()
    const got: FromRunWorker[] = []
    const logged: unknown[] = []
    onWorkerMessages(
      w,
      (m) => got.push(m),
      (err) => logged.push(err)
    )
    deliver({ type: 'finished', outcome: 'exploded' })
    deliver('not even an object')
    expect(got).toHaveLength(2)
    for (const m of got) expect(m).toMatchObject({ type: 'error', stage: 'protocol', message: expect.stringMatching(/malformed message/) })
    expect(logged).toHaveLength(2)
    expect(kill).toHaveBeenCalledTimes(2)
  })
})

describe('run worker', () => {
  it('checkpoints and exits when its host dies, so a resumed run never has two writers', async () => {
    const { spawn } = await import('node:child_process')
    const { mkdtempSync, writeFileSync } = await import('node:fs')
    const os = await import('node:os')
    const runDir = mkdtempSync(path.join(os.tmpdir(), 'qt-orphan-'))
    // A long run, so the worker is busy training when its host disappears.
    const config = {
      backend: 'wasm',
      dataset: { kind: 'sample', perClass: 40, testPerClass: 2, size: 32 },
      backbone: { arch: 'alexnet32', width: 0.0625 },
      pretrain: { epochs: 1000, batchSize: 10 }
    }
    writeFileSync(path.join(runDir, 'run.json'), JSON.stringify({ config }))
    const script = `
      const { fork } = require('node:child_process')
      const w = fork(${JSON.stringify(path.resolve('src-engine/run-worker.ts'))}, [], { execArgv: ['--import', 'tsx'], stdio: 'ignore' })
      w.send({ type: 'run', runDir: ${JSON.stringify(runDir)}, workspaceDir: ${JSON.stringify(path.dirname(runDir))} })
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
    const { readMetrics } = await import('../../../src-node/metrics-log')
    const { CheckpointStore } = await import('../../../src-node/checkpoint')
    const steps = (await readMetrics(path.join(runDir, 'metrics.jsonl'))).length
    const latest = await new CheckpointStore(path.join(runDir, 'checkpoints')).loadLatest()
    expect(steps).toBeGreaterThan(0)
    expect(latest?.label).toMatchObject({ stage: 'pretrain', step: steps })
  }, 30_000)
})
