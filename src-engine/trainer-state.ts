// Everything a Trainer needs to continue exactly where it stopped: weights and BatchNorm
// statistics, optimiser slots, the method's own state (NCE memory bank), the RNG, the position
// (epoch, step) and the current epoch's batch order. Resuming from it gives the same weights as
// an uninterrupted run on the same backend and seed.
import type { Trainer } from './trainer'
import type { OptimizerState } from './optim/optimizers'

export interface TrainerState {
  epoch: number
  stepInEpoch: number
  globalStep: number
  rngState: number
  batches: Int32Array[]
  params: Record<string, { shape: number[]; data: Float32Array }>
  optimizer: OptimizerState
  method: Record<string, unknown> | null
}

export async function exportTrainerState(t: Trainer): Promise<TrainerState> {
  return {
    epoch: t.epoch,
    stepInEpoch: t.stepInEpoch,
    globalStep: t.globalStep,
    rngState: t.rng.getState(),
    batches: t.batches.map((b) => Int32Array.from(b)),
    params: await t.params.snapshot(),
    optimizer: await t.optimizer.getState(),
    method: t.method.exportState?.() ?? null
  }
}

export function importTrainerState(t: Trainer, s: TrainerState): void {
  t.params.load(s.params)
  t.optimizer.setState(s.optimizer)
  if (s.method && t.method.importState) t.method.importState(s.method)
  t.rng.setState(s.rngState)
  t.batches = s.batches.map((b) => Int32Array.from(b))
  t.epoch = s.epoch
  t.stepInEpoch = s.stepInEpoch
  t.globalStep = s.globalStep
}
