// A pretext task that a network solves within its first epoch was most likely solved from a
// low-level cue (a border band, a background gradient, a compression artefact, a watermark)
// rather than from what the images show, and the features it leaves are poor: the built-in sample
// once had a ground band along its bottom edge and RotNet reached 98% rotation accuracy in three
// steps while barely beating random weights on the probes. Real rotation learning on photos takes
// many epochs to get there. The pipeline logs this once the first epoch is over; the run page and
// the report show it from the run's metrics, so runs recorded before the check show it too.
import type { MetricRecord } from './contract/runs'

/** Pretext accuracies the check reads, in the order it prefers them. */
export const PRETEXT_ACCURACY_METRICS = ['acc_rot'] as const

/** Mean pretext accuracy over the second half of the first epoch at or above which the task counts as saturated. */
export const SATURATION_ACCURACY = 0.98

export interface PretextSaturation {
  metric: string
  /** Mean accuracy over the second half of the first pretraining epoch. */
  accuracy: number
  /** Steps of the first epoch the check saw (fewer than the epoch had when the metrics were thinned). */
  steps: number
  /** The first of those steps at which the accuracy reached SATURATION_ACCURACY. */
  firstStep: number
}

/**
 * Whether the first pretraining epoch of `records` (metric records, possibly thinned) saturated
 * its pretext accuracy. Looking at the second half of the epoch, not its best step, keeps one lucky
 * batch from counting. The first epoch has ended when the records reach a later epoch, or when
 * `epochOver` says so (a run with a single pretraining epoch never reaches a later one).
 */
export function pretextSaturation(records: readonly MetricRecord[], opts: { epochOver?: boolean } = {}): PretextSaturation | null {
  const pretrain = records.filter((r) => r.stage === 'pretrain' && typeof r.epoch === 'number')
  if (!pretrain.length) return null
  const first = Math.min(...pretrain.map((r) => r.epoch as number))
  const epochOver = opts.epochOver === true || pretrain.some((r) => (r.epoch as number) > first)
  if (!epochOver) return null
  for (const metric of PRETEXT_ACCURACY_METRICS) {
    const seen = pretrain.filter((r) => r.epoch === first && typeof r[metric] === 'number' && Number.isFinite(r[metric]))
    if (!seen.length) continue
    const half = seen.slice(Math.floor(seen.length / 2))
    const accuracy = half.reduce((a, r) => a + (r[metric] as number), 0) / half.length
    if (accuracy < SATURATION_ACCURACY) return null
    const hit = seen.find((r) => (r[metric] as number) >= SATURATION_ACCURACY)!
    return { metric, accuracy, steps: seen.length, firstStep: typeof hit.step === 'number' ? hit.step : seen.indexOf(hit) + 1 }
  }
  return null
}

/** The words the log, the run page and the report use. */
export function saturationWarning(s: PretextSaturation): string {
  return (
    `Pretext accuracy (${s.metric}) was already ${(s.accuracy * 100).toFixed(1)}% in the first epoch (from step ${s.firstStep}): ` +
    'the pretext task may be solvable from a low-level cue (a border or background band, a brightness gradient, compression artefacts) rather than from the objects, ' +
    'so the features may be poor. Look at the rotation previews, and at whether the images share such a cue.'
  )
}

/** The check for a recorded run: its first epoch is over once the run has left pretraining or is done. */
export function runPretextSaturation(records: readonly MetricRecord[], status: { state: string; stage: string | null }): PretextSaturation | null {
  return pretextSaturation(records, { epochOver: status.state === 'done' || (status.stage !== null && status.stage !== 'pretrain' && status.stage !== 'pu') })
}
