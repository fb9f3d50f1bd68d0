// Training worker entry: runs one job (a method for N steps on a dataset) and streams events.
// Runs as an Electron utilityProcess (process.parentPort) or a child_process.fork (process.send)
// with the same messages (./worker-protocol.ts). Commands are handled between steps.
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from './backends'
import { Trainer } from './trainer'
import { generateSampleDataset, type ImageSet } from './data/sample-dataset'
import { FromWorkerSchema, ToWorkerSchema, TrainJobSchema, type DataSource, type FromWorker } from './worker-protocol'

interface Port {
  send(msg: FromWorker): void
  onMessage(fn: (msg: unknown) => void): void
}

function parentPort(): Port {
  const electronPort = (process as unknown as { parentPort?: { postMessage(m: unknown): void; on(e: 'message', f: (ev: { data: unknown }) => void): void } }).parentPort
  if (electronPort) {
    return { send: (m) => electronPort.postMessage(m), onMessage: (fn) => electronPort.on('message', (ev) => fn(ev.data)) }
  }
  if (process.send) {
    return { send: (m) => void process.send!(m), onMessage: (fn) => void process.on('message', fn) }
  }
  throw new Error('the training worker must be started by a host (fork or utilityProcess)')
}

export function loadData(src: DataSource): ImageSet {
  switch (src.kind) {
    case 'sample':
      return generateSampleDataset({ perClass: src.perClass, size: src.size, seed: src.seed })
  }
}

/** Leave time for the last message to flush, then end the process: one job per worker. */
function exitSoon(code: number): void {
  setTimeout(() => process.exit(code), 50)
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

export async function runWorker(port: Port): Promise<void> {
  let paused = false
  let cancelled = false
  let started = false
  const send = (m: FromWorker): void => port.send(FromWorkerSchema.parse(m))
  port.onMessage((raw) => {
    const msg = ToWorkerSchema.safeParse(raw)
    if (!msg.success) {
      send({ type: 'error', message: `malformed command: ${msg.error.issues[0]?.message}`, stage: 'protocol' })
      return
    }
    switch (msg.data.type) {
      case 'pause':
        paused = true
        break
      case 'resume':
        paused = false
        break
      case 'cancel':
        cancelled = true
        break
      case 'start':
        if (started) return
        started = true
        void run(msg.data.job).catch((err: unknown) => {
          send({ type: 'error', message: (err as Error)?.message ?? String(err), stage })
          exitSoon(1)
        })
    }
  })

  let stage = 'setup'
  async function run(rawJob: unknown): Promise<void> {
    const job = TrainJobSchema.parse(rawJob)
    stage = 'backend'
    const { name, statuses } = await selectBackend(job.backend)
    stage = 'data'
    const data = loadData(job.data)
    stage = 'setup'
    const trainer = new Trainer(job.config, data)
    send({ type: 'ready', backend: name, statuses, params: trainer.params.count(), stepsPerEpoch: trainer.stepsPerEpoch })
    const total = job.steps ?? trainer.config.epochs * trainer.stepsPerEpoch
    stage = 'train'
    send({ type: 'status', state: 'running', step: 0 })
    let lastSent = 0
    for (let i = 0; i < total; i++) {
      await tick()
      if (paused) {
        send({ type: 'status', state: 'paused', step: i })
        while (paused && !cancelled) await new Promise((r) => setTimeout(r, 20))
        if (!cancelled) send({ type: 'status', state: 'running', step: i })
      }
      if (cancelled) {
        send({ type: 'status', state: 'cancelled', step: i })
        trainer.dispose()
        exitSoon(0)
        return
      }
      const r = trainer.step()
      const now = performance.now()
      if (now - lastSent >= job.metricsIntervalMs || i === total - 1) {
        lastSent = now
        send({
          type: 'metrics',
          metrics: { epoch: r.epoch, step: r.globalStep, lr: r.lr, ms: r.ms, imagesPerSec: (r.images * 1000) / r.ms, values: r.metrics }
        })
      }
    }
    send({ type: 'status', state: 'done', step: total })
    trainer.dispose()
    tf.disposeVariables()
    exitSoon(0)
  }
}

// Started as a process (not imported by tests): attach to the parent.
if (process.send || (process as unknown as { parentPort?: unknown }).parentPort) {
  void runWorker(parentPort())
}
