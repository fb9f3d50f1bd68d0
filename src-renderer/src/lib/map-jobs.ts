// Maps being computed, as the host reports them (maps.progress): the newest report of each
// (run, map key), kept outside any one view so a panel that starts a map, or comes back to one
// still running, reads the same state, and a report that arrives before maps.compute's answer is
// not lost. Finished reports stay (one small entry per map computed in this session): two panels
// waiting for the same map both see it finish.
import { shallowReactive } from 'vue'
import type { EventPayload } from '../../../src-shared/contract'
import { api } from '../api'

export type MapProgress = EventPayload<'maps.progress'> & {
  /** When the report arrived (performance.now()): tells a new attempt's reports from an old one's. */
  at: number
}

const jobs = shallowReactive(new Map<string, MapProgress>())
let listening = false

export const jobKey = (id: string, key: string): string => `${id}/${key}`

/** Start listening (once); every later report replaces the one before it. */
export function watchMapJobs(): void {
  if (listening) return
  listening = true
  api.on('maps.progress', (p) => {
    // The newest layout preview stays until the map is done: reports in between may carry none.
    const before = jobs.get(jobKey(p.id, p.key))
    const at = performance.now()
    const next = p.preview || p.phase === 'done' || p.phase === 'failed' ? { ...p, at } : { ...p, preview: before?.preview, at }
    // The classes come once, with the first preview; later reports keep them.
    jobs.set(jobKey(p.id, p.key), { ...next, labels: p.labels ?? before?.labels, classNames: p.classNames ?? before?.classNames })
  })
}

export function mapJob(id: string, key: string): MapProgress | undefined {
  return jobs.get(jobKey(id, key))
}

export const finished = (p: MapProgress): boolean => p.phase === 'done' || p.phase === 'failed'

/** A map of this run still being computed (one a panel shows when it comes back to the run). */
export function runningJobOf(id: string): MapProgress | undefined {
  for (const p of jobs.values()) if (p.id === id && !finished(p)) return p
  return undefined
}

/** Phase names as the view shows them. */
export const PHASES: Record<string, string> = {
  features: 'extracting features',
  pca: 'projecting (PCA)',
  knn: 'finding neighbours',
  affinities: 'computing affinities',
  optimize: 'optimising the layout',
  umap: 'optimising the layout (UMAP)',
  done: 'done',
  failed: 'failed'
}
