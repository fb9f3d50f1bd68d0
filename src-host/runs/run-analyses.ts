// What the host computes from a run after (or while) it trains, always in worker processes:
// rotation previews, training views and thumbnails through the long-lived analysis worker, and
// embedding maps, each in a worker of its own with progress pushed as maps.progress. Stored maps
// are read from the run folder; a stored map counts only if made from the run's current weights.
import type { HostEvent } from '../../src-shared/contract'
import type { MapInfo, MapResult, MapSpec } from '../../src-shared/contract/maps'
import type { AugmentOptions, AugmentResult, PreviewOptions, PreviewResult, RunImages, RunImagesOptions } from '../../src-shared/contract/runs'
import { listMaps, mapKey, readMap, weightsIdOf } from '../../src-node/run-folder'
import { ServiceError } from '../errors'
import { AnalysisWorker } from './analysis-worker'
import { onWorkerMessages, type LogError, type RunPlace, type WorkerHandle, type WorkerLauncher } from './workers'

export class RunAnalyses {
  /** Computes previews and thumbnails in a worker process (never on the host's thread). */
  private readonly analysis: AnalysisWorker
  /** Map workers by "<run id>/<map key>". */
  private readonly mapJobs = new Map<string, WorkerHandle>()

  constructor(private readonly o: { launch: WorkerLauncher; emit: (e: HostEvent<'maps.progress'>) => void; logError?: LogError }) {
    this.analysis = new AnalysisWorker(() => o.launch(), o.logError)
  }

  /** Rotated views of a few images with the model's predicted rotation probabilities. */
  preview(place: RunPlace, o: PreviewOptions): Promise<PreviewResult> {
    return this.analysis.call(place, { kind: 'preview', options: o })
  }

  /** Training views of a few images, as the run's pretraining method makes them. */
  augmentations(place: RunPlace, o: AugmentOptions): Promise<AugmentResult> {
    return this.analysis.call(place, { kind: 'augment', options: o })
  }

  /** Thumbnails of the run's dataset split (decoded in the analysis worker, like previews). */
  images(place: RunPlace, o: RunImagesOptions): Promise<RunImages> {
    return this.analysis.call(place, { kind: 'images', options: o })
  }

  /**
   * Start computing an embedding map in a worker (or return the stored one's key at once).
   * Progress, layout previews and the end arrive as maps.progress events.
   */
  async startMap(id: string, place: RunPlace, spec: MapSpec): Promise<{ key: string; cached: boolean }> {
    const key = mapKey(spec)
    // A stored map counts only if made from the same weights (a resumed run may have trained on).
    const stored = await readMap(place.runDir, key)
    if (stored && stored.weights === (await weightsIdOf(place.runDir, spec.source, spec.layer))) return { key, cached: true }
    const jobId = `${id}/${key}`
    if (this.mapJobs.has(jobId)) return { key, cached: false }
    const w = this.o.launch()
    this.mapJobs.set(jobId, w)
    let error: string | undefined
    onWorkerMessages(
      w,
      (m) => {
        if (m.type === 'mapProgress') this.o.emit({ name: 'maps.progress', payload: { id, key, ...m.progress } })
        if (m.type === 'error') error = m.message
      },
      this.o.logError
    )
    w.onExit((code) => {
      this.mapJobs.delete(jobId)
      if (code !== 0)
        this.o.emit({ name: 'maps.progress', payload: { id, key, phase: 'failed', fraction: 0, error: error ?? `the map worker stopped (exit code ${code})` } })
    })
    w.send({ type: 'map', ...place, spec })
    return { key, cached: false }
  }

  cancelMap(id: string, key: string): void {
    this.mapJobs.get(`${id}/${key}`)?.send({ type: 'cancel' })
  }

  /** The maps stored for a run (without their points), newest first. */
  listMaps(runDir: string): Promise<MapInfo[]> {
    return listMaps(runDir)
  }

  async getMap(id: string, runDir: string, key: string): Promise<MapResult> {
    const m = await readMap(runDir, key)
    if (!m) throw new ServiceError(`No map "${key}" for run ${id}: compute it first.`, 'invalid-argument')
    return m
  }

  stop(): void {
    this.analysis.stop()
  }
}
