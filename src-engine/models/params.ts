// Trainable parameters and BatchNorm running statistics, named like a PyTorch state dict
// ("conv1.weight", "conv1.bn.running_mean") so checkpoints are readable and comparable.
//
// Initialisation follows PyTorch's defaults, as the reference code does: Conv/Linear weights and
// biases ~ U(-1/sqrt(fan_in), +1/sqrt(fan_in)) (kaiming_uniform with a=sqrt(5)); BatchNorm
// gamma=1, beta=0, running mean 0 / var 1. Values are drawn from the seeded RNG in JS, so the same
// seed gives the same network on every backend.
import * as tf from '@tensorflow/tfjs-core'
import type { Rng } from '../../src-shared/rng'

/** tfjs variable names must be unique per process; parameter names repeat across models. */
let variableCounter = 0

export class ParamStore {
  /** Trainable variables, in creation order. */
  readonly trainable = new Map<string, tf.Variable>()
  /** Non-trainable state (BatchNorm running statistics). */
  readonly buffers = new Map<string, tf.Variable>()

  constructor(readonly rng: Rng) {}

  /** U(-bound, bound) weight of `shape`, bound = 1/sqrt(fanIn). */
  uniform(name: string, shape: number[], fanIn: number): tf.Variable {
    const bound = 1 / Math.sqrt(fanIn)
    const size = shape.reduce((a, b) => a * b, 1)
    const values = new Float32Array(size)
    for (let i = 0; i < size; i++) values[i] = (this.rng.uniform() * 2 - 1) * bound
    return this.add(name, tf.tensor(values, shape), true)
  }

  constant(name: string, shape: number[], value: number, trainable: boolean): tf.Variable {
    return this.add(name, tf.fill(shape, value), trainable)
  }

  private add(name: string, t: tf.Tensor, trainable: boolean): tf.Variable {
    if (this.trainable.has(name) || this.buffers.has(name)) throw new Error(`duplicate parameter name ${name}`)
    const v = tf.variable(t, trainable, `${name}#${++variableCounter}`)
    t.dispose()
    ;(trainable ? this.trainable : this.buffers).set(name, v)
    return v
  }

  get(name: string): tf.Variable {
    const v = this.trainable.get(name) ?? this.buffers.get(name)
    if (!v) throw new Error(`no parameter ${name}`)
    return v
  }

  trainableList(): tf.Variable[] {
    return [...this.trainable.values()]
  }

  /** Number of trainable scalars. */
  count(): number {
    let n = 0
    for (const v of this.trainable.values()) n += v.size
    return n
  }

  /** All values by name (trainable + buffers), for checkpoints. */
  async snapshot(): Promise<Record<string, { shape: number[]; data: Float32Array }>> {
    const out: Record<string, { shape: number[]; data: Float32Array }> = {}
    for (const [k, v] of [...this.trainable, ...this.buffers]) out[k] = { shape: v.shape, data: (await v.data()) as Float32Array }
    return out
  }

  load(values: Record<string, { shape: number[]; data: Float32Array }>): void {
    for (const [k, v] of [...this.trainable, ...this.buffers]) {
      const src = values[k]
      if (!src) throw new Error(`checkpoint has no value for ${k}`)
      if (src.shape.join('x') !== v.shape.join('x')) throw new Error(`checkpoint shape of ${k} is ${src.shape} but the model has ${v.shape}`)
      tf.tidy(() => v.assign(tf.tensor(src.data, src.shape)))
    }
  }

  /**
   * Load the values whose names satisfy `accept` (e.g. the backbone's layers into a model with
   * other heads); every accepted name must exist here with the same shape. Returns the count.
   */
  loadMatching(values: Record<string, { shape: number[]; data: Float32Array }>, accept: (name: string) => boolean): number {
    let n = 0
    for (const [k, src] of Object.entries(values)) {
      if (!accept(k)) continue
      const v = this.trainable.get(k) ?? this.buffers.get(k)
      if (!v) throw new Error(`the model has no parameter ${k} to load`)
      if (src.shape.join('x') !== v.shape.join('x'))
        throw new Error(`saved ${k} has shape ${src.shape} but the model has ${v.shape}: was it trained with another backbone or width?`)
      tf.tidy(() => v.assign(tf.tensor(src.data, src.shape)))
      n++
    }
    return n
  }

  dispose(): void {
    for (const v of [...this.trainable.values(), ...this.buffers.values()]) v.dispose()
    this.trainable.clear()
    this.buffers.clear()
  }
}
