// Comparable curves' pure logic: TensorBoard's debiased EMA, the step / epoch / wall-time axes a
// run's records map onto, per-run colours that stay put, tooltip precision and lookup.
import { describe, expect, it } from 'vitest'
import {
  RUN_COLORS,
  assignColors,
  emaSmooth,
  formatElapsed,
  formatLogTick,
  smoothedLine,
  formatX,
  isProbeStage,
  noCurvesText,
  mapX,
  nearestIndex,
  stageLabel,
  withAlpha
} from '../../../src-renderer/src/lib/curves'
import { RunMetrics, type Point } from '../../../src-renderer/src/lib/metrics'
import { formatPrecise } from '../../../src-renderer/src/format'

const pts = (ys: number[]): Point[] => ys.map((y, x) => ({ x, y }))

describe('emaSmooth', () => {
  it('is TensorBoard’s debiased EMA: the first value is kept, later ones are averaged without a pull towards 0', () => {
    const out = emaSmooth(pts([1, 2, 3]), 0.6)
    expect(out.map((p) => p.x)).toEqual([0, 1, 2])
    expect(out[0]!.y).toBeCloseTo(1, 12)
    // (0.6·0.4·1 + 0.4·2) / (1 − 0.6²) and (0.6²·0.4·1 + 0.6·0.4·2 + 0.4·3) / (1 − 0.6³)
    expect(out[1]!.y).toBeCloseTo(1.625, 12)
    expect(out[2]!.y).toBeCloseTo(1.824 / 0.784, 12)
  })

  it('a weight of 0 leaves the curve as it is; the output stays within the input’s range', () => {
    const src = pts([3, 1, 4, 1, 5, 9, 2, 6])
    expect(emaSmooth(src, 0)).toEqual(src)
    for (const w of [0.3, 0.9, 0.99]) {
      for (const p of emaSmooth(src, w)) {
        expect(p.y).toBeGreaterThanOrEqual(1 - 1e-12)
        expect(p.y).toBeLessThanOrEqual(9 + 1e-12)
      }
    }
  })

  it('a constant curve stays exactly constant, and non-finite values pass through without touching the average', () => {
    expect(emaSmooth(pts([0.01, 0.01, 0.01, 0.01]), 0.9).map((p) => p.y)).toEqual([0.01, 0.01, 0.01, 0.01])
    const out = emaSmooth(pts([1, NaN, 3]), 0.5)
    expect(out[1]!.y).toBeNaN()
    // As if the NaN were not there: (0.5·0.5·1 + 0.5·3) / (1 − 0.25)
    expect(out[2]!.y).toBeCloseTo((0.25 + 1.5) / 0.75, 12)
  })

  it('heavy smoothing follows a noisy decreasing curve’s trend', () => {
    const src = Array.from({ length: 2000 }, (_, x) => ({ x, y: Math.exp(-x / 500) + (x % 2 ? 0.2 : -0.2) }))
    const out = emaSmooth(src, 0.95)
    expect(Math.abs(out[1999]!.y - Math.exp(-1999 / 500))).toBeLessThan(0.05)
  })
})

describe('smoothedLine', () => {
  it('keeps the smoothed value of every point, and draws a long curve as bucket means between its exact ends', () => {
    const src = Array.from({ length: 10_000 }, (_, x) => ({ x, y: Math.exp(-x / 3000) + Math.sin(x * 12.9898) * 0.3 }))
    const { ys, points } = smoothedLine(src, 0.95, 100)
    expect(Array.from(ys)).toEqual(emaSmooth(src, 0.95).map((p) => p.y))
    expect(points).toHaveLength(102)
    expect(points[0]).toEqual({ x: 0, y: ys[0] })
    expect(points.at(-1)).toEqual({ x: 9999, y: ys[9999] })
    // Ascending x, and a smooth line: no zig-zag left from the noise.
    for (let i = 1; i < points.length; i++) expect(points[i]!.x).toBeGreaterThan(points[i - 1]!.x)
    for (let i = 2; i < points.length - 1; i++) expect(points[i]!.y).toBeLessThan(points[i - 1]!.y + 0.01)
  })

  it('a short curve is drawn point for point', () => {
    const src = pts([1, 2, 3])
    expect(smoothedLine(src, 0.6, 100).points).toEqual(emaSmooth(src, 0.6))
  })
})

describe('x axes', () => {
  function run(): RunMetrics {
    const m = new RunMetrics('r')
    // 4 steps per epoch, 3 epochs; a record every 10 s; lr only on even steps.
    m.setHistory(
      Array.from({ length: 12 }, (_, step) => ({
        stage: 'pretrain',
        step,
        epoch: Math.floor(step / 4),
        t: 1_700_000_000_000 + step * 10_000,
        loss: 2 - step / 10,
        ...(step % 2 ? {} : { lr: 0.1 })
      })),
      5000
    )
    return m
  }

  it('epoch: steps over steps-per-epoch, read off the records, so epoch e starts at x = e', () => {
    const st = run().stages.get('pretrain')!
    expect(st.stepsPerEpoch).toBe(4)
    expect(mapX(st.series.get('loss')!, 'epoch', st).map((p) => p.x)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.75, 2, 2.25, 2.5, 2.75])
  })

  it('epoch: a thinned history still finds the steps per epoch; a first epoch uses the steps so far', () => {
    const m = new RunMetrics('r')
    m.setHistory(
      [0, 3, 6, 9, 12, 15, 18, 21].map((step) => ({ stage: 'pretrain', step, epoch: Math.floor(step / 4), loss: 1 })),
      5000
    )
    expect(m.stages.get('pretrain')!.stepsPerEpoch).toBe(4)
    const first = new RunMetrics('f')
    first.setHistory(
      [0, 1, 2].map((step) => ({ stage: 'pretrain', step, epoch: 0, loss: 1 })),
      5000
    )
    expect(first.stages.get('pretrain')!.stepsPerEpoch).toBe(3)
  })

  it('wall time: seconds since the stage’s first record, for a key some records lack; untimed records drop out', () => {
    const st = run().stages.get('pretrain')!
    expect(mapX(st.series.get('lr')!, 'time', st).map((p) => p.x)).toEqual([0, 20, 40, 60, 80, 100])
    const m = new RunMetrics('old')
    m.setHistory(
      [
        { stage: 'pretrain', step: 0, t: 0, loss: 1 },
        { stage: 'pretrain', step: 1, loss: 1 }
      ],
      5000
    )
    const old = m.stages.get('pretrain')!
    expect(mapX(old.series.get('loss')!, 'time', old)).toEqual([])
  })

  it('a log-scale y leaves out values it cannot draw; step is the series itself', () => {
    const st = run().stages.get('pretrain')!
    const loss = st.series.get('loss')!
    expect(mapX(loss, 'step', st)).toBe(loss)
    loss.push({ x: 12, y: 0 }, { x: 13, y: -1 })
    expect(mapX(loss, 'step', st, true)).toHaveLength(12)
  })

  it('a resumed run cuts the records’ steps and times with its points, and says so', () => {
    const m = run()
    const st = m.stages.get('pretrain')!
    const edits = st.edits
    m.push([{ stage: 'pretrain', step: 8, epoch: 2, t: 1_800_000_000_000, loss: 0.1 }])
    expect(st.steps).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8])
    expect(st.times.at(-1)).toBe(1_800_000_000_000)
    expect(st.edits).toBe(edits + 1)
    expect(mapX(st.series.get('loss')!, 'time', st).at(-1)).toEqual({ x: 100_000_000, y: 0.1 })
  })

  it('tooltips name x in the axis’ own terms', () => {
    expect(formatX('step', 1234)).toBe('step 1,234')
    expect(formatX('epoch', 2.345)).toBe('epoch 2.35')
    expect(formatX('time', 3723)).toBe('wall time 1:02:03')
    expect(formatElapsed(42)).toBe('42 s')
    expect(formatElapsed(2.5)).toBe('2.5 s')
    expect(formatElapsed(125)).toBe('2:05')
  })

  it('a log-scale axis labels 1, 2 and 5 times powers of ten, shortly', () => {
    expect([1e-5, 2e-5, 3e-5, 5e-4, 0.3, 0.5, 1, 20, 70, 5000, 1e7].map((v) => formatLogTick(v))).toEqual([
      '1e-5',
      '2e-5',
      '',
      '5e-4',
      '',
      '0.5',
      '1',
      '20',
      '',
      '5000',
      '1e7'
    ])
    expect(formatLogTick(0)).toBe('')
    expect(formatLogTick(0.6, true)).toBe('0.6')
  })
})

describe('run colours', () => {
  it('twenty runs get twenty different colours', () => {
    const ids = Array.from({ length: 20 }, (_, i) => `run-${i}`)
    const c = assignColors(ids)
    expect(new Set(ids.map((id) => RUN_COLORS[c.get(id)!])).size).toBe(20)
  })

  it('a run keeps its colour when another leaves, and a newcomer takes a free one', () => {
    const first = assignColors(['a', 'b', 'c'])
    const second = assignColors(['a', 'c', 'd'], first)
    expect(second.get('a')).toBe(first.get('a'))
    expect(second.get('c')).toBe(first.get('c'))
    expect(second.get('d')).toBe(first.get('b'))
    expect(withAlpha('#4e79a7', 0.25)).toBe('#4e79a740')
  })
})

describe('tooltips', () => {
  it('print values at full precision: four significant digits, an exponent for the tiny', () => {
    expect(formatPrecise(1.9e-5)).toBe('1.900e-5')
    expect(formatPrecise(0.01)).toBe('0.01000')
    expect(formatPrecise(0.123456)).toBe('0.1235')
    expect(formatPrecise(1.3862944)).toBe('1.386')
    expect(formatPrecise(1612.34)).toBe('1612')
    expect(formatPrecise(0)).toBe('0')
    expect(formatPrecise(null)).toBe('—')
  })

  it('find the point nearest an x by binary search', () => {
    const p = [0, 2, 4, 10].map((x) => ({ x }))
    expect(nearestIndex(p, -5)).toBe(0)
    expect(nearestIndex(p, 2.9)).toBe(1)
    expect(nearestIndex(p, 3.1)).toBe(2)
    expect(nearestIndex(p, 99)).toBe(3)
    expect(nearestIndex([], 1)).toBe(-1)
  })

  it('probe stages read as protocol and dataset', () => {
    expect(stageLabel('linear:sample (10 classes, 32px, seed 2)')).toBe('linear probe · sample (10 classes, 32px, seed 2)')
    expect(stageLabel('nonlinear:cifar')).toBe('non-linear probe · cifar')
    expect(stageLabel('finetune')).toBe('finetune')
    expect(['pretrain', 'finetune', 'linear:sample', 'nonlinear:x'].map(isProbeStage)).toEqual([false, false, true, true])
  })
})

describe('the curves panel with no metrics', () => {
  it('a random-init run is not promised curves "with the first step"', () => {
    for (const state of ['queued', 'running', 'done', 'failed']) {
      const t = noCurvesText('random-init', state)
      expect(t).not.toMatch(/first step/)
      expect(t).toMatch(/random init/i)
    }
    expect(noCurvesText('rotnet', 'running')).toMatch(/first step/)
    expect(noCurvesText(undefined, undefined)).toMatch(/first step/)
  })
})
