// Mirrors the host's runs: the list is fetched once, then kept current by runs.changed; metric
// series and logs are fetched when a view first needs a run, then extended by runs.metrics and
// runs.log events. Metric series live outside Vue's reactivity (see lib/metrics.ts).
import { defineStore } from 'pinia'
import { computed, markRaw, ref, shallowRef } from 'vue'
import type { MetricRecord, RunDetail, RunSummary, SweepAxis } from '../../../src-shared/contract'
import type { z } from 'zod'
import type { PresetInfoSchema } from '../../../src-shared/contract'
import { api } from '../api'
import { RunMetrics } from '../lib/metrics'

export type PresetInfo = z.infer<typeof PresetInfoSchema>
export interface LogLine {
  t: number | null
  level: 'info' | 'warn' | 'error'
  message: string
}

const ACTIVE = new Set(['queued', 'running'])
const KEEP_METRICS = 8

export const useRunsStore = defineStore('runs', () => {
  const runs = ref<RunSummary[]>([])
  const loaded = ref(false)
  const error = ref<string | null>(null)
  const presets = shallowRef<PresetInfo[] | null>(null)
  /** Per-run logs (only for runs a view asked about). */
  const logs = ref(new Map<string, LogLine[]>())
  const metrics = new Map<string, RunMetrics>()
  const pendingLogs = new Map<string, LogLine[]>()
  let subscribed = false

  const byId = computed(() => new Map(runs.value.map((r) => [r.id, r])))
  const queue = computed(() => runs.value.filter((r) => ACTIVE.has(r.status.state)).sort((a, b) => a.status.createdAt.localeCompare(b.status.createdAt)))
  const history = computed(() => runs.value.filter((r) => !ACTIVE.has(r.status.state)))

  function upsert(s: RunSummary): void {
    const i = runs.value.findIndex((r) => r.id === s.id)
    if (i >= 0) runs.value[i] = s
    else runs.value.unshift(s)
  }

  // A running run reports progress after every step (dozens a second on a fast backend):
  // coalesce them so the tables re-render at most every 100 ms, with the newest of each run.
  const changed = new Map<string, RunSummary>()
  let flushTimer: ReturnType<typeof setTimeout> | null = null
  function onChanged(s: RunSummary): void {
    changed.set(s.id, s)
    flushTimer ??= setTimeout(() => {
      flushTimer = null
      for (const c of changed.values()) upsert(c)
      changed.clear()
    }, 100)
  }

  function subscribe(): void {
    if (subscribed) return
    subscribed = true
    api.on('runs.changed', onChanged)
    api.on('runs.removed', ({ id }) => forget(id))
    api.on('runs.metrics', ({ id, records }) => {
      metrics.get(id)?.push(records)
      pushCurves(id, records)
    })
    api.on('runs.log', ({ id, level, message }) => {
      const line = { t: Date.now(), level, message }
      const pend = pendingLogs.get(id)
      if (pend) pend.push(line)
      else logs.value.get(id)?.push(line)
    })
  }

  async function load(): Promise<void> {
    subscribe()
    try {
      runs.value = await api.call('runs.list', {})
      loaded.value = true
      error.value = null
    } catch (err) {
      error.value = (err as Error).message
    }
  }

  /**
   * Back after the connection dropped (the host restarted): what it pushed meanwhile was lost, so
   * list again and fetch the history of every series a view holds.
   */
  async function resync(): Promise<void> {
    await load()
    for (const m of metrics.values()) {
      const maxPoints = m.thinnedTo ?? 5000
      void api.call('runs.metrics', { id: m.id, maxPoints }).then(
        (records) => m.setHistory(records, maxPoints),
        () => {}
      )
    }
  }

  function forget(id: string): void {
    changed.delete(id)
    runs.value = runs.value.filter((r) => r.id !== id)
    metrics.delete(id)
    for (const [k, c] of curves) if (c.m.id === id) curves.delete(k)
    logs.value.delete(id)
  }

  async function loadPresets(): Promise<PresetInfo[]> {
    presets.value ??= await api.call('runs.presets', {})
    return presets.value
  }

  /** The run's metric series, fetching its history the first time. */
  function metricsOf(id: string, maxPoints = 5000): RunMetrics {
    subscribe()
    let m = metrics.get(id)
    // Asked for more detail than a thinned history holds: fetch it again.
    if (m && m.loaded && m.thinnedTo !== null && m.thinnedTo < maxPoints) m = undefined
    if (!m) {
      m = markRaw(new RunMetrics(id))
      metrics.delete(id)
      metrics.set(id, m)
      // Keep the series of the few runs looked at last; the others are on disk.
      while (metrics.size > KEEP_METRICS) metrics.delete(metrics.keys().next().value!)
      const mm = m
      void api.call('runs.metrics', { id, maxPoints }).then(
        (records) => mm.loadHistory(records, maxPoints),
        (err) => {
          console.warn(`[runs] metrics of ${id}:`, err)
          mm.setHistory([], maxPoints)
        }
      )
    }
    return m
  }

  /**
   * One metric of one stage of a run, fetched alone (Compare overlays it for many runs: twenty
   * full histories would cost several times as much to fetch, parse and hold), then extended by
   * the run's streamed records of that stage. Kept while keepCurves names it.
   */
  const curves = new Map<string, { m: RunMetrics; stage: string; key: string }>()
  const curveKey = (id: string, stage: string, key: string): string => JSON.stringify([id, stage, key])
  function curveOf(id: string, stage: string, key: string, maxPoints = 20000): RunMetrics {
    subscribe()
    const k = curveKey(id, stage, key)
    const have = curves.get(k)
    if (have) return have.m
    const m = markRaw(new RunMetrics(id))
    curves.set(k, { m, stage, key })
    void api.call('runs.metrics', { id, maxPoints, stage, keys: [key] }).then(
      (records) => m.loadHistory(records, maxPoints),
      (err) => {
        console.warn(`[runs] ${stage}.${key} of ${id}:`, err)
        m.setHistory([], maxPoints)
      }
    )
    return m
  }
  /** Drop the curves not listed (Compare's runs or metric changed). */
  function keepCurves(keep: { id: string; stage: string; key: string }[]): void {
    const names = new Set(keep.map((c) => curveKey(c.id, c.stage, c.key)))
    for (const k of curves.keys()) if (!names.has(k)) curves.delete(k)
  }
  function pushCurves(id: string, records: MetricRecord[]): void {
    for (const c of curves.values()) {
      if (c.m.id !== id) continue
      const mine = records
        .filter((r) => r.stage === c.stage && typeof r[c.key] === 'number')
        .map((r) => ({ stage: c.stage, epoch: r.epoch ?? null, step: r.step ?? null, t: r.t ?? null, [c.key]: r[c.key]! }))
      if (mine.length) c.m.push(mine)
    }
  }

  /** Fetch the history again at another resolution. */
  function reloadMetrics(id: string, maxPoints: number): RunMetrics {
    metrics.delete(id)
    return metricsOf(id, maxPoints)
  }

  /** One request per run at a time: the views that mount together share it. */
  const inflight = new Map<string, Promise<RunDetail>>()
  function detail(id: string): Promise<RunDetail> {
    let p = inflight.get(id)
    if (!p) {
      p = fetchDetail(id).finally(() => inflight.delete(id))
      inflight.set(id, p)
    }
    return p
  }

  async function fetchDetail(id: string): Promise<RunDetail> {
    subscribe()
    const firstTime = !logs.value.has(id)
    if (firstTime) pendingLogs.set(id, [])
    try {
      const d = await api.call('runs.get', { id })
      upsert({
        id: d.id,
        name: d.name,
        method: d.method,
        preset: d.preset,
        configHash: d.configHash,
        status: d.status,
        evaluations: d.evaluations,
        dataset: d.dataset,
        tags: d.tags,
        notes: d.notes
      })
      if (firstTime) {
        const lines: LogLine[] = d.log.map((l) => ({ t: l.t, level: l.level, message: l.message }))
        // Lines that streamed while the file was read may already be in it.
        const tail = new Set(lines.slice(-20).map((l) => l.message))
        for (const l of pendingLogs.get(id) ?? []) if (!tail.has(l.message)) lines.push(l)
        logs.value.set(id, lines)
      }
      return d
    } finally {
      pendingLogs.delete(id)
    }
  }

  /** A request's answer is newer than any change event still waiting to be applied. */
  function answered(s: RunSummary): RunSummary {
    changed.delete(s.id)
    upsert(s)
    return s
  }
  async function create(config: Record<string, unknown>, preset: string | null): Promise<RunSummary> {
    return answered(await api.call('runs.create', { config, preset }))
  }
  /** "Repeat with N seeds": one run per seed, sharing a group id. */
  async function createGroup(config: Record<string, unknown>, preset: string | null, seeds: number[]): Promise<RunSummary[]> {
    return (await api.call('runs.createGroup', { config, preset, seeds })).map(answered)
  }
  /** A grid sweep: one run per grid point and seed (src-shared/sweep.ts). */
  async function createSweep(config: Record<string, unknown>, preset: string | null, axes: SweepAxis[], seeds: number[] | null): Promise<RunSummary[]> {
    return (await api.call('runs.createSweep', { config, preset, axes, seeds })).map(answered)
  }
  async function pause(id: string): Promise<void> {
    answered(await api.call('runs.pause', { id }))
  }
  async function resume(id: string): Promise<void> {
    answered(await api.call('runs.resume', { id }))
  }
  async function cancel(id: string): Promise<void> {
    answered(await api.call('runs.cancel', { id }))
  }
  async function annotate(id: string, tags: string[], notes: string): Promise<void> {
    answered(await api.call('runs.annotate', { id, tags, notes }))
  }
  /** Delete a run's folder (the host refuses runs that are queued, running or owned elsewhere). */
  async function remove(id: string): Promise<void> {
    await api.call('runs.delete', { id })
    forget(id)
  }

  return {
    runs,
    loaded,
    error,
    presets,
    logs,
    byId,
    queue,
    history,
    load,
    loadPresets,
    metricsOf,
    reloadMetrics,
    curveOf,
    keepCurves,
    detail,
    create,
    createGroup,
    createSweep,
    pause,
    resume,
    cancel,
    annotate,
    remove,
    resync
  }
})
