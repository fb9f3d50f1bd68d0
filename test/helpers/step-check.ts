// Owns the comparison of one full training step between two tfjs backends: the small training
// configuration the comparison uses, a run of the first step that keeps its gradients, and the
// relative error of gradients, weights and metrics against a reference backend. Used by the
// webgpu tests (test/unit/engine/webgpu.test.ts) and the GPU check for machines without Node
// (scripts/gpu-check/check.ts), which run the same comparison on a real GPU.
//
// Relative error of a tensor: max_i |got_i - ref_i| / max_i |ref_i| (the largest deviation
// against the largest magnitude, as in wasm-kernels.test.ts). A gradient that is zero in exact
// arithmetic (a conv bias feeding BatchNorm: its reference values are rounding noise, below 1e-5
// of the step's largest gradient) is measured against the step's largest gradient instead.
//
// Only the first step is compared, where both backends start from the same weights and images:
// later steps start from weights that already differ by float rounding (~1e-6), and a max-pool
// window whose two largest values are that close routes its gradient to a different pixel, which
// moves a conv weight gradient by ~1e-2 on any pair of backends. Random pixels rather than flat
// shapes for the same reason.
import type * as tf from '@tensorflow/tfjs-core'
import { Trainer } from '../../src-engine/trainer'
import type { ImageSet } from '../../src-shared/image-set'
import { Rng } from '../../src-shared/rng'
import { parseTrainConfig, type MethodName, type TrainConfig } from '../../src-shared/config/train'

export interface StepCheckOptions {
  arch?: 'alexnet32' | 'alexnet64' | 'alexnet224'
  width?: number
  batchSize?: number
  epochs?: number
}

/**
 * A method's settings for small tests: each method only its own keys (method configs are strict);
 * RFD re-estimates Z each step, since with the reference's fixed Z and a K/N this large the NCE
 * term grows (the pitfall described in method-spec).
 */
export function smallMethodConfig(method: MethodName, nceK: number): Record<string, unknown> {
  if (method === 'rfd') return { method, nceK, nceReestimateZ: true }
  if (method === 'rfd-contrastive') return { method, tau: 0.1 }
  if (method === 'simclr') return { method, tau: 0.5 }
  return { method }
}

/** The comparison's configuration: each method with its own small settings, SGD with Nesterov. */
export function stepCheckConfig(method: MethodName, o: StepCheckOptions = {}): TrainConfig {
  return parseTrainConfig({
    seed: 1,
    backbone: { arch: o.arch ?? 'alexnet32', width: o.width ?? 0.0625 },
    method: smallMethodConfig(method, 8),
    optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    schedule: { kind: 'constant', lr: 0.03 },
    batchSize: o.batchSize ?? 4,
    epochs: o.epochs ?? 1
  })
}

/** `base` with its pixels replaced by random ones (labels and class names kept). */
export function withNoisePixels(base: ImageSet, seed = 5): ImageSet {
  const rng = new Rng(seed)
  return { ...base, images: Uint8Array.from(base.images, () => rng.int(256)) }
}

export interface StepRecord {
  metrics: Record<string, number>
  grads: Map<string, Float32Array>
  /** Every parameter and buffer (BatchNorm running statistics) after the step. */
  after: Map<string, Float32Array>
}

/** One full training step on the current backend; the optimiser is wrapped to keep a copy of the step's gradients. */
export function firstStep(config: TrainConfig, data: ImageSet): StepRecord {
  const t = new Trainer(config, data)
  let grads = new Map<string, Float32Array>()
  const opt = t.optimizer as { apply(vars: Map<string, tf.Variable>, g: Record<string, tf.Tensor>, lr: number): void }
  const apply = opt.apply.bind(opt)
  opt.apply = (vars, g, lr) => {
    grads = new Map(Object.entries(g).map(([k, v]) => [k, Float32Array.from(v.dataSync())]))
    apply(vars, g, lr)
  }
  const { metrics } = t.step()
  const after = new Map([...t.params.trainable, ...t.params.buffers].map(([k, v]) => [k, Float32Array.from(v.dataSync())]))
  t.dispose()
  return { metrics, grads, after }
}

export function maxAbs(a: Float32Array): number {
  let m = 0
  for (const v of a) m = Math.max(m, Math.abs(v))
  return m
}

export interface WorstError {
  err: number
  /** The tensor or metric it is in ('' when every error is 0). */
  name: string
}

function sameKeys(what: string, ref: Iterable<string>, got: Iterable<string>): void {
  const r = [...ref].sort()
  const g = [...got].sort()
  if (r.join('\n') !== g.join('\n')) throw new Error(`${what} differ: reference [${r.join(', ')}], compared [${g.join(', ')}]`)
}

/** Worst relative error over a set of tensors (see the top), and the tensor it is in. Throws when names or sizes differ. */
export function worstError(ref: Map<string, Float32Array>, got: Map<string, Float32Array>): WorstError {
  sameKeys('tensor names', ref.keys(), got.keys())
  const largest = Math.max(...[...ref.values()].map(maxAbs))
  let worst: WorstError = { err: 0, name: '' }
  for (const [name, r] of ref) {
    const g = got.get(name)!
    if (g.length !== r.length) throw new Error(`${name}: ${g.length} values, reference ${r.length}`)
    let diff = 0
    for (let i = 0; i < r.length; i++) diff = Math.max(diff, Math.abs(g[i]! - r[i]!))
    const own = maxAbs(r)
    const err = Number.isFinite(diff) ? diff / (own < 1e-5 * largest ? largest : own) : Infinity
    if (err > worst.err) worst = { err, name }
  }
  return worst
}

/** Worst relative error of the step's metrics (each against max(|reference|, 1e-3)). Throws when names differ. */
export function worstMetricError(ref: Record<string, number>, got: Record<string, number>): WorstError {
  sameKeys('metric names', Object.keys(ref), Object.keys(got))
  let worst: WorstError = { err: 0, name: '' }
  for (const [k, v] of Object.entries(ref)) {
    const d = Math.abs(got[k]! - v)
    const err = Number.isFinite(d) ? d / Math.max(Math.abs(v), 1e-3) : Infinity
    if (err > worst.err) worst = { err, name: k }
  }
  return worst
}

export interface StepComparison {
  grads: WorstError
  weights: WorstError
  metrics: WorstError
}

/** Errors of a step on `got` against the same step on `ref`. */
export function compareSteps(ref: StepRecord, got: StepRecord): StepComparison {
  return { grads: worstError(ref.grads, got.grads), weights: worstError(ref.after, got.after), metrics: worstMetricError(ref.metrics, got.metrics) }
}
