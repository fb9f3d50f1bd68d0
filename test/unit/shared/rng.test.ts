// Seeded PRNG: determinism, checkpoint state round-trip, ranges and rough distribution moments.
import { describe, expect, it } from 'vitest'
import { Rng } from '../../../src-shared/rng'

describe('Rng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new Rng(42)
    const b = new Rng(42)
    const c = new Rng(43)
    const sa = Array.from({ length: 20 }, () => a.nextUint32())
    const sb = Array.from({ length: 20 }, () => b.nextUint32())
    const sc = Array.from({ length: 20 }, () => c.nextUint32())
    expect(sa).toEqual(sb)
    expect(sa).not.toEqual(sc)
    for (const v of sa) expect(Number.isInteger(v) && v >= 0 && v < 2 ** 32).toBe(true)
  })

  it('getState/setState resumes the exact sequence (uniform, int and normal)', () => {
    const r = new Rng(7)
    for (let i = 0; i < 5; i++) r.uniform()
    const s = r.getState()
    const first = [r.uniform(), r.int(1000), r.normal(), r.int(3)]
    const q = new Rng(999)
    q.setState(s)
    expect([q.uniform(), q.int(1000), q.normal(), q.int(3)]).toEqual(first)
  })

  it('uniform is in [0,1) with mean ~1/2; int(n) covers [0,n) evenly', () => {
    const r = new Rng(1)
    let sum = 0
    let outside = 0
    const n = 20000
    for (let i = 0; i < n; i++) {
      const u = r.uniform()
      if (!(u >= 0 && u < 1)) outside++
      sum += u
    }
    expect(outside).toBe(0)
    expect(sum / n).toBeCloseTo(0.5, 1)
    const counts = new Array<number>(6).fill(0)
    for (let i = 0; i < 6000; i++) {
      const k = r.int(6)
      counts[k] = (counts[k] as number) + 1
    }
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150)
    expect(new Rng(3).int(1)).toBe(0)
  })

  it('normal has mean ~0 and variance ~1', () => {
    const r = new Rng(5)
    const n = 20000
    let s = 0
    let s2 = 0
    let bad = 0
    for (let i = 0; i < n; i++) {
      const v = r.normal()
      if (!Number.isFinite(v)) bad++
      s += v
      s2 += v * v
    }
    expect(bad).toBe(0)
    expect(Math.abs(s / n)).toBeLessThan(0.05)
    expect(Math.abs(s2 / n - 1)).toBeLessThan(0.05)
  })

  it('rejects a bad n and non-finite seeds', () => {
    const r = new Rng(0)
    expect(() => r.int(0)).toThrow(/n must be an integer in \[1, 2\^32\]/)
    expect(() => r.int(2.5)).toThrow(RangeError)
    expect(() => new Rng(Number.NaN)).toThrow(/seed/)
    expect(() => r.setState(Infinity)).toThrow(/state/)
  })
})
