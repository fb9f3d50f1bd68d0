// The renderer's metric series: history then stream, resumed runs, summaries, decimation.
import { describe, expect, it } from 'vitest'
import { RunMetrics, otherKeys, summarize } from '../../../src-renderer/src/lib/metrics'
import { minMaxDecimate } from '../../../src-renderer/src/lib/decimate'
import { formatBytes, formatValue } from '../../../src-renderer/src/format'

describe('RunMetrics', () => {
  it('keeps records that stream in while the history loads, after it', () => {
    const m = new RunMetrics('r')
    m.push([{ stage: 'pretrain', step: 2, loss: 0.5 }])
    expect(m.points('pretrain', 'loss')).toBe(0)
    m.setHistory(
      [
        { stage: 'pretrain', step: 0, loss: 1 },
        { stage: 'pretrain', step: 1, loss: 0.7 }
      ],
      5000
    )
    expect(
      m.stages
        .get('pretrain')!
        .series.get('loss')!
        .map((p) => p.x)
    ).toEqual([0, 1, 2])
  })

  it('a long history loads in slices, a task each, with what streamed meanwhile after it', async () => {
    const m = new RunMetrics('r')
    let notified = 0
    m.subscribe(() => notified++)
    const loading = m.loadHistory(
      Array.from({ length: 6000 }, (_, step) => ({ stage: 'pretrain', step, loss: 1 })),
      20000
    )
    expect(m.points('pretrain', 'loss')).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(m.points('pretrain', 'loss')).toBeGreaterThan(0)
    expect(m.loaded).toBe(false)
    m.push([{ stage: 'pretrain', step: 6000, loss: 0.5 }])
    await loading
    expect(m.loaded).toBe(true)
    expect(m.points('pretrain', 'loss')).toBe(6001)
    expect(m.stages.get('pretrain')!.steps.at(-1)).toBe(6000)
    expect(notified).toBe(1)
  })

  it('a resumed run that repeats steps replaces them instead of drawing them twice', () => {
    const m = new RunMetrics('r')
    m.setHistory(
      [0, 1, 2, 3, 4].map((step) => ({ stage: 'pretrain', step, loss: 1 - step / 10 })),
      5000
    )
    let notified = 0
    m.subscribe(() => notified++)
    m.push([{ stage: 'pretrain', step: 3, loss: 0.1 }])
    expect(
      m.stages
        .get('pretrain')!
        .series.get('loss')!
        .map((p) => [p.x, p.y])
    ).toEqual([
      [0, 1],
      [1, 0.9],
      [2, 0.8],
      [3, 0.1]
    ])
    expect(notified).toBe(1)
  })

  it('summaries pick the best by the metric kind; ungrouped keys go to "Other"', () => {
    const pts = [
      { x: 0, y: 0.3 },
      { x: 1, y: 0.9 },
      { x: 2, y: 0.6 }
    ]
    expect(summarize(pts, 'acc_rot')).toEqual({ last: 0.6, best: 0.9, min: 0.3, max: 0.9, n: 3 })
    expect(summarize(pts, 'loss').best).toBe(0.3)
    expect(summarize(undefined, 'loss').n).toBe(0)
    expect(otherKeys(['loss', 'acc_r2', 'lr', 'feat_std', 'ms'])).toEqual(['feat_std'])
  })
})

describe('minMaxDecimate', () => {
  it('keeps the first and last points and every spike, in x order, within the bucket budget', () => {
    const src = Array.from({ length: 10_000 }, (_, x) => ({ x, y: Math.sin(x / 100) }))
    src[4321]!.y = 50
    src[7777]!.y = -50
    const out = minMaxDecimate(src, 100)
    expect(out.length).toBeLessThanOrEqual(202)
    expect(out[0]).toBe(src[0])
    expect(out.at(-1)).toBe(src.at(-1))
    expect(out).toContain(src[4321])
    expect(out).toContain(src[7777])
    expect(out.every((p, i) => i === 0 || p.x >= out[i - 1]!.x)).toBe(true)
    expect(minMaxDecimate(src.slice(0, 50), 100)).toHaveLength(50)
  })
})

describe('formatting', () => {
  it('formats metric values and byte counts', () => {
    expect(formatValue(0.123456)).toBe('0.1235')
    expect(formatValue(1.9e-5)).toBe('1.90e-5')
    expect(formatValue(123.45)).toBe('123.5')
    expect(formatValue(null)).toBe('—')
    expect(formatValue(Number.NaN)).toBe('—')
    expect(formatBytes(512)).toBe('512 B')
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB')
  })
})
