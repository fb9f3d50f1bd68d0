// Metric series of one run, kept outside Vue's reactivity: a training run streams a record per
// step (thousands per minute on a fast backend, 100 000+ per run), and proxying every point would
// cost more than drawing it. Charts subscribe to a run's series and redraw on their own schedule
// (see chart-scheduler.ts); only structural changes (a new stage or metric) bump a reactive
// revision that views use to list what can be plotted.
import { shallowRef, type ShallowRef } from 'vue'
import type { MetricRecord } from '../../../src-shared/contract'
import { stepsPerEpoch, type StageClock } from './curves'

export interface Point {
  x: number
  y: number
}

/** Records appended per task when a history loads (loadHistory). */
const HISTORY_SLICE = 2500

/** Fields of a record that are coordinates or bookkeeping, not metrics to plot. */
const NOT_METRICS = new Set(['stage', 'epoch', 'step', 't'])

export class StageSeries implements StageClock {
  readonly series = new Map<string, Point[]>()
  /** Step and wall time (NaN: none recorded) of every record, for the epoch and time axes. */
  readonly steps: number[] = []
  readonly times: number[] = []
  lastStep = -Infinity
  lastEpoch = 0
  count = 0
  /** Smallest step / epoch seen past the first epoch (see curves.ts stepsPerEpoch). */
  minStepPerEpoch = Infinity
  /** Bumped when a resumed run cuts points off, so caches keyed on a length notice. */
  edits = 0
  constructor(readonly stage: string) {}

  keys(): string[] {
    return [...this.series.keys()]
  }

  get stepsPerEpoch(): number {
    return stepsPerEpoch(this.minStepPerEpoch, this.lastStep)
  }
}

export class RunMetrics {
  readonly stages = new Map<string, StageSeries>()
  /** Bumped when a stage or a metric key appears (not on every point). */
  readonly revision: ShallowRef<number> = shallowRef(0)
  private listeners = new Set<() => void>()
  /** Records that arrived while the history was being fetched. */
  private pending: MetricRecord[] | null = []
  loaded = false
  /** Points the host thinned the history to (null: full resolution). */
  thinnedTo: number | null = null

  constructor(readonly id: string) {}

  /** History from `runs.metrics`, then whatever streamed meanwhile. */
  setHistory(records: MetricRecord[], maxPoints: number): void {
    this.startHistory(records, maxPoints)
    this.append(records, false)
    this.endHistory()
  }

  /**
   * setHistory for a long history: in slices of a few thousand records, a task each, so reading
   * 20 000 records (or twenty runs' worth, in Compare) never blocks the main thread for long.
   */
  async loadHistory(records: MetricRecord[], maxPoints: number): Promise<void> {
    if (records.length <= HISTORY_SLICE) return this.setHistory(records, maxPoints)
    this.startHistory(records, maxPoints)
    // The first slice too waits for a task of its own: the one that received the records has
    // already parsed them.
    for (let i = 0; i < records.length; i += HISTORY_SLICE) {
      await new Promise((resolve) => setTimeout(resolve, 0))
      this.append(records.slice(i, i + HISTORY_SLICE), false)
    }
    this.endHistory()
  }

  private startHistory(records: MetricRecord[], maxPoints: number): void {
    this.stages.clear()
    // The host keeps every n-th record when there are more than maxPoints: then the result holds
    // over half of maxPoints and its steps jump.
    const gaps = records.some(
      (r, i) => i > 0 && r.stage === records[i - 1]!.stage && typeof r.step === 'number' && (r.step as number) - (records[i - 1]!.step as number) > 1
    )
    this.thinnedTo = records.length > maxPoints / 2 && gaps ? maxPoints : null
  }

  private endHistory(): void {
    const pending = this.pending ?? []
    this.pending = null
    this.loaded = true
    this.append(pending, false)
    this.revision.value++
    this.notify()
  }

  /** Streamed records (runs.metrics events). */
  push(records: MetricRecord[]): void {
    if (this.pending) {
      this.pending.push(...records)
      return
    }
    this.append(records, true)
  }

  private append(records: MetricRecord[], notify: boolean): void {
    let structural = false
    for (const rec of records) {
      const stage = typeof rec.stage === 'string' ? rec.stage : 'train'
      const step = typeof rec.step === 'number' ? rec.step : NaN
      if (!Number.isFinite(step)) continue
      let st = this.stages.get(stage)
      if (!st) {
        st = new StageSeries(stage)
        this.stages.set(stage, st)
        structural = true
      }
      // A resumed run repeats the steps after its last checkpoint: drop what it will redo.
      if (step <= st.lastStep) {
        for (const pts of st.series.values()) {
          let n = pts.length
          while (n > 0 && pts[n - 1]!.x >= step) n--
          pts.length = n
        }
        let n = st.steps.length
        while (n > 0 && st.steps[n - 1]! >= step) n--
        st.steps.length = n
        st.times.length = n
        st.edits++
      }
      st.lastStep = step
      st.steps.push(step)
      // t is Date.now() where the engine wrote it; 0 or absent means unknown.
      st.times.push(typeof rec.t === 'number' && rec.t > 0 ? rec.t : NaN)
      if (typeof rec.epoch === 'number') {
        st.lastEpoch = rec.epoch
        if (rec.epoch >= 1) st.minStepPerEpoch = Math.min(st.minStepPerEpoch, step / rec.epoch)
      }
      st.count++
      for (const k in rec) {
        if (NOT_METRICS.has(k)) continue
        const v = rec[k]
        if (typeof v !== 'number' || !Number.isFinite(v)) continue
        let pts = st.series.get(k)
        if (!pts) {
          pts = []
          st.series.set(k, pts)
          structural = true
        }
        pts.push({ x: step, y: v })
      }
    }
    if (structural) this.revision.value++
    if (notify && records.length) this.notify()
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  private notify(): void {
    for (const l of this.listeners) l()
  }

  /** Every point count, for tests and the UI's "n points" labels. */
  points(stage: string, key: string): number {
    return this.stages.get(stage)?.series.get(key)?.length ?? 0
  }
}

/** How metrics group into charts. Keys not named here go to "Other". */
export const CHART_GROUPS: { id: string; title: string; keys: (k: string) => boolean; y?: { min?: number; max?: number; log?: boolean } }[] = [
  { id: 'loss', title: 'Loss components', keys: (k) => ['loss', 'ce', 'mse', 'nce', 'ntxent', 'nt'].includes(k) || /^loss_/.test(k) },
  { id: 'accuracy', title: 'Rotation accuracy', keys: (k) => k === 'acc_rot' || /^acc_r\d$/.test(k) || k === 'acc', y: { min: 0, max: 1 } },
  { id: 'lr', title: 'Learning rate', keys: (k) => k === 'lr' },
  { id: 'throughput', title: 'Throughput (images/s)', keys: (k) => k === 'imagesPerSec' }
]
const GROUPED = (k: string): boolean => CHART_GROUPS.some((g) => g.keys(k)) || k === 'ms'

export function otherKeys(keys: string[]): string[] {
  return keys.filter((k) => !GROUPED(k))
}

const KEY_LABELS: Record<string, string> = {
  loss: 'total loss',
  ce: 'rotation CE',
  mse: 'invariance MSE',
  nce: 'NCE',
  ntxent: 'NT-Xent',
  acc_rot: 'all rotations',
  acc_r0: '0°',
  acc_r1: '90°',
  acc_r2: '180°',
  acc_r3: '270°',
  acc: 'accuracy',
  lr: 'learning rate',
  imagesPerSec: 'images/s',
  feat_std: 'feature std'
}
export function keyLabel(k: string): string {
  return KEY_LABELS[k] ?? k
}

/** Whether a smaller value is better (losses) or a larger one (accuracies, throughput). */
export function lowerIsBetter(k: string): boolean {
  return !(k.startsWith('acc') || k === 'imagesPerSec' || k === 'feat_std')
}

export interface Summary {
  last: number | null
  best: number | null
  min: number | null
  max: number | null
  n: number
}
export function summarize(pts: Point[] | undefined, key: string): Summary {
  if (!pts || !pts.length) return { last: null, best: null, min: null, max: null, n: 0 }
  let min = Infinity
  let max = -Infinity
  for (const p of pts) {
    if (p.y < min) min = p.y
    if (p.y > max) max = p.y
  }
  return { last: pts[pts.length - 1]!.y, best: lowerIsBetter(key) ? min : max, min, max, n: pts.length }
}
