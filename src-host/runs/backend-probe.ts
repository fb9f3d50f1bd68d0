// Which training backends load on this machine, asked of a worker process: TensorFlow.js never
// loads in the host (in the app that is Electron's main process). One probe at a time; callers
// asking meanwhile share its answer, and each later call probes again (a package may have been
// installed since).
import type { BackendStatus } from '../../src-shared/contract'
import { ServiceError } from '../errors'
import { onWorkerMessages, type LogError, type WorkerLauncher } from './workers'

export class BackendProbe {
  private running: Promise<BackendStatus[]> | null = null

  constructor(private readonly o: { launch: WorkerLauncher; logError?: LogError }) {}

  /** One line per backend, best first: loaded and ran a training op, or why not and the fix. */
  detect(): Promise<BackendStatus[]> {
    this.running ??= this.probe().finally(() => (this.running = null))
    return this.running
  }

  private probe(): Promise<BackendStatus[]> {
    return new Promise((resolve, reject) => {
      const w = this.o.launch()
      let result: BackendStatus[] | null = null
      let error: string | null = null
      onWorkerMessages(
        w,
        (m) => {
          if (m.type === 'backends') result = m.statuses
          if (m.type === 'error') error = `${m.message} (while ${m.stage})`
        },
        this.o.logError
      )
      w.onExit((code) => {
        if (result) resolve(result)
        else reject(new ServiceError(`Backend detection did not finish: ${error ?? `its worker stopped (exit code ${code})`}.`))
      })
      w.send({ type: 'detect' })
    })
  }
}
