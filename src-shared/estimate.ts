// Time estimates of a run from an engine benchmark: the benchmark times real training steps of the
// run's backbone and methods on this machine's backend at two small batch sizes and fits
// step time = fixed + per-image x batch (per-op overhead + work that grows with the batch); the
// estimate multiplies that by the steps each stage takes. TensorFlow-free: the form uses it.
import type { RunConfig } from './config/run'
import type { EngineBenchmark, StepCost } from './contract/runs'
import { SAMPLE_CLASSES, SAMPLE_DEFAULTS, SAMPLE_ID } from './sample-dataset'

export type { EngineBenchmark, StepCost }

export const stepMs = (c: StepCost, batch: number): number => c.fixedMs + c.perImageMs * batch

/** The step a run mostly consists of (pretraining, else fine-tuning): its batch and timed length (null when not timed). */
export function mainStep(c: RunConfig, b: EngineBenchmark): { what: 'pretraining' | 'training'; batch: number; ms: number | null } {
  const cost = c.pretrain.enabled ? b.pretrain : b.supervised
  const batch = c.pretrain.enabled ? c.pretrain.batchSize : c.finetune.batchSize
  return { what: c.pretrain.enabled ? 'pretraining' : 'training', batch, ms: cost ? stepMs(cost, batch) : null }
}

/** Least-squares fit of step time against batch size; one batch size gives a line through 0. */
export function fitStepCost(samples: { batch: number; ms: number }[]): StepCost {
  if (!samples.length) throw new Error('no timed steps to fit')
  const n = samples.length
  const mb = samples.reduce((a, s) => a + s.batch, 0) / n
  const mm = samples.reduce((a, s) => a + s.ms, 0) / n
  const vb = samples.reduce((a, s) => a + (s.batch - mb) ** 2, 0)
  if (vb === 0) return { fixedMs: 0, perImageMs: mm / mb }
  let perImageMs = samples.reduce((a, s) => a + (s.batch - mb) * (s.ms - mm), 0) / vb
  let fixedMs = mm - perImageMs * mb
  // Noise can tip the line below zero at one end; keep both terms non-negative.
  if (perImageMs < 0) [perImageMs, fixedMs] = [0, mm]
  if (fixedMs < 0) [perImageMs, fixedMs] = [mm / mb, 0]
  return { fixedMs, perImageMs }
}

export interface StageEstimate {
  id: 'pu' | 'pretrain' | 'finetune' | 'evaluate'
  seconds: number
  steps: number
}

/**
 * Image counts a run will use: train and test of its dataset and the labelled images fine-tuning
 * sees; `dataset` describes a registered dataset (its class count, split sizes and, when known,
 * its saved subsets) or is undefined when unknown.
 */
/** The sample before its first run draws it: what it will hold with the defaults. */
export const SAMPLE_STAND_IN: { classes: number; splits: { name: string; count: number }[]; subsets?: { id: string; count: number }[] } = {
  classes: SAMPLE_CLASSES.length,
  splits: [
    { name: 'train', count: SAMPLE_DEFAULTS.perClass * SAMPLE_CLASSES.length },
    { name: 'test', count: SAMPLE_DEFAULTS.testPerClass * SAMPLE_CLASSES.length }
  ]
}

export function runSizes(
  c: RunConfig,
  dataset: (id: string) => { classes: number; splits: { name: string; count: number }[]; subsets?: { id: string; count: number }[] } | undefined
): { train: number; test: number; labelled: number } | null {
  const d = c.dataset
  let train: number, test: number, classes: number
  let subsetCount: number | undefined
  if (d.kind === 'sample') [train, test, classes] = [d.perClass * 10, d.testPerClass * 10, 10]
  else {
    const info = dataset(d.id) ?? (d.id === SAMPLE_ID ? SAMPLE_STAND_IN : undefined)
    const count = (split: string): number | undefined => info?.splits.find((s) => s.name === split)?.count
    const t = count(d.trainSplit)
    if (!info || t === undefined) return null
    ;[train, test, classes] = [t, count(d.testSplit) ?? 0, info.classes]
    const l = c.finetune.labelled
    if (l.kind === 'subset') subsetCount = info.subsets?.find((s) => s.id === l.id)?.count
  }
  const l = c.finetune.labelled
  // A saved subset whose size is not known here counts as the whole split (an upper bound).
  const labelled =
    l.kind === 'all'
      ? train
      : l.kind === 'subset'
        ? (subsetCount ?? train)
        : l.kind === 'fraction'
          ? Math.round(train * l.value)
          : Math.min(train, l.value * classes)
  return { train, test, labelled }
}

const stepsOf = (images: number, batch: number, epochs: number): number => epochs * Math.max(1, Math.ceil(images / batch))

/**
 * Seconds per stage for a config on a dataset of `train`/`test` images with `labelled` images for
 * fine-tuning. Evaluation counts feature extraction of both splits (probes on stored features
 * take little beside it).
 */
export function estimateRun(
  c: RunConfig,
  sizes: { train: number; test: number; labelled: number },
  b: EngineBenchmark
): { stages: StageEstimate[]; total: number } {
  const stages: StageEstimate[] = []
  if (c.pu.enabled && b.rotnet) {
    // Each fold trains a RotNet on the other folds' images, then predicts its own fold's 4 views.
    const perFold = Math.round((sizes.train * (c.pu.folds - 1)) / c.pu.folds)
    const steps = c.pu.folds * stepsOf(perFold, c.pretrain.batchSize, c.pu.epochs)
    const ms = steps * stepMs(b.rotnet, c.pretrain.batchSize) + sizes.train * 4 * b.forwardPerImageMs
    stages.push({ id: 'pu', seconds: ms / 1000, steps })
  }
  if (c.pretrain.enabled && b.pretrain) {
    const steps = stepsOf(sizes.train, c.pretrain.batchSize, c.pretrain.epochs)
    stages.push({ id: 'pretrain', seconds: (steps * stepMs(b.pretrain, c.pretrain.batchSize)) / 1000, steps })
  }
  if (c.finetune.enabled) {
    const steps = stepsOf(sizes.labelled, c.finetune.batchSize, c.finetune.epochs)
    stages.push({ id: 'finetune', seconds: (steps * stepMs(b.supervised, c.finetune.batchSize)) / 1000, steps })
  }
  const e = c.evaluation
  if (e.linear.enabled || e.nonlinear.enabled || e.knn.enabled)
    stages.push({ id: 'evaluate', seconds: ((sizes.train + sizes.test) * b.forwardPerImageMs) / 1000, steps: 0 })
  return { stages, total: stages.reduce((a, s) => a + s.seconds, 0) }
}
