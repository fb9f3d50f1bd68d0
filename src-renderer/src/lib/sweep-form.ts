// The New-run form's Sweep section: up to two numeric settings, each with a typed list of values,
// crossed with the form's seeds. What the section shows (how many runs, or what is wrong) comes
// from the same expansion and schema checks the host runs (src-shared/sweep.ts), so a sweep the
// form accepts is one the host creates.
import type { RunConfig } from '../../../src-shared/config/run'
import { MAX_SWEEP_AXES, numericPaths, parseValueList, planSweep, sweepRunCount, type SweepAxis } from '../../../src-shared/sweep'
import { fieldNameOf } from './field-labels'

/** One row of the section as typed: a setting's path ('' = none chosen yet) and its values. */
export interface SweepRowDraft {
  path: string
  values: string
}

export interface SweepFormState {
  /** The axes to send, once every row is complete and valid. */
  axes: SweepAxis[]
  /** Grid points and runs (points × seeds) the sweep makes; 0 while the rows are incomplete. */
  points: number
  runs: number
  /** What to fix, in the form's words; null when the sweep can be launched. */
  error: string | null
}

export { MAX_SWEEP_AXES }

/** The settings a row may vary, with their labels ("Pretraining › Batch size"), for the current config. */
export function sweepChoices(config: RunConfig | null): { path: string; label: string }[] {
  return config ? numericPaths(config).map((path) => ({ path, label: fieldNameOf(path) })) : []
}

/** The section's state for the current config, rows and seeds (null seeds: one run per point with the config's seed). */
export function sweepFormState(config: RunConfig | null, rows: readonly SweepRowDraft[], seeds: readonly number[] | null): SweepFormState {
  const axes: SweepAxis[] = []
  for (const r of rows) {
    if (!r.path) return { axes: [], points: 0, runs: 0, error: 'Sweep: choose the setting to vary.' }
    const list = parseValueList(r.values)
    if ('error' in list) return { axes: [], points: 0, runs: 0, error: `Sweep, ${fieldNameOf(r.path)}: ${list.error}.` }
    axes.push({ path: r.path, values: list.values })
  }
  const points = sweepRunCount(axes, null)
  const runs = sweepRunCount(axes, seeds)
  if (!config) return { axes, points, runs, error: 'Fix the fields marked in red first.' }
  const plan = planSweep(config, axes, seeds, 'preview')
  if ('error' in plan) return { axes, points, runs, error: plan.error }
  return { axes, points, runs, error: null }
}
