import { describe, expect, it } from 'vitest'
import { classSeparation } from '../../../src-shared/report/map-separation'

/** Two classes of `per` points each on small circles around (cx, 0). */
function twoBlobs(per: number, apart: number, mixed: boolean): { xy: Float32Array; labels: Int32Array } {
  const xy = new Float32Array(4 * per)
  const labels = new Int32Array(2 * per)
  for (let i = 0; i < 2 * per; i++) {
    const blob = i < per ? 0 : 1
    const a = (2 * Math.PI * (i % per)) / per
    xy[2 * i] = blob * apart + Math.cos(a)
    xy[2 * i + 1] = Math.sin(a)
    labels[i] = mixed ? i % 2 : blob
  }
  return { xy, labels }
}

describe('classSeparation', () => {
  it('is 1 when each class is its own cluster', () => {
    const { xy, labels } = twoBlobs(20, 100, false)
    expect(classSeparation(xy, labels, 10)).toBe(1)
  })
  it('is about a half when two classes alternate around the same circles', () => {
    const { xy, labels } = twoBlobs(20, 100, true)
    // Neighbours along a circle alternate class: the 10 nearest are 6 of one class, 4 of the other or so.
    const s = classSeparation(xy, labels, 10)
    expect(s).toBeGreaterThan(0.3)
    expect(s).toBeLessThan(0.7)
  })
  it('counts the k nearest by hand on a line', () => {
    // Points 0..5 on a line, labels a a b b b a; k = 2.
    const xy = [0, 0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0]
    const labels = [0, 0, 1, 1, 1, 0]
    // 0: {1,2} -> 1/2; 1: {0,2} -> 1/2; 2: {1,3} -> 1/2; 3: {2,4} -> 1; 4: {3,5} -> 1/2; 5: {4,3} -> 0
    expect(classSeparation(xy, labels, 2)).toBeCloseTo((0.5 + 0.5 + 0.5 + 1 + 0.5 + 0) / 6, 10)
  })
  it('scores a stride of the points when there are many, and is NaN under two points', () => {
    const { xy, labels } = twoBlobs(500, 100, false)
    expect(classSeparation(xy, labels, 10, 50)).toBe(1)
    expect(classSeparation([0, 0], [0], 10)).toBeNaN()
  })
})
