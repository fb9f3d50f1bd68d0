// Optimisers as the reference uses them, with state that checkpoints can save and restore.
//
// SGD (PyTorch semantics): g <- g + wd*p (coupled L2 on ALL parameters, BatchNorm included, as
// the reference); buf <- m*buf + g; nesterov: step = g + m*buf, else step = buf; p <- p - lr*step.
// Adam (decoupled weight decay, i.e. AdamW, when wd > 0) is offered as an option.
import * as tf from '@tensorflow/tfjs-core'
import { sgdStep } from '../wasm-kernels/sgd'

export interface OptimizerState {
  kind: 'sgd' | 'adam'
  step: number
  /** Per variable name: slot tensors' values. */
  slots: Record<string, { shape: number[]; data: Float32Array }[]>
}

export interface Optimizer {
  /** Apply gradients (by variable name) with learning rate `lr`. Disposes nothing it does not own. */
  apply(vars: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>, lr: number): void
  getState(): Promise<OptimizerState>
  setState(state: OptimizerState): void
  dispose(): void
}

export interface SgdConfig {
  momentum: number
  nesterov: boolean
  weightDecay: number
}

export class Sgd implements Optimizer {
  private bufs = new Map<string, tf.Variable>()
  private steps = 0
  constructor(readonly cfg: SgdConfig) {}

  apply(vars: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>, lr: number): void {
    const { momentum: m, nesterov, weightDecay: wd } = this.cfg
    tf.tidy(() => {
      for (const [name, p] of vars) {
        const g0 = grads[name]
        if (!g0) continue
        if (m > 0) {
          // One fused kernel where the backend has it (wasm), bit-identical to the ops below.
          const buf = this.bufs.get(name)
          const fused = sgdStep(p, g0, buf ?? null, { lr, momentum: m, nesterov, weightDecay: wd })
          if (fused) {
            if (buf) buf.assign(fused.buf)
            else this.bufs.set(name, tf.variable(fused.buf, false))
            p.assign(fused.p)
            continue
          }
        }
        const g = wd > 0 ? tf.add(g0, tf.mul(p, wd)) : g0
        let step: tf.Tensor = g
        if (m > 0) {
          let buf = this.bufs.get(name)
          if (!buf) {
            // PyTorch initialises the buffer with the first gradient.
            buf = tf.variable(g, false)
            this.bufs.set(name, buf)
          } else {
            buf.assign(tf.add(tf.mul(buf, m), g))
          }
          step = nesterov ? tf.add(g, tf.mul(buf, m)) : buf
        }
        p.assign(tf.sub(p, tf.mul(step, lr)))
      }
    })
    this.steps++
  }

  async getState(): Promise<OptimizerState> {
    const slots: OptimizerState['slots'] = {}
    for (const [k, v] of this.bufs) slots[k] = [{ shape: v.shape, data: (await v.data()) as Float32Array }]
    return { kind: 'sgd', step: this.steps, slots }
  }

  setState(state: OptimizerState): void {
    if (state.kind !== 'sgd') throw new Error(`checkpoint optimizer is ${state.kind}, the run uses sgd`)
    this.dispose()
    this.steps = state.step
    for (const [k, [s]] of Object.entries(state.slots)) if (s) this.bufs.set(k, tf.variable(tf.tensor(s.data, s.shape), false))
  }

  dispose(): void {
    for (const v of this.bufs.values()) v.dispose()
    this.bufs.clear()
  }
}

export interface AdamConfig {
  beta1: number
  beta2: number
  eps: number
  weightDecay: number
}

export class Adam implements Optimizer {
  private m = new Map<string, tf.Variable>()
  private v = new Map<string, tf.Variable>()
  private steps = 0
  constructor(readonly cfg: AdamConfig) {}

  apply(vars: Map<string, tf.Variable>, grads: Record<string, tf.Tensor>, lr: number): void {
    const { beta1: b1, beta2: b2, eps, weightDecay: wd } = this.cfg
    this.steps++
    const c1 = 1 - b1 ** this.steps
    const c2 = 1 - b2 ** this.steps
    tf.tidy(() => {
      for (const [name, p] of vars) {
        const g = grads[name]
        if (!g) continue
        let m = this.m.get(name)
        let v = this.v.get(name)
        if (!m || !v) {
          m = tf.variable(tf.zerosLike(p), false)
          v = tf.variable(tf.zerosLike(p), false)
          this.m.set(name, m)
          this.v.set(name, v)
        }
        m.assign(tf.add(tf.mul(m, b1), tf.mul(g, 1 - b1)))
        v.assign(tf.add(tf.mul(v, b2), tf.mul(tf.square(g), 1 - b2)))
        const update = tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps))
        const decayed = wd > 0 ? tf.mul(p, 1 - lr * wd) : p
        p.assign(tf.sub(decayed, tf.mul(update, lr)))
      }
    })
  }

  async getState(): Promise<OptimizerState> {
    const slots: OptimizerState['slots'] = {}
    for (const [k, m] of this.m) {
      const v = this.v.get(k)!
      slots[k] = [
        { shape: m.shape, data: (await m.data()) as Float32Array },
        { shape: v.shape, data: (await v.data()) as Float32Array }
      ]
    }
    return { kind: 'adam', step: this.steps, slots }
  }

  setState(state: OptimizerState): void {
    if (state.kind !== 'adam') throw new Error(`checkpoint optimizer is ${state.kind}, the run uses adam`)
    this.dispose()
    this.steps = state.step
    for (const [k, [m, v]] of Object.entries(state.slots)) {
      if (!m || !v) continue
      this.m.set(k, tf.variable(tf.tensor(m.data, m.shape), false))
      this.v.set(k, tf.variable(tf.tensor(v.data, v.shape), false))
    }
  }

  dispose(): void {
    for (const x of [...this.m.values(), ...this.v.values()]) x.dispose()
    this.m.clear()
    this.v.clear()
  }
}
