// Tiny seeded PRNG (mulberry32, by Tommy Ettinger; public domain) for reproducible sampling on
// the JS side: NCE negatives, memory-bank init, shuffles. Not cryptographic.
//
// The whole state is ONE uint32, so a checkpoint stores `getState()` and a resumed run calls
// `setState(s)` to continue the exact same sequence. `normal()` uses Box-Muller without caching
// the spare value, so there is no hidden state beyond that integer.
//
// Errors: RangeError from the constructor/setState for a non-finite seed, and from `int(n)` when
// n is not an integer in [1, 2^32].

const TWO_32 = 4294967296

export class Rng {
  private s: number

  /** `seed` is any finite number; it is reduced to a uint32 (seed >>> 0). */
  constructor(seed = 0x2545f491) {
    this.s = toUint32(seed, 'seed')
  }

  /** Next raw 32-bit unsigned integer. */
  nextUint32(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0
    let t = this.s
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (t ^ (t >>> 14)) >>> 0
  }

  /** Uniform float in [0, 1) with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / TWO_32
  }

  /** Uniform integer in [0, n), unbiased (rejection sampling). n must be an integer in [1, 2^32]. */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_32) {
      throw new RangeError(`Rng.int: n must be an integer in [1, 2^32] (got ${n})`)
    }
    const limit = TWO_32 - (TWO_32 % n)
    for (;;) {
      const x = this.nextUint32()
      if (x < limit) return x % n
    }
  }

  /** Standard normal N(0, 1) via Box-Muller (consumes two uniforms per call). */
  normal(): number {
    const u1 = 1 - this.uniform() // (0, 1], so log(u1) is finite
    const u2 = this.uniform()
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)
  }

  /** The full generator state (a uint32), for checkpoints. */
  getState(): number {
    return this.s
  }

  /** Restore a state from `getState()`; the following draws repeat the original sequence. */
  setState(state: number): void {
    this.s = toUint32(state, 'state')
  }
}

function toUint32(v: number, name: string): number {
  if (!Number.isFinite(v)) throw new RangeError(`Rng: ${name} must be a finite number (got ${v})`)
  return Math.trunc(v) >>> 0
}
