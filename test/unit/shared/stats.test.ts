// Wilson intervals, group spread and Welch's test against values worked out by hand from the
// textbook formulas (Wilson 1927; Welch 1947), so the results table's uncertainty is the
// statistics a reader expects.
import { describe, expect, it } from 'vitest'
import { mean, sampleSd, studentTwoSidedP, welch, wilson } from '../../../src-shared/stats'

describe('wilson', () => {
  it('9 of 9 correct is not "100 %": the interval reaches down to 70.1 %', () => {
    // centre = (1 + z²/18) / (1 + z²/9) = 0.85043, half-width = z/(1 + z²/9) · √(z²/324) = 0.14957
    const w = wilson(1, 9)
    expect(w.low).toBeCloseTo(0.700855, 5)
    expect(w.high).toBe(1)
  })

  it('65.8 % of 500: [61.54 %, 69.82 %]', () => {
    // centre = (0.658 + z²/1000) / (1 + z²/500) = 0.656795, half-width = 0.041439
    const w = wilson(0.658, 500)
    expect(w.low).toBeCloseTo(0.615356, 5)
    expect(w.high).toBeCloseTo(0.698234, 5)
  })

  it('0 of 10 and 5 of 10', () => {
    expect(wilson(0, 10).low).toBe(0)
    expect(wilson(0, 10).high).toBeCloseTo(0.277533, 5)
    expect(wilson(0.5, 10).low).toBeCloseTo(0.236593, 5)
    expect(wilson(0.5, 10).high).toBeCloseTo(0.763407, 5)
  })

  it('rounds the stored fraction to a count of images', () => {
    expect(wilson(0.658000001, 500)).toEqual(wilson(0.658, 500))
  })
})

describe('group statistics', () => {
  it('mean and sample standard deviation', () => {
    expect(mean([60, 62, 64])).toBe(62)
    expect(sampleSd([60, 62, 64])).toBeCloseTo(2, 12)
    expect(sampleSd([60])).toBe(0)
  })

  it("Student's t, two-sided: t = 2 on 10 degrees of freedom gives p = 0.0734", () => {
    expect(studentTwoSidedP(2, 10)).toBeCloseTo(0.073388, 5)
    expect(studentTwoSidedP(0, 5)).toBeCloseTo(1, 12)
  })

  it('Welch: {1,2,3} against {4,5,6}: t = −3.674, df = 4, p = 0.0213', () => {
    const w = welch([1, 2, 3], [4, 5, 6])
    expect(w.t).toBeCloseTo(-3.674235, 5)
    expect(w.df).toBeCloseTo(4, 9)
    expect(w.p).toBeCloseTo(0.021312, 5)
  })

  it('Welch with unequal spreads uses the Welch–Satterthwaite degrees of freedom', () => {
    // va = 1/3, vb = 16/3 → se² = 17/3, df = (17/3)² / ((1/9 + 256/9) / 2) = 2.2490
    const w = welch([1, 2, 3], [2, 6, 10])
    expect(w.df).toBeCloseTo(2.249027, 5)
    expect(w.t).toBeCloseTo(-4 / Math.sqrt(17 / 3), 9)
  })
})
