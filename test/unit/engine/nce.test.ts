// NCE memory bank (lemniscate NCEAverage + NCECriterion) against plain-JS hand computations.
import { beforeAll, describe, expect, it } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import '@tensorflow/tfjs-backend-cpu'
import '../../../src-engine/tf-gradients' // tfjs-core alone registers no gradient functions
import { MemoryBank, sampleNegatives } from '../../../src-engine/losses/nce'
import { Rng } from '../../../src-shared/rng'

beforeAll(async () => {
  await tf.setBackend('cpu')
})

const N = 6
const DIM = 3
const K = 2
const T = 0.5
const MEM = [
  [0.2, -0.1, 0.9],
  [0.6, 0.6, -0.3],
  [-0.5, 0.4, 0.1],
  [0.0, -0.8, 0.5],
  [0.3, 0.3, 0.3],
  [-0.9, -0.2, -0.1]
]
const IDX = [1, 4]
// Row b = [positive, K negatives]; a duplicate and the positive itself among the negatives.
const SAMPLED = [1, 0, 5, 4, 2, 4]
const Z1 = [
  [0.6, 0.8, 0],
  [0, 0.6, -0.8]
]
const Z2 = [
  [0.8, 0, 0.6],
  [-0.6, 0, 0.8]
]

const dot = (u: number[], v: number[]): number => u.reduce((s, x, i) => s + x * (v[i] as number), 0)

/** Scores exp(m.z/T) per (b, slot), by hand. */
function expScores(z: number[][], mem = MEM): number[][] {
  return z.map((zb, b) => [0, 1, 2].map((k) => Math.exp(dot(mem[SAMPLED[b * 3 + k] as number] as number[], zb) / T)))
}
/** Z = mean(exp scores) * N. */
function zOf(e: number[][]): number {
  const flat = e.flat()
  return (flat.reduce((s, v) => s + v, 0) / flat.length) * N
}
/** NCECriterion with Pn = 1/N, written literally. */
function nceLossJs(e: number[][], Z: number): number {
  const kpn = K / N
  let s = 0
  for (const row of e) {
    const out = row.map((v) => v / Z)
    s += Math.log((out[0] as number) / ((out[0] as number) + kpn + 1e-7))
    for (let k = 1; k <= K; k++) s += Math.log(kpn / ((out[k] as number) + kpn + 1e-7))
  }
  return -s / e.length
}

function makeBank(opts: { reestimateZ?: boolean; momentum?: number } = {}): MemoryBank {
  return new MemoryBank({ size: N, dim: DIM, K, T, memory: Float32Array.from(MEM.flat()), ...opts })
}
function lossOf(bank: MemoryBank, z: number[][]): number {
  const zt = tf.tensor2d(z)
  const l = bank.loss(zt, IDX, Int32Array.from(SAMPLED))
  const v = l.dataSync()[0] as number
  tf.dispose([zt, l])
  return v
}

describe('MemoryBank.loss', () => {
  it('matches the hand-computed NCE loss (N=6, dim=3, K=2, fixed bank and negatives)', () => {
    const bank = makeBank()
    expect(bank.Z).toBeNull()
    const e = expScores(Z1)
    const Z = zOf(e)
    const v = lossOf(bank, Z1)
    expect(bank.Z).toBeCloseTo(Z, 4)
    expect(v).toBeCloseTo(nceLossJs(e, Z), 4)
  })

  it('fixes Z on the first forward and keeps it; reestimateZ recomputes it each call', () => {
    const bank = makeBank()
    lossOf(bank, Z1)
    const z1 = zOf(expScores(Z1))
    const e2 = expScores(Z2)
    const v2 = lossOf(bank, Z2)
    expect(bank.Z).toBeCloseTo(z1, 4)
    expect(v2).toBeCloseTo(nceLossJs(e2, z1), 4)

    const re = makeBank({ reestimateZ: true })
    lossOf(re, Z1)
    const v2r = lossOf(re, Z2)
    expect(re.Z).toBeCloseTo(zOf(e2), 4)
    expect(v2r).toBeCloseTo(nceLossJs(e2, zOf(e2)), 4)
    expect(Math.abs(zOf(e2) - z1)).toBeGreaterThan(0.1)
  })

  it('gradient flows into z and matches finite differences of the hand formula', () => {
    const bank = makeBank()
    lossOf(bank, Z1) // fix Z
    const Z = bank.Z as number
    const zt = tf.tensor2d(Z1)
    const g = tf
      .grad((x: tf.Tensor) => bank.loss(x as tf.Tensor2D, IDX, Int32Array.from(SAMPLED)))(zt)
      .arraySync() as number[][]
    const h = 1e-5
    for (let b = 0; b < 2; b++) {
      for (let d = 0; d < DIM; d++) {
        const up = Z1.map((r) => [...r])
        const dn = Z1.map((r) => [...r])
        ;(up[b] as number[])[d] = ((up[b] as number[])[d] as number) + h
        ;(dn[b] as number[])[d] = ((dn[b] as number[])[d] as number) - h
        const fd = (nceLossJs(expScores(up), Z) - nceLossJs(expScores(dn), Z)) / (2 * h)
        expect(g[b]?.[d]).toBeCloseTo(fd, 3)
      }
    }
    zt.dispose()
  })

  it('decreases under a few SGD steps on z (bank rows are constants)', () => {
    const bank = makeBank()
    const memBefore = Float32Array.from(bank.memory)
    const z = tf.variable(
      tf.tensor2d([
        [0.1, 0.2, 0.3],
        [0.3, -0.2, 0.1]
      ])
    )
    const sampled = Int32Array.from(SAMPLED)
    const f = (): tf.Scalar => tf.tidy(() => bank.loss(tf.div(z, tf.norm(z, 'euclidean', 1, true)) as tf.Tensor2D, IDX, sampled))
    const first = f()
    const l0 = first.dataSync()[0] as number
    first.dispose()
    const opt = tf.train.sgd(0.2)
    for (let i = 0; i < 5; i++) opt.minimize(f)
    const last = f()
    expect(last.dataSync()[0] as number).toBeLessThan(l0 - 0.01)
    expect(bank.memory).toEqual(memBefore)
    tf.dispose([z, last])
    opt.dispose()
  })

  it('allows K >= N (sampling with replacement) and samples negatives itself by default', () => {
    const bank = new MemoryBank({ size: 3, dim: 2, K: 5, seed: 11 })
    const z = tf.tensor2d([
      [1, 0],
      [0, 1]
    ])
    const l = bank.loss(z, [0, 2])
    expect(Number.isFinite(l.dataSync()[0] as number)).toBe(true)
    expect(bank.kOverN).toBeCloseTo(5 / 3, 9)
    tf.dispose([z, l])
  })

  it('validates z shape, index range and slot 0', () => {
    const bank = makeBank()
    const z = tf.tensor2d(Z1)
    const z4 = tf.zeros([2, 4]) as tf.Tensor2D
    expect(() => bank.loss(z4, IDX)).toThrow(/shape \[2, 3\]/)
    expect(() => bank.loss(z, IDX, Int32Array.from([1, 0, 6, 4, 2, 2]))).toThrow(/outside \[0, 6\)/)
    expect(() => bank.loss(z, IDX, Int32Array.from([0, 0, 5, 4, 2, 2]))).toThrow(/slot 0/)
    expect(() => bank.loss(z, IDX, Int32Array.from([1, 0]))).toThrow(/B\*\(K\+1\)/)
    tf.dispose([z, z4])
  })

  it('leaks no tensors', () => {
    const bank = makeBank()
    const z = tf.tensor2d(Z1)
    const before = tf.memory().numTensors
    bank.loss(z, IDX, Int32Array.from(SAMPLED)).dispose()
    bank.loss(z, IDX).dispose()
    bank.update(IDX, z)
    expect(tf.memory().numTensors).toBe(before)
    z.dispose()
  })
})

describe('MemoryBank.update', () => {
  it('m_y <- normalize(momentum*m_y + (1-momentum)*z), other rows untouched', () => {
    const bank = makeBank()
    const z = tf.tensor2d(Z1)
    bank.update(IDX, z)
    z.dispose()
    for (let y = 0; y < N; y++) {
      const row = Array.from(bank.memory.subarray(y * DIM, (y + 1) * DIM))
      const b = IDX.indexOf(y)
      if (b < 0) {
        row.forEach((v, d) => expect(v).toBeCloseTo(MEM[y]?.[d] as number, 6))
      } else {
        const mixed = (MEM[y] as number[]).map((m, d) => 0.5 * m + 0.5 * ((Z1[b] as number[])[d] as number))
        const n = Math.sqrt(dot(mixed, mixed))
        row.forEach((v, d) => expect(v).toBeCloseTo((mixed[d] as number) / n, 6))
      }
    }
  })

  it('uses the configured momentum, accepts a Float32Array, and the last duplicate wins', () => {
    const bank = makeBank({ momentum: 0.25 })
    bank.update([3, 3], Float32Array.from([1, 0, 0, 0, 0, 1]))
    const mixed = (MEM[3] as number[]).map((m, d) => 0.25 * m + 0.75 * [0, 0, 1][d]!)
    const n = Math.sqrt(dot(mixed, mixed))
    Array.from(bank.memory.subarray(9, 12)).forEach((v, d) => expect(v).toBeCloseTo((mixed[d] as number) / n, 6))
    expect(() => bank.update([6], Float32Array.from([1, 0, 0]))).toThrow(/outside \[0, 6\)/)
    expect(() => bank.update([0], Float32Array.from([1, 0]))).toThrow(/B\*dim/)
  })
})

describe('MemoryBank init, sampling and state', () => {
  it('initialises U(-s, s), s = 1/sqrt(dim/3), deterministically per seed', () => {
    const a = new MemoryBank({ size: 200, dim: 12, K: 4, seed: 3 })
    const b = new MemoryBank({ size: 200, dim: 12, K: 4, seed: 3 })
    const c = new MemoryBank({ size: 200, dim: 12, K: 4, seed: 4 })
    const s = 1 / Math.sqrt(12 / 3)
    let sum = 0
    let maxAbs = 0
    for (const v of a.memory) {
      sum += v
      maxAbs = Math.max(maxAbs, Math.abs(v))
    }
    expect(maxAbs).toBeLessThanOrEqual(s)
    expect(maxAbs).toBeGreaterThan(0.95 * s)
    expect(Math.abs(sum / a.memory.length)).toBeLessThan(0.02)
    expect(a.memory).toEqual(b.memory)
    expect(a.memory).not.toEqual(c.memory)
  })

  it('sampleNegatives: slot 0 = positive, negatives uniform over [0, N)', () => {
    const rng = new Rng(9)
    const out = sampleNegatives([2, 0, 4], 1000, 5, rng)
    expect(out.length).toBe(3 * 1001)
    expect([out[0], out[1001], out[2002]]).toEqual([2, 0, 4])
    const counts = [0, 0, 0, 0, 0]
    for (let b = 0; b < 3; b++) for (let k = 1; k <= 1000; k++) counts[out[b * 1001 + k] as number]! += 1
    for (const c of counts) expect(Math.abs(c - 600)).toBeLessThan(90)
    expect(() => sampleNegatives([5], 2, 5, rng)).toThrow(/outside \[0, 5\)/)
  })

  it('exportState / importState resumes memory, Z and the RNG exactly', () => {
    const a = new MemoryBank({ size: 10, dim: 4, K: 3, seed: 1 })
    const z = tf.tensor2d([
      [0.5, 0.5, 0.5, 0.5],
      [1, 0, 0, 0]
    ])
    a.loss(z, [1, 7]).dispose()
    a.update([1, 7], z)
    const st = a.exportState()
    const b = new MemoryBank({ size: 10, dim: 4, K: 3, seed: 99 })
    b.importState(st)
    expect(b.memory).toEqual(a.memory)
    expect(b.Z).toBe(a.Z)
    expect(b.sampleNegatives([3, 4])).toEqual(a.sampleNegatives([3, 4]))
    const la = a.loss(z, [2, 5])
    const lb = b.loss(z, [2, 5])
    expect(lb.dataSync()[0]).toBe(la.dataSync()[0])
    // The exported state is a copy.
    st.memory[0] = 123
    expect(a.memory[0]).not.toBe(123)
    const other = new MemoryBank({ size: 11, dim: 4, K: 3 })
    expect(() => other.importState(st)).toThrow(/state is 10x4/)
    tf.dispose([z, la, lb])
  })

  it('rejects T <= 0, K < 1 and bad sizes with the parameter and range named', () => {
    expect(() => new MemoryBank({ size: 6, dim: 3, K: 2, T: 0 })).toThrow(/T \(temperature\) must be a finite number > 0 \(got 0\)/)
    expect(() => new MemoryBank({ size: 6, dim: 3, K: 2, T: -1 })).toThrow(RangeError)
    expect(() => new MemoryBank({ size: 6, dim: 3, K: 0 })).toThrow(/K \(negatives per sample\) must be an integer >= 1 \(got 0\)/)
    expect(() => new MemoryBank({ size: 6, dim: 3, K: 1.5 })).toThrow(/K/)
    expect(() => new MemoryBank({ size: 0, dim: 3, K: 2 })).toThrow(/size \(N\) must be an integer >= 1/)
    expect(() => new MemoryBank({ size: 6, dim: 3, K: 2, momentum: 1 })).toThrow(/momentum must be in \[0, 1\)/)
    expect(() => new MemoryBank({ size: 6, dim: 3, K: 2, memory: new Float32Array(5) })).toThrow(/18 = size\*dim/)
  })

  it('reports the rows each loss call uses to MemoryBank.onSample, and replaying them gives the same loss', () => {
    const seen: Int32Array[] = []
    const a = new MemoryBank({ size: 10, dim: 4, K: 3, seed: 9 })
    const b = new MemoryBank({ size: 10, dim: 4, K: 3, seed: 9 })
    const z = tf.tensor2d([0.5, 0.5, 0.5, 0.5, 1, 0, 0, 0], [2, 4])
    MemoryBank.onSample = (s, bank) => {
      if (bank === a) seen.push(Int32Array.from(s))
    }
    try {
      const la = a.loss(z, [2, 5])
      expect(seen).toHaveLength(1)
      expect(seen[0]).toHaveLength(2 * 4)
      expect([seen[0]![0], seen[0]![4]]).toEqual([2, 5])
      const lb = b.loss(z, [2, 5], seen[0])
      expect(lb.dataSync()[0]).toBe(la.dataSync()[0])
      tf.dispose([la, lb])
    } finally {
      MemoryBank.onSample = null
    }
    const lc = a.loss(z, [2, 5])
    expect(seen).toHaveLength(1)
    tf.dispose([z, lc])
  })
})
