// Non-parametric instance discrimination with a memory bank and NCE (Wu et al., CVPR 2018,
// "lemniscate": NCEAverage + NCECriterion), as used by Rotation Feature Decoupling
// (DecouplingModel.train_step). Method-spec section 2 "Instance discrimination (NCE)" and the
// "Pitfalls seen at small scale" section.
//
// Shapes: the bank is N x dim, kept as a JS Float32Array (N up to ~100k x 128 is fine); z is
// [B, dim] (L2-normalised projection of the per-image mean feature); indices are the B dataset
// indices (Int32Array). Each step gathers the K+1 rows per sample into a constant [B, K+1, dim]
// tensor (B*(K+1)*dim floats: 192*4097*128*4 bytes ~ 400 MB at the reference's K = 4096).
//
//   memory init   U(-s, s), s = 1/sqrt(dim/3)  (rows have expected norm ~1)
//   sampling      slot 0 = the positive (own index); slots 1..K uniform over [0, N) with
//                 replacement (the positive itself may be drawn, as with lemniscate's alias sampler)
//   scores        out_k = exp(m_k . z / T) / Z
//   normaliser    Z = mean(exp(m . z / T)) * N over the B*(K+1) scores of the FIRST forward, then
//                 constant (reference). Option reestimateZ: recompute it on every forward instead;
//                 this is a remedy (off by default) for the spec's pitfall where a Z fixed while the
//                 bank is still random stops fitting once the bank fills with correlated rows and the
//                 NCE loss climbs (especially with K/N near 1).
//   loss          Pn = 1/N, c = K*Pn + 1e-7:
//                 -(1/B) [ sum_b log(out_b0 / (out_b0 + c)) + sum_b sum_{k>=1} log(K*Pn / (out_bk + c)) ]
//                 evaluated in log space with softplus, which is algebraically identical and cannot
//                 overflow: log(o/(o+c)) = -softplus(log c - log o), log(o + c) = log c + softplus(log o - log c).
//   gradient      flows into z only (memory rows are constants).
//   update        after the optimiser step: m_y <- normalize(momentum*m_y + (1-momentum)*z_y).
//
// Config keys (reference): nce_k (K) = 4096, nce_t (T) = 0.07, nce_m (momentum) = 0.5,
// N = dataset size, dim = 128.
// Errors: RangeError naming the parameter and its allowed range for size/dim/K (integers >= 1),
// T (finite, > 0), momentum ([0, 1)), an index outside [0, N), or a sampled slot 0 that is not the
// positive; Error for a z of the wrong shape or a state of another bank's size.
import * as tf from '@tensorflow/tfjs-core'
import { Rng } from '../../src-shared/rng'

export interface MemoryBankOptions {
  /** N, the number of instances (dataset size). */
  size: number
  /** Embedding dimension (128 in the reference). */
  dim: number
  /** Negatives per sample (reference 4096). K >= N is allowed (sampling is with replacement). */
  K: number
  /** Temperature, > 0 (reference 0.07). */
  T?: number
  /** Memory momentum in [0, 1) (reference 0.5). */
  momentum?: number
  /** Seed of the bank's own RNG (memory init and negative sampling), used when `rng` is absent. */
  seed?: number
  /** An RNG to use instead of seeding a new one (it is consumed by init and sampling). */
  rng?: Rng
  /** Re-estimate Z on every forward instead of fixing it on the first one (default false). */
  reestimateZ?: boolean
  /** Initial memory (N*dim, row-major), instead of the U(-s, s) init; copied. */
  memory?: Float32Array
}

/** Everything a checkpoint needs to resume the bank exactly. */
export interface MemoryBankState {
  size: number
  dim: number
  memory: Float32Array
  /** The fixed normaliser, or null before the first forward. */
  Z: number | null
  rngState: number
}

function checkInt(v: number, name: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new RangeError(`MemoryBank: ${name} must be an integer >= ${min} (got ${v})`)
}

/** Draw B*(K+1) indices, row b = [positives[b], K uniform draws from [0, N)]. */
export function sampleNegatives(positives: ArrayLike<number>, K: number, N: number, rng: Rng): Int32Array {
  checkInt(K, 'K (negatives per sample)', 1)
  checkInt(N, 'size (N)', 1)
  const b = positives.length
  const out = new Int32Array(b * (K + 1))
  for (let i = 0; i < b; i++) {
    const p = positives[i] as number
    if (!Number.isInteger(p) || p < 0 || p >= N) throw new RangeError(`sampleNegatives: positive index ${p} (sample ${i}) is outside [0, ${N})`)
    const row = i * (K + 1)
    out[row] = p
    for (let k = 1; k <= K; k++) out[row + k] = rng.int(N)
  }
  return out
}

export class MemoryBank {
  readonly size: number
  readonly dim: number
  readonly K: number
  readonly T: number
  readonly momentum: number
  readonly reestimateZ: boolean
  /** The bank, N*dim row-major. Treat as read-only outside `update` / `importState`. */
  readonly memory: Float32Array
  private readonly rng: Rng
  private z: number | null = null
  /**
   * Observer of the rows every loss call uses ([B*(K+1)], slot 0 the positive), drawn or given:
   * a parity trace (src-engine/parity/trace.ts) records them so another implementation can
   * replay the same negatives. Null (no cost) otherwise.
   */
  static onSample: ((sampled: Int32Array, bank: MemoryBank) => void) | null = null

  constructor(opts: MemoryBankOptions) {
    checkInt(opts.size, 'size (N)', 1)
    checkInt(opts.dim, 'dim', 1)
    checkInt(opts.K, 'K (negatives per sample)', 1)
    const T = opts.T ?? 0.07
    if (!Number.isFinite(T) || T <= 0) throw new RangeError(`MemoryBank: T (temperature) must be a finite number > 0 (got ${T})`)
    const momentum = opts.momentum ?? 0.5
    if (!(momentum >= 0 && momentum < 1)) throw new RangeError(`MemoryBank: momentum must be in [0, 1) (got ${momentum})`)
    this.size = opts.size
    this.dim = opts.dim
    this.K = opts.K
    this.T = T
    this.momentum = momentum
    this.reestimateZ = opts.reestimateZ ?? false
    this.rng = opts.rng ?? new Rng(opts.seed ?? 0)
    const len = this.size * this.dim
    if (opts.memory !== undefined) {
      if (opts.memory.length !== len) throw new Error(`MemoryBank: memory must have ${len} = size*dim values, got ${opts.memory.length}`)
      this.memory = Float32Array.from(opts.memory)
    } else {
      this.memory = new Float32Array(len)
      const s = 1 / Math.sqrt(this.dim / 3)
      for (let i = 0; i < len; i++) this.memory[i] = (2 * this.rng.uniform() - 1) * s
    }
  }

  /** The normaliser Z (null until the first forward). */
  get Z(): number | null {
    return this.z
  }

  /** K/N: near or above 1 is the regime where a fixed Z is known to drift (see the spec's pitfalls). */
  get kOverN(): number {
    return this.K / this.size
  }

  /** Indices [B*(K+1)] for these positives, from the bank's RNG. */
  sampleNegatives(positives: ArrayLike<number>): Int32Array {
    return sampleNegatives(positives, this.K, this.size, this.rng)
  }

  /**
   * NCE loss (scalar) for embeddings z [B, dim] of the dataset instances `indices`. `sampled`
   * ([B*(K+1)], slot 0 of each row = the positive) defaults to fresh draws from the bank's RNG.
   * Sets Z on the first call (or every call with reestimateZ); that reads one scalar from the device.
   */
  loss(z: tf.Tensor2D, indices: ArrayLike<number>, sampled?: Int32Array): tf.Scalar {
    const B = indices.length
    const K1 = this.K + 1
    if (z.rank !== 2 || z.shape[0] !== B || z.shape[1] !== this.dim) {
      throw new Error(`MemoryBank.loss: z must have shape [${B}, ${this.dim}], got [${z.shape.join(', ')}]`)
    }
    if (B === 0) throw new Error('MemoryBank.loss: empty batch')
    const idx = sampled ?? this.sampleNegatives(indices)
    if (idx.length !== B * K1) throw new Error(`MemoryBank.loss: sampled must have B*(K+1) = ${B * K1} indices, got ${idx.length}`)
    MemoryBank.onSample?.(idx, this)
    const dim = this.dim
    const rows = new Float32Array(B * K1 * dim)
    for (let j = 0; j < idx.length; j++) {
      const r = idx[j] as number
      if (r < 0 || r >= this.size) throw new RangeError(`MemoryBank.loss: index ${r} is outside [0, ${this.size})`)
      if (j % K1 === 0 && r !== indices[j / K1]) {
        throw new RangeError(`MemoryBank.loss: sampled slot 0 of sample ${j / K1} must be its positive index ${indices[j / K1]} (got ${r})`)
      }
      rows.set(this.memory.subarray(r * dim, (r + 1) * dim), j * dim)
    }
    const N = this.size
    const K = this.K
    return tf.tidy(() => {
      const w = tf.tensor3d(rows, [B, K1, dim]) // constant: no gradient into the bank
      const s = tf.div(tf.reshape(tf.matMul(w, tf.reshape(z, [B, dim, 1])), [B, K1]), this.T) // m.z/T
      if (this.z === null || this.reestimateZ) {
        // log Z = log(mean(exp(s)) * N) = logsumexp(s) - log(B*(K+1)) + log N, read as a constant.
        const lse = tf.logSumExp(s).dataSync()[0] as number
        this.z = Math.exp(lse - Math.log(B * K1) + Math.log(N))
      }
      const logOut = tf.sub(s, Math.log(this.z)) // log out_k
      const logC = Math.log(K / N + 1e-7)
      const logKPn = Math.log(K / N)
      const posLogOut = tf.slice(logOut, [0, 0], [B, 1])
      const negLogOut = tf.slice(logOut, [0, 1], [B, K])
      const posTerm = tf.sum(tf.neg(tf.softplus(tf.sub(logC, posLogOut)))) // sum_b log(o0/(o0+c))
      const negTerm = tf.sum(tf.sub(logKPn - logC, tf.softplus(tf.sub(negLogOut, logC)))) // sum log(K Pn/(o+c))
      return tf.div(tf.add(posTerm, negTerm), -B) as tf.Scalar
    })
  }

  /**
   * After the optimiser step: m_y <- normalize(momentum*m_y + (1-momentum)*z_b) for y = indices[b].
   * All new rows are computed from the old bank; with duplicate indices the last one wins (as
   * index_copy_). A zero row stays zero instead of turning into NaN (norm clamped at 1e-12).
   */
  update(indices: ArrayLike<number>, z: tf.Tensor2D | Float32Array): void {
    const B = indices.length
    const dim = this.dim
    let zv: Float32Array
    if (z instanceof tf.Tensor) {
      if (z.rank !== 2 || z.shape[0] !== B || z.shape[1] !== dim) {
        throw new Error(`MemoryBank.update: z must have shape [${B}, ${dim}], got [${z.shape.join(', ')}]`)
      }
      zv = z.dataSync() as Float32Array
    } else {
      if (z.length !== B * dim) throw new Error(`MemoryBank.update: z must have ${B * dim} = B*dim values, got ${z.length}`)
      zv = z
    }
    const m = this.momentum
    const fresh = new Float32Array(B * dim)
    for (let b = 0; b < B; b++) {
      const y = indices[b] as number
      if (!Number.isInteger(y) || y < 0 || y >= this.size) throw new RangeError(`MemoryBank.update: index ${y} is outside [0, ${this.size})`)
      let sq = 0
      for (let d = 0; d < dim; d++) {
        const v = m * (this.memory[y * dim + d] as number) + (1 - m) * (zv[b * dim + d] as number)
        fresh[b * dim + d] = v
        sq += v * v
      }
      const inv = 1 / Math.max(Math.sqrt(sq), 1e-12)
      for (let d = 0; d < dim; d++) fresh[b * dim + d] = (fresh[b * dim + d] as number) * inv
    }
    for (let b = 0; b < B; b++) {
      const y = indices[b] as number
      this.memory.set(fresh.subarray(b * dim, (b + 1) * dim), y * dim)
    }
  }

  /** A copy of the bank state for a checkpoint. */
  exportState(): MemoryBankState {
    return { size: this.size, dim: this.dim, memory: Float32Array.from(this.memory), Z: this.z, rngState: this.rng.getState() }
  }

  /** Restore a state from `exportState` (same size and dim). */
  importState(state: MemoryBankState): void {
    if (state.size !== this.size || state.dim !== this.dim || state.memory.length !== this.size * this.dim) {
      throw new Error(`MemoryBank.importState: state is ${state.size}x${state.dim} (${state.memory.length} values), bank is ${this.size}x${this.dim}`)
    }
    if (state.Z !== null && !(Number.isFinite(state.Z) && state.Z > 0))
      throw new RangeError(`MemoryBank.importState: Z must be null or a finite number > 0 (got ${state.Z})`)
    this.memory.set(state.memory)
    this.z = state.Z
    this.rng.setState(state.rngState)
  }
}
