// Runs one run's stages inside a worker: [PU estimation] -> [pretraining] -> [fine-tuning] ->
// evaluation (src-shared/stages.ts). Checkpoints at every epoch end, every
// `checkpoint.intervalMin` and on pause or cancel; a resumed (or crashed-then-resumed) run
// continues from the newest intact checkpoint with the metrics after it truncated. Stage outputs
// (pretrained / fine-tuned backbone, PU probabilities, results) go to the run folder through
// src-node/run-folder.ts, which also says which weights each stage loads.
import { promises as fs } from 'node:fs'
import { createHash } from 'node:crypto'
import * as tf from '@tensorflow/tfjs-core'
import './tf-gradients'
import type { RunConfig } from '../src-shared/config/run'
import { trainConfigFor } from './train-config'
import { Trainer, type StepResult } from './trainer'
import { exportTrainerState, importTrainerState, type TrainerState } from './trainer-state'
import { CheckpointStore } from '../src-node/checkpoint'
import { MetricsLog } from '../src-node/metrics-log'
import {
  STAGE_WEIGHTS,
  evaluationWeights,
  featurePool,
  finetuneStartWeights,
  isBackboneParam,
  pretrainStartWeights,
  readPuProbs,
  readResults,
  runPaths,
  saveEvaluation,
  writePuProbs,
  writeWeights,
  type WeightsArtifact
} from '../src-node/run-folder'
import { stagesOf, type StageName } from '../src-shared/stages'
import type { Evaluation } from '../src-shared/contract/runs'
import type { PipelineEvent, PipelineOutcome } from '../src-shared/contract/worker'
import { labelledSubset, loadSplits, type RegisteredReader, type Splits, type SubsetReader } from './data/sources'
import { estimatePuProbabilities } from './pu'
import { selectImages } from '../src-node/dataset-folder'
import { AlexNet } from './models/alexnet'
import { ParamStore } from './models/params'
import { newCtx } from './models/layers'
import { makeBatch } from './data/batcher'
import { extractFeatures } from './eval/features'
import { knnClassify, scoreCounts, trainProbe, type EvalResult, type FeatureSet } from './eval/probes'
import type { ImageSet } from '../src-shared/image-set'
import { Rng } from '../src-shared/rng'
import type { LrSchedule } from './optim/schedule'
import { pretextSaturation, saturationWarning } from '../src-shared/pretext-saturation'
import { readStartWeights } from './start-weights'

export type { PipelineEvent, PipelineOutcome }

export interface PipelineIO {
  runDir: string
  emit(ev: PipelineEvent): void
  /** Polled between steps. */
  control(): 'pause' | 'cancel' | null
  readRegistered?: RegisteredReader
  /** Reads saved labelled subsets (runs whose fine-tuning names one). */
  readSubset?: SubsetReader
}

interface SavedState {
  stage: StageName
  metricsBytes: number
  trainer: TrainerState | null
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

export async function runPipeline(config: RunConfig, io: PipelineIO): Promise<PipelineOutcome> {
  const paths = runPaths(io.runDir)
  await fs.mkdir(paths.artifacts, { recursive: true })
  const ckpts = new CheckpointStore(paths.checkpoints, config.checkpoint.keep)
  const latest = await ckpts.loadLatest()
  for (const s of latest?.skipped ?? []) io.emit({ type: 'log', level: 'warn', message: `Skipped a damaged checkpoint: ${s}; using the previous one.` })
  const saved = (latest?.state ?? null) as SavedState | null
  const metrics = new MetricsLog(paths.metrics)
  // Resuming: drop metrics written after the checkpoint; a fresh start: drop any partial run.
  const opened = await metrics.open(saved ? saved.metricsBytes : 0)
  if (opened.missingBytes > 0) {
    io.emit({
      type: 'log',
      level: 'warn',
      message: `metrics.jsonl is ${opened.missingBytes} bytes shorter than checkpoint ${latest!.seq} recorded (cut or restored from an older copy): the curves have a gap before step ${saved!.trainer?.globalStep ?? 0}. Training continues from the checkpoint.`
    })
  }
  if (opened.tornBytes > 0) io.emit({ type: 'log', level: 'warn', message: `Dropped a torn last line (${opened.tornBytes} bytes) from metrics.jsonl.` })
  if (saved)
    io.emit({ type: 'log', level: 'info', message: `Resuming from checkpoint ${latest!.seq} (${saved.stage}, step ${saved.trainer?.globalStep ?? 0}).` })

  const data = await loadSplits(config.dataset, io.readRegistered)
  const fingerprints = new Map<string, DataFingerprint>()
  const keep = (label: string, s: Splits): void => {
    for (const split of ['train', 'test'] as const) fingerprints.set(`${label}\0${split}`, fingerprint(label, split, s[split]))
  }
  keep(data.label, data)
  // The transfer datasets are read only by the evaluation, hours later on a long run. Read them
  // now as well, one at a time, so run.json names every split the results rest on from the start
  // and a dataset that cannot be read stops the run before its training rather than after.
  for (const ref of config.evaluation.transfer) {
    const t = await loadSplits(ref, io.readRegistered)
    keep(t.label, t)
  }
  io.emit({ type: 'data', items: [...fingerprints.values()] })
  const stages = stagesOf(config)
  let startIndex = saved ? stages.indexOf(saved.stage) : 0
  if (startIndex < 0) startIndex = 0

  const checkpoint = async (stage: StageName, trainer: Trainer | null): Promise<void> => {
    await metrics.sync()
    const state: SavedState = { stage, metricsBytes: metrics.length, trainer: trainer ? await exportTrainerState(trainer) : null }
    const label = { stage, epoch: trainer?.epoch ?? 0, step: trainer?.globalStep ?? 0 }
    const seq = await ckpts.save(state, label)
    io.emit({ type: 'checkpoint', seq, label })
  }

  try {
    for (let i = startIndex; i < stages.length; i++) {
      const stage = stages[i]!
      io.emit({ type: 'stage', stage, index: i, total: stages.length })
      const resumeState = saved && saved.stage === stage ? saved.trainer : null
      let outcome: PipelineOutcome | null = null
      switch (stage) {
        case 'pu':
          outcome = await puStage(config, data, io)
          break
        case 'pretrain':
          outcome = await pretrainStage(config, data, io, metrics, checkpoint, resumeState)
          break
        case 'finetune':
          outcome = await finetuneStage(config, data, io, metrics, checkpoint, resumeState)
          break
        case 'evaluate':
          outcome = await evaluateStage(config, data, io, metrics, fingerprints)
          break
      }
      if (outcome) {
        if (stage !== 'pretrain' && stage !== 'finetune') await checkpoint(stage, null)
        return outcome
      }
      // The next stage starts from its beginning: record that, so a crash now does not redo this one.
      const next = stages[i + 1]
      if (next) await checkpoint(next, null)
    }
    return 'done'
  } finally {
    await metrics.close()
  }
}

type DataFingerprint = Extract<PipelineEvent, { type: 'data' }>['items'][number]

function fingerprint(label: string, split: string, set: ImageSet): DataFingerprint {
  const h = createHash('sha256')
    .update(set.images)
    .update(new Uint8Array(set.labels.buffer, set.labels.byteOffset, set.labels.byteLength))
  return { label, split, images: set.n, sha256: h.digest('hex') }
}

type Checkpointer = (stage: StageName, trainer: Trainer | null) => Promise<void>

/** The shared loop of the training stages: steps, metrics, checkpoints, pause/cancel. */
async function trainLoop(
  stage: StageName,
  trainer: Trainer,
  epochs: number,
  config: RunConfig,
  io: PipelineIO,
  metrics: MetricsLog,
  checkpoint: Checkpointer,
  onEpoch?: (epoch: number, records: StepResult[]) => void
): Promise<PipelineOutcome | null> {
  const total = epochs * trainer.stepsPerEpoch
  const intervalMs = config.checkpoint.intervalMin * 60_000
  let lastCkpt = Date.now()
  const t0 = performance.now()
  const startStep = trainer.globalStep
  let epochRecords: StepResult[] = []
  while (trainer.globalStep < total) {
    await tick()
    const c = io.control()
    if (c) {
      await checkpoint(stage, trainer)
      return c === 'pause' ? 'paused' : 'cancelled'
    }
    const r = trainer.step()
    epochRecords.push(r)
    const record = {
      stage,
      epoch: r.epoch,
      step: r.globalStep,
      lr: r.lr,
      ms: +r.ms.toFixed(1),
      imagesPerSec: +((r.images * 1000) / r.ms).toFixed(2),
      ...r.metrics,
      t: Date.now()
    }
    await metrics.append(record)
    io.emit({ type: 'metrics', record })
    const done = trainer.globalStep - startStep
    const perStep = (performance.now() - t0) / done
    io.emit({
      type: 'progress',
      stage,
      epoch: trainer.epoch,
      epochs,
      step: trainer.globalStep,
      steps: total,
      etaSec: ((total - trainer.globalStep) * perStep) / 1000
    })
    if (trainer.stepInEpoch === 0) {
      onEpoch?.(r.epoch, epochRecords)
      epochRecords = []
      await checkpoint(stage, trainer)
      lastCkpt = Date.now()
    } else if (Date.now() - lastCkpt >= intervalMs) {
      await checkpoint(stage, trainer)
      lastCkpt = Date.now()
    }
  }
  return null
}

async function saveWeights(runDir: string, a: WeightsArtifact, ps: ParamStore, accept: (name: string) => boolean = () => true): Promise<void> {
  const all = await ps.snapshot()
  await writeWeights(runDir, a, Object.fromEntries(Object.entries(all).filter(([k]) => accept(k))))
}

async function puStage(config: RunConfig, data: Splits, io: PipelineIO): Promise<PipelineOutcome | null> {
  const probs = estimatePuProbabilities(data.train, {
    folds: config.pu.folds,
    epochs: config.pu.epochs,
    batchSize: config.pretrain.batchSize,
    backbone: config.backbone,
    seed: config.seed,
    onProgress: (f, n) => io.emit({ type: 'log', level: 'info', message: `PU estimation: fold ${f} of ${n} done` })
  })
  await writePuProbs(io.runDir, probs)
  return null
}

async function pretrainStage(
  config: RunConfig,
  data: Splits,
  io: PipelineIO,
  metrics: MetricsLog,
  checkpoint: Checkpointer,
  resume: TrainerState | null
): Promise<PipelineOutcome | null> {
  const method = config.pretrain.method
  const trainer = new Trainer(trainConfigFor(config, 'pretrain'), data.train, { puProbs: config.pu.enabled ? await readPuProbs(io.runDir) : undefined })
  try {
    if (resume) importTrainerState(trainer, resume)
    else {
      const start = pretrainStartWeights(config)
      if (start) {
        trainer.params.loadMatching((await readStartWeights(io.runDir, start, trainer.params))!, isBackboneParam)
        io.emit({ type: 'log', level: 'info', message: 'Pretraining starts from the imported backbone (backbone.init).' })
      }
    }
    const nceByEpoch: number[] = []
    const outcome = await trainLoop('pretrain', trainer, config.pretrain.epochs, config, io, metrics, checkpoint, (epoch, recs) => {
      if (epoch === 0) {
        const saturated = pretextSaturation(
          recs.map((r) => ({ stage: 'pretrain', epoch: r.epoch, step: r.globalStep, ...r.metrics })),
          { epochOver: true }
        )
        if (saturated) io.emit({ type: 'log', level: 'warn', message: saturationWarning(saturated) })
      }
      // The fixed-Z NCE pitfall (method-spec), for methods with an NCE memory bank: the NCE term grows epoch after epoch.
      if (!('nceK' in method)) return
      nceByEpoch.push(recs.reduce((a, r) => a + (r.metrics.nce ?? 0), 0) / recs.length)
      const last = nceByEpoch.slice(-4)
      if (last.length === 4 && last[1]! > last[0]! && last[2]! > last[1]! && last[3]! > last[2]!) {
        io.emit({
          type: 'log',
          level: 'warn',
          message: `NCE loss has risen for 3 epochs in a row (epoch ${epoch}: ${last[3]!.toFixed(2)}; K/N = ${(method.nceK / data.train.n).toFixed(2)}). The fixed normaliser Z no longer fits the memory bank: try nceReestimateZ, a K much smaller than the dataset, or a rotation-only warm-up.`
        })
      }
    })
    if (outcome) return outcome
    await saveWeights(io.runDir, STAGE_WEIGHTS.pretrain.backbone, trainer.params, isBackboneParam)
    await saveWeights(io.runDir, STAGE_WEIGHTS.pretrain.model, trainer.params)
    return null
  } finally {
    trainer.dispose()
  }
}

async function finetuneStage(
  config: RunConfig,
  data: Splits,
  io: PipelineIO,
  metrics: MetricsLog,
  checkpoint: Checkpointer,
  resume: TrainerState | null
): Promise<PipelineOutcome | null> {
  const spec = config.finetune.labelled
  let idx: Int32Array
  if (spec.kind === 'subset') {
    const ref = config.dataset
    if (ref.kind !== 'dataset' || !io.readSubset)
      throw new Error(`subset "${spec.id}" cannot be read here: saved subsets belong to registered datasets in the workspace`)
    const s = await io.readSubset(ref.id, spec.id)
    if (s.split !== ref.trainSplit)
      throw new Error(
        `subset "${spec.id}" was drawn from split "${s.split}", but this run trains on "${ref.trainSplit}": choose a subset of "${ref.trainSplit}"`
      )
    if (s.missing.length)
      io.emit({
        type: 'log',
        level: 'warn',
        message: `Subset "${s.name}": ${s.missing.length} of its images are no longer in the dataset (re-indexed since), e.g. ${s.missing[0]}; fine-tuning on the ${s.indices.length} still there.`
      })
    if (!s.indices.length) throw new Error(`subset "${spec.id}" has none of its images left in the dataset: make it again`)
    idx = s.indices
  } else {
    idx = labelledSubset(data.train, spec, config.seed)
  }
  const labelled = selectImages(data.train, idx)
  const trainer = new Trainer(trainConfigFor(config, 'finetune'), labelled)
  try {
    if (resume) {
      importTrainerState(trainer, resume)
    } else {
      const start = finetuneStartWeights(config)
      const pre = start && (await readStartWeights(io.runDir, start, trainer.params))
      if (start && !pre) throw new Error('the pretrained backbone artifact is missing or unreadable; re-run pretraining')
      if (pre) trainer.params.loadMatching(pre, isBackboneParam)
    }
    io.emit({
      type: 'log',
      level: 'info',
      message: `Fine-tuning on ${labelled.n} labelled images (${spec.kind === 'subset' ? `saved subset ${spec.id}` : spec.kind}).`
    })
    const outcome = await trainLoop('finetune', trainer, config.finetune.epochs, config, io, metrics, checkpoint)
    if (outcome) return outcome
    await saveWeights(io.runDir, STAGE_WEIGHTS.finetune.backbone, trainer.params, isBackboneParam)
    // The fine-tuned network's own test accuracy (the seed's "fine-tuned" entries).
    const pred = classify(trainer, data.test)
    const r = scoreCounts(pred, data.test.labels, data.train.classNames.length)
    await recordEvaluation(io, {
      id: `finetune:${data.label}`,
      protocol: 'finetune',
      dataset: data.label,
      transfer: false,
      layer: 'fc',
      ...r,
      classNames: data.train.classNames,
      trainImages: labelled.n,
      testImages: data.test.n
    })
    return null
  } finally {
    trainer.dispose()
  }
}

function classify(trainer: Trainer, set: ImageSet): Int32Array {
  const out = new Int32Array(set.n)
  const rng = new Rng(0)
  for (let s = 0; s < set.n; s += 64) {
    const idx = Int32Array.from({ length: Math.min(64, set.n - s) }, (_, k) => s + k)
    const p = tf.tidy(() => {
      const x = makeBatch(set, idx, { inputSize: trainer.backbone.inputSize, training: false, hflip: false }, rng)
      return tf.argMax(trainer.method.predictClasses!(x, newCtx(false)), 1)
    })
    out.set(p.dataSync() as Int32Array, s)
    p.dispose()
  }
  return out
}

function scheduleFor(s: RunConfig['evaluation']['linear']['schedule'], epochs: number): LrSchedule {
  return s.kind === 'cosine' ? { ...s, epochs } : s
}

async function recordEvaluation(io: PipelineIO, e: Evaluation): Promise<void> {
  await saveEvaluation(io.runDir, e)
  io.emit({ type: 'evaluation', evaluation: e })
}

async function evaluateStage(
  config: RunConfig,
  data: Splits,
  io: PipelineIO,
  metrics: MetricsLog,
  fingerprints: Map<string, DataFingerprint>
): Promise<PipelineOutcome | null> {
  const ev = config.evaluation
  const ps = new ParamStore(new Rng(config.seed))
  const backbone = new AlexNet(ps, config.backbone)
  try {
    const trained = evaluationWeights(config)
    const weights = trained && (await readStartWeights(io.runDir, trained, ps))
    if (trained && !weights) throw new Error('the trained backbone artifact is missing or unreadable; re-run the training stage')
    if (weights) ps.loadMatching(weights, isBackboneParam)
    const pool = featurePool(ev.pool, backbone.inputSize)
    const done = new Set((await readResults(io.runDir)).evaluations.map((e) => e.id))
    const sets: { splits: Splits; transfer: boolean }[] = [{ splits: data, transfer: false }]
    for (const ref of ev.transfer) {
      const splits = await loadSplits(ref, io.readRegistered)
      for (const split of ['train', 'test'] as const) {
        const before = fingerprints.get(`${splits.label}\0${split}`)
        if (before && before.sha256 !== fingerprint(splits.label, split, splits[split]).sha256)
          io.emit({
            type: 'log',
            level: 'warn',
            message: `Transfer dataset ${splits.label} (${split}) changed while this run trained (re-indexed since it started): its evaluations use the images as they are now, not those recorded in the run's provenance.`
          })
      }
      sets.push({ splits, transfer: true })
    }
    for (const { splits, transfer } of sets) {
      const classes = splits.train.classNames.length
      const feats = (set: ImageSet): FeatureSet => {
        const f = extractFeatures(backbone, set, { layer: ev.layer, pool })
        return { ...f, labels: set.labels, n: set.n }
      }
      const train = feats(splits.train)
      const test = feats(splits.test)
      // A probe's training curve: a record per epoch under the stage "<protocol>:<dataset>" (the
      // evaluation's id), so the probes of several datasets never share step numbers.
      let curve: Record<string, number | string>[] = []
      const onEpoch =
        (stage: string) =>
        (epoch: number, loss: number, acc: number, lr: number): void => {
          curve.push({ stage, epoch, step: epoch, lr, loss, acc, t: Date.now() })
        }
      const jobs: { id: string; protocol: Evaluation['protocol']; run: () => EvalResult }[] = []
      if (ev.linear.enabled) {
        const id = `linear:${splits.label}`
        jobs.push({
          id,
          protocol: 'linear',
          run: () =>
            trainProbe(train, test, {
              kind: 'linear',
              classes,
              epochs: ev.linear.epochs,
              batchSize: ev.linear.batchSize,
              schedule: scheduleFor(ev.linear.schedule, ev.linear.epochs),
              weightDecay: ev.linear.weightDecay,
              seed: config.seed,
              onEpoch: onEpoch(id)
            })
        })
      }
      if (ev.nonlinear.enabled) {
        const id = `nonlinear:${splits.label}`
        jobs.push({
          id,
          protocol: 'nonlinear',
          run: () =>
            trainProbe(train, test, {
              kind: 'mlp',
              hidden: backbone.featureDim,
              classes,
              epochs: ev.nonlinear.epochs,
              batchSize: ev.nonlinear.batchSize,
              schedule: scheduleFor(ev.nonlinear.schedule, ev.nonlinear.epochs),
              weightDecay: ev.nonlinear.weightDecay,
              seed: config.seed,
              onEpoch: onEpoch(id)
            })
        })
      }
      if (ev.knn.enabled) jobs.push({ id: `knn:${splits.label}`, protocol: 'knn', run: () => knnClassify(train, test, classes, ev.knn.k, ev.knn.temperature) })
      for (const job of jobs) {
        if (done.has(job.id)) continue
        await tick()
        const c = io.control()
        if (c) return c === 'pause' ? 'paused' : 'cancelled'
        curve = []
        const r = job.run()
        // The probe trains synchronously: its epochs are written once it is done, before its result.
        for (const record of curve) {
          await metrics.append(record)
          io.emit({ type: 'metrics', record })
        }
        await recordEvaluation(io, {
          id: job.id,
          protocol: job.protocol,
          dataset: splits.label,
          transfer,
          layer: ev.layer,
          accuracy: r.accuracy,
          perClass: r.perClass,
          confusion: r.confusion,
          classNames: splits.train.classNames,
          trainImages: train.n,
          testImages: test.n
        })
      }
    }
    return null
  } finally {
    ps.dispose()
  }
}
