// The stages of a run, in the order they run. PU estimation comes before pretraining (not after,
// as a list of stages might suggest): it trains its own RotNets, and RFD needs its probabilities
// from `puFromEpoch` on. The status's stage, checkpoint labels and resuming all name these.
import type { RunConfig } from './config/run'

export const STAGE_NAMES = ['pu', 'pretrain', 'finetune', 'evaluate'] as const
export type StageName = (typeof STAGE_NAMES)[number]

/** The stages a config runs; evaluation always runs. */
export function stagesOf(c: Pick<RunConfig, 'pu' | 'pretrain' | 'finetune'>): StageName[] {
  const s: StageName[] = []
  if (c.pu.enabled) s.push('pu')
  if (c.pretrain.enabled) s.push('pretrain')
  if (c.finetune.enabled) s.push('finetune')
  s.push('evaluate')
  return s
}
