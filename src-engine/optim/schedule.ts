// Learning-rate schedules. The reference uses an epoch lookup table applied before each epoch:
// lr = the lr of the first entry whose maxEpoch > epoch (0-based); past the table, the last lr.
// Cosine (with linear warm-up) is offered as an option.
export type LrSchedule =
  | { kind: 'lut'; table: [maxEpoch: number, lr: number][] }
  | { kind: 'cosine'; base: number; min: number; warmupEpochs: number; epochs: number }
  | { kind: 'constant'; lr: number }

export function lrAt(s: LrSchedule, epoch: number, fractionOfEpoch = 0): number {
  switch (s.kind) {
    case 'constant':
      return s.lr
    case 'lut': {
      for (const [maxEpoch, lr] of s.table) if (epoch < maxEpoch) return lr
      return s.table.at(-1)?.[1] ?? 0
    }
    case 'cosine': {
      const t = epoch + fractionOfEpoch
      if (t < s.warmupEpochs) return (s.base * (t + 1e-9)) / s.warmupEpochs
      const span = Math.max(s.epochs - s.warmupEpochs, 1e-9)
      const p = Math.min(1, (t - s.warmupEpochs) / span)
      return s.min + 0.5 * (s.base - s.min) * (1 + Math.cos(Math.PI * p))
    }
  }
}

/** The reference's tables (method-spec §4). */
export const REFERENCE_LUTS = {
  pretrain: [
    [90, 0.01],
    [130, 1e-3],
    [190, 1e-4],
    [210, 1e-5],
    [230, 1e-4],
    [245, 1e-5]
  ] as [number, number][],
  linearEval: [
    [5, 0.01],
    [25, 0.002],
    [45, 0.0004],
    [65, 0.00008]
  ] as [number, number][],
  nonLinearEval: [
    [10, 0.01],
    [20, 0.002],
    [30, 0.0004],
    [40, 0.00008]
  ] as [number, number][],
  finetune: [
    [5, 0.1],
    [25, 0.02],
    [45, 0.004],
    [65, 0.0008]
  ] as [number, number][]
}
