// Engine benchmarks for time estimates: run in a worker process (the backend and threads a run
// would get, without blocking the host), one at a time, kept in the workspace by what determines
// step time (backend choice, network, method, batch sizes) so the form asks each once.
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { parseRunConfig, type RunConfig } from '../../src-shared/config/run'
import type { HostEvent } from '../../src-shared/contract'
import type { EngineBenchmark, EngineBenchmarkResult } from '../../src-shared/contract/runs'
import { ServiceError } from '../errors'
import { writeFileAtomic } from '../../src-node/fsutil'
import { onWorkerMessages, type LogError, type WorkerLauncher } from './workers'

export type BenchEvent = HostEvent<'engine.progress'>

const CACHE_FILE = 'engine-benchmarks.json'
/** Measurements older than this are taken again (a new version, other load, other kernels). */
const MAX_AGE_MS = 14 * 24 * 3600 * 1000

/** What a step's time depends on. */
export function benchKey(c: RunConfig, appVersion: string): string {
  const what = {
    v: appVersion,
    backend: c.backend,
    backbone: c.backbone,
    pretrain: c.pretrain.enabled ? { method: c.pretrain.method, batch: c.pretrain.batchSize, opt: c.pretrain.optimizer.kind } : null,
    pu: c.pu.enabled,
    finetune: c.finetune.batchSize,
    layer: c.evaluation.layer
  }
  return createHash('sha256').update(JSON.stringify(what)).digest('hex').slice(0, 16)
}

export class EngineBench {
  private running = new Map<string, Promise<EngineBenchmark>>()

  constructor(
    private readonly o: { launch: WorkerLauncher; workspaceDir: () => Promise<string>; appVersion: string; emit: (e: BenchEvent) => void; logError?: LogError }
  ) {}

  private async cacheFile(): Promise<string> {
    return path.join(await this.o.workspaceDir(), 'cache', CACHE_FILE)
  }

  private async readCache(): Promise<Record<string, EngineBenchmark>> {
    try {
      return JSON.parse(await fs.readFile(await this.cacheFile(), 'utf8')) as Record<string, EngineBenchmark>
    } catch {
      return {} // none yet, or unreadable: measure again
    }
  }

  /** The stored measurement for a config ('cached': or null), or a new one ('refresh' forces it). */
  async measure(rawConfig: unknown, mode: 'cached' | 'measure' | 'refresh'): Promise<EngineBenchmarkResult | null> {
    let config: RunConfig
    try {
      config = parseRunConfig(rawConfig)
    } catch (err) {
      throw new ServiceError(`The run config is not valid yet, so it cannot be timed: ${(err as Error).message}`, 'invalid-argument')
    }
    const key = benchKey(config, this.o.appVersion)
    if (mode !== 'refresh') {
      const hit = (await this.readCache())[key]
      if (hit && Date.now() - Date.parse(hit.measuredAt) < MAX_AGE_MS) return { ...hit, key, cached: true }
      if (mode === 'cached') return null
    }
    let job = this.running.get(key)
    if (!job) {
      job = this.run(config, key).finally(() => this.running.delete(key))
      this.running.set(key, job)
    }
    const result = await job
    const cache = await this.readCache()
    cache[key] = result
    const file = await this.cacheFile()
    await fs.mkdir(path.dirname(file), { recursive: true })
    await writeFileAtomic(file, JSON.stringify(cache, null, 1))
    return { ...result, key, cached: false }
  }

  private run(config: RunConfig, key: string): Promise<EngineBenchmark> {
    return new Promise((resolve, reject) => {
      const w = this.o.launch()
      let result: EngineBenchmark | null = null
      let error: string | null = null
      onWorkerMessages(
        w,
        (m) => {
          if (m.type === 'benchProgress') this.o.emit({ name: 'engine.progress', payload: { key, ...m.progress } })
          if (m.type === 'benchDone') result = m.result
          if (m.type === 'error') error = `${m.message} (while ${m.stage})`
        },
        this.o.logError
      )
      w.onExit((code) => {
        if (result) resolve(result)
        else reject(new ServiceError(`The engine benchmark did not finish: ${error ?? `its worker stopped (exit code ${code})`}.`))
      })
      w.send({ type: 'bench', config })
    })
  }
}
