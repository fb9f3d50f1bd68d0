// Pure logic behind comparable curves: TensorBoard's debiased exponential moving average, the
// x axis a curve is drawn against (step, epoch or wall time), per-run colours that stay put while
// runs come and go, and nearest-point lookup for tooltips. No Vue, no Chart.js, no DOM, so the
// charts and the unit tests share one definition of each.
import type { Point, RunMetrics } from './metrics'

/** One curve: a metric of a stage of a run, drawn in a colour under a legend label. */
export interface CurveSpec {
  id: string
  label: string
  color: string
  metrics: RunMetrics
  stage: string
  key: string
}

export type XAxis = 'step' | 'epoch' | 'time'
export const X_AXES: { id: XAxis; label: string }[] = [
  { id: 'step', label: 'step' },
  { id: 'epoch', label: 'epoch' },
  { id: 'time', label: 'wall time' }
]

/** The slider's range: 1 would freeze the curve at its first value. */
export const MAX_SMOOTHING = 0.99

/**
 * TensorBoard's smoothing: an exponential moving average started at 0 and divided by
 * (1 - weight^n), so its first values are not dragged towards 0 (the bias a plain EMA started at
 * 0 has). Non-finite values pass through without touching the average; a curve whose values are
 * all equal stays exactly equal (no 0.00999999 for a constant 0.01). Values only, in a typed
 * array: a slider drag smooths every overlaid curve again, and 200 000 point objects a frame
 * would keep the garbage collector busy.
 */
export function emaValues(src: readonly Point[], weight: number): Float64Array {
  const w = Math.min(Math.max(weight, 0), MAX_SMOOTHING)
  const out = new Float64Array(src.length)
  let last = 0
  let wn = 1
  let first = 0
  let seen = false
  let constant = true
  for (let i = 0; i < src.length; i++) {
    const y = src[i]!.y
    if (!Number.isFinite(y)) {
      out[i] = y
      continue
    }
    if (!seen) {
      first = y
      seen = true
    } else if (y !== first) constant = false
    last = last * w + (1 - w) * y
    wn *= w
    out[i] = constant || w === 0 ? y : last / (1 - wn)
  }
  return out
}

/** The smoothed curve as points (see emaValues). */
export function emaSmooth(src: readonly Point[], weight: number): Point[] {
  const ys = emaValues(src, weight)
  return src.map((p, i) => ({ x: p.x, y: ys[i]! }))
}

/**
 * The smoothed curve to draw: its value at every point (`ys`, for tooltips) and the points of its
 * line, one per bucket at the bucket's mean past 2 × buckets points (plus the exact first and
 * last). Min-max buckets suit a raw curve, whose spikes must show; drawn that way a smoothed curve
 * zig-zags with the very noise smoothing removed.
 */
export function smoothedLine(src: readonly Point[], weight: number, buckets: number): { ys: Float64Array; points: Point[] } {
  const ys = emaValues(src, weight)
  const n = src.length
  if (n <= buckets * 2 + 2) return { ys, points: src.map((p, i) => ({ x: p.x, y: ys[i]! })) }
  const points: Point[] = [{ x: src[0]!.x, y: ys[0]! }]
  for (let b = 0; b < buckets; b++) {
    const lo = Math.max(1, Math.floor((b * n) / buckets))
    const hi = Math.min(n - 1, Math.floor(((b + 1) * n) / buckets))
    let sx = 0
    let sy = 0
    let k = 0
    for (let i = lo; i < hi; i++) {
      const y = ys[i]!
      if (!Number.isFinite(y)) continue
      sx += src[i]!.x
      sy += y
      k++
    }
    if (k) points.push({ x: sx / k, y: sy / k })
  }
  points.push({ x: src[n - 1]!.x, y: ys[n - 1]! })
  return { ys, points }
}

/** What a stage knows about its records for mapping steps onto another axis. */
export interface StageClock {
  /** Step of every record, ascending. */
  steps: readonly number[]
  /** Wall time (ms since the epoch) of every record, NaN where a record has none. */
  times: readonly number[]
  /** Optimisation steps per epoch. */
  stepsPerEpoch: number
}

/**
 * Points against another x axis. Epoch: step / steps per epoch, so epoch e starts at x = e and
 * its steps fill [e, e + 1). Wall time: seconds since the stage's first timed record, found by
 * walking the series and the stage's records together (both are in step order). Points with no
 * time are left out; so are values a log-scale axis cannot show (0 and below).
 */
export function mapX(src: readonly Point[], axis: XAxis, clock: StageClock, logY = false): Point[] {
  const keep = (y: number): boolean => !logY || y > 0
  if (axis === 'step') return logY ? src.filter((p) => keep(p.y)) : (src as Point[])
  const out: Point[] = []
  if (axis === 'epoch') {
    const spe = clock.stepsPerEpoch > 0 ? clock.stepsPerEpoch : 1
    for (const p of src) if (keep(p.y)) out.push({ x: p.x / spe, y: p.y })
    return out
  }
  const t0 = firstTime(clock.times)
  if (t0 === null) return out
  let j = 0
  for (const p of src) {
    while (j < clock.steps.length && clock.steps[j]! < p.x) j++
    if (j >= clock.steps.length) break
    if (clock.steps[j] !== p.x) continue
    const t = clock.times[j]!
    if (Number.isFinite(t) && keep(p.y)) out.push({ x: (t - t0) / 1000, y: p.y })
  }
  return out
}

function firstTime(times: readonly number[]): number | null {
  for (const t of times) if (Number.isFinite(t)) return t
  return null
}

/**
 * Steps per epoch from (step, epoch) pairs, as the trainer numbers them: step = epoch × S + step
 * in epoch, so step / epoch ≥ S with equality at an epoch's first step; the smallest ratio seen
 * is S, or close above it when the history was thinned. Before a second epoch starts, the steps
 * seen so far are the best guess.
 */
export function stepsPerEpoch(minRatio: number, lastStep: number): number {
  if (Number.isFinite(minRatio) && minRatio > 0) return minRatio
  return Number.isFinite(lastStep) && lastStep >= 0 ? lastStep + 1 : 1
}

/** Index of the point whose x is nearest to `x` (points in ascending x), or -1 when there is none. */
export function nearestIndex(points: readonly { x: number }[], x: number): number {
  const n = points.length
  if (!n) return -1
  let lo = 0
  let hi = n - 1
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (points[mid]!.x < x) lo = mid + 1
    else hi = mid
  }
  if (lo > 0 && Math.abs(points[lo - 1]!.x - x) <= Math.abs(points[lo]!.x - x)) return lo - 1
  return lo
}

/**
 * Twenty colours readable on the light and the dark theme: Tableau 10, then ten more of other
 * hues and darkness, so up to twenty overlaid runs never share a colour.
 */
export const RUN_COLORS = [
  '#4e79a7',
  '#f28e2b',
  '#e15759',
  '#59a14f',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#ff9da7',
  '#9c755f',
  '#bab0ac',
  '#1f4e9c',
  '#c25a00',
  '#8c1d40',
  '#2e7d32',
  '#6a3d9a',
  '#00838f',
  '#9e9d24',
  '#d81b60',
  '#5d4037',
  '#546e7a'
]

/**
 * A colour per run that does not move when other runs join or leave the comparison: runs keep
 * their previous colour, new ones take the first colour nobody holds (cycling only past
 * RUN_COLORS.length runs). Returns palette indices.
 */
export function assignColors(ids: readonly string[], previous: ReadonlyMap<string, number> = new Map()): Map<string, number> {
  const out = new Map<string, number>()
  const used = new Set<number>()
  for (const id of ids) {
    const c = previous.get(id)
    if (c !== undefined && !used.has(c)) {
      out.set(id, c)
      used.add(c)
    }
  }
  let next = 0
  for (const id of ids) {
    if (out.has(id)) continue
    while (used.has(next % RUN_COLORS.length) && used.size < RUN_COLORS.length) next++
    const c = next % RUN_COLORS.length
    out.set(id, c)
    used.add(c)
    next++
  }
  return out
}

/** A colour at the given opacity (for the raw line drawn faint behind its smoothed one). */
export function withAlpha(hex: string, alpha: number): string {
  const a = Math.round(Math.min(Math.max(alpha, 0), 1) * 255)
  return hex + a.toString(16).padStart(2, '0')
}

/** Seconds as a short duration for axis ticks and tooltips: "45 s", "12:05", "2:03:10". */
export function formatElapsed(sec: number): string {
  if (!Number.isFinite(sec)) return '—'
  const s = Math.max(0, sec)
  if (s < 60) return `${+s.toFixed(s < 10 ? 1 : 0)} s`
  const total = Math.round(s)
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const r = total % 60
  const mm = h ? String(m).padStart(2, '0') : String(m)
  return `${h ? `${h}:` : ''}${mm}:${String(r).padStart(2, '0')}`
}

/**
 * A log-scale axis label: only at 1, 2 and 5 times a power of ten (the others stay unlabelled, as
 * Chart.js's own formatter leaves them; `every` labels them too, for an axis too short to hold
 * two of those), short ("0.3", "20", "1e-5" rather than 1.000000000E-5).
 */
export function formatLogTick(v: number, every = false): string {
  if (!(v > 0)) return ''
  const exp = Math.floor(Math.log10(v) + 1e-9)
  const lead = Math.round(v / 10 ** exp)
  if (!every && lead !== 1 && lead !== 2 && lead !== 5) return ''
  if (exp < -3 || exp > 5) return `${lead}e${exp}`
  return String(Number((lead * 10 ** exp).toPrecision(1)))
}

/** The x value as a tooltip's title names it. */
export function formatX(axis: XAxis, x: number): string {
  if (axis === 'step') return `step ${Math.round(x).toLocaleString()}`
  if (axis === 'epoch') return `epoch ${x.toFixed(2)}`
  return `wall time ${formatElapsed(x)}`
}

const PROBE_STAGE = /^(linear|nonlinear):(.+)$/

/** Whether a stage's records are an evaluation probe's training ("<protocol>:<dataset>", see src-engine/pipeline.ts). */
export function isProbeStage(stage: string): boolean {
  return PROBE_STAGE.test(stage)
}

/** A stage's name for people: "linear probe · <dataset>" for a probe's. */
export function stageLabel(stage: string): string {
  const m = PROBE_STAGE.exec(stage)
  if (!m) return stage
  return `${m[1] === 'linear' ? 'linear probe' : 'non-linear probe'} · ${m[2]}`
}

/**
 * What the curves panel says while a run has no training metrics. A random-init run trains no
 * backbone: only its probes (if any) draw curves, so "the first step" would promise curves that
 * may never come.
 */
export function noCurvesText(method: string | undefined, state: string | undefined): string {
  if (method === 'random-init') {
    return state === 'queued' || state === 'running' || state === 'paused'
      ? 'Random init: no backbone is trained, so there are no pretraining curves; a probe’s curves appear once it trains.'
      : 'Random init: no backbone was trained, so this run has no pretraining curves (its probes’ results are under Evaluations).'
  }
  if (method === 'imported') {
    return state === 'queued' || state === 'running' || state === 'paused'
      ? 'Imported backbone, evaluated frozen: nothing is trained but the probes, whose curves appear once they train.'
      : 'Imported backbone, evaluated frozen: this run trained no backbone (its probes’ results are under Evaluations).'
  }
  return 'No training metrics yet: curves appear with the first step.'
}
