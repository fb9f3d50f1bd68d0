// Number fields for the config schemas: each message names the field and its allowed range, so
// the CLI, the host and the run form say the same thing. Shared by the config slices and the
// method catalog's per-method schemas.
import { z } from 'zod'

export const num = (min: number, max: number, def: number, what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .min(min, `${what} must be at least ${min}`)
    .max(max, `${what} must be at most ${max}`)
    .default(def)

export const int = (min: number, max: number, def: number, what: string) =>
  z
    .number({ error: `${what} must be a number` })
    .int(`${what} must be a whole number`)
    .min(min, `${what} must be at least ${min}`)
    .max(max, `${what} must be at most ${max}`)
    .default(def)

/** A head: one linear layer, or a two-layer MLP. */
export const headKind = z.enum(['linear', 'mlp'])
