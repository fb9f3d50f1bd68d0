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

export { REFERENCE_LUTS } from '../../src-shared/config/names'
