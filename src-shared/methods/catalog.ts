// The method catalog: every method the app knows, by name, with its label, summary, config schema
// and traits (src-shared/methods/entry.ts). The run config's method slice (MethodConfigSchema) is
// the union of the entries' schemas; the engine's registry, the run form, previews, maps,
// estimates and reports ask the catalog instead of naming methods. Built-in entries are in
// ./builtin.ts; src-engine/methods/registry.ts pairs each entry with its implementation.
import { z } from 'zod'
import { BUILTIN_METHODS } from './builtin'
import type { MethodEntry, MethodSchema } from './entry'

export type { ConfigOf, FieldWords, MethodEntry, MethodSchema, MethodTraits, MethodViews } from './entry'
export { defineMethod } from './entry'

type Builtin = (typeof BUILTIN_METHODS)[number]
/** A parsed method config of one of the built-in methods (the types the code is checked against). */
export type MethodConfig = z.output<Builtin['schema']>
export type MethodConfigInput = z.input<Builtin['schema']>
export type MethodName = Builtin['name']
export type MethodConfigOf<N extends MethodName> = Extract<MethodConfig, { method: N }>
/** The built-in methods, in the form's order. */
export const METHOD_NAMES: MethodName[] = BUILTIN_METHODS.map((m) => m.name)

type MethodUnion = z.ZodType<MethodConfig, MethodConfigInput>

const entries = new Map<string, MethodEntry>()
let union: z.ZodType | null = null

/**
 * Add a method to the catalog (the engine's registerMethod calls this with its implementation).
 * Only before the first config is parsed: the config schema is built from the entries then, and
 * zod keeps it.
 */
export function registerMethodEntry(entry: MethodEntry): void {
  const had = entries.get(entry.name)
  if (had === entry) return
  if (had) throw new Error(`method "${entry.name}" is in the catalog already`)
  const shape = entry.schema.shape as Record<string, unknown>
  if ((entry.schema.shape.method as { value?: unknown }).value !== entry.name)
    throw new Error(`method "${entry.name}": its schema's "method" must be z.literal("${entry.name}")`)
  // Strict objects: an unknown key is an error naming it (and the closest known one), never dropped.
  const catchall = (entry.schema._zod.def as { catchall?: { _zod: { def: { type: string } } } }).catchall
  if (catchall?._zod.def.type !== 'never') throw new Error(`method "${entry.name}": its schema must be a z.strictObject`)
  if (entry.traits.views === 'simclr-pair' && !('minCropScale' in shape && 'jitter' in shape))
    throw new Error(`method "${entry.name}" draws SimCLR pairs, so its config needs minCropScale and jitter`)
  if (union)
    throw new Error(`method "${entry.name}" was registered after the method config schema was first used: register methods before any config is parsed`)
  entries.set(entry.name, entry)
}

for (const entry of BUILTIN_METHODS) registerMethodEntry(entry)

/**
 * The method slice of a config: a discriminated union on `method` of every entry's schema, built
 * when it is first used (so entries registered at start-up are in it).
 */
export const MethodConfigSchema = z.lazy((): MethodUnion => {
  union ??= z.discriminatedUnion('method', [...entries.values()].map((e) => e.schema) as [MethodSchema, ...MethodSchema[]])
  // Typed as the built-ins' union: a method registered at run time parses, but code is checked against these.
  return union as unknown as MethodUnion
})

export function findMethod(name: string): MethodEntry | undefined {
  return entries.get(name)
}

export function methodEntry(name: string): MethodEntry {
  const e = entries.get(name)
  if (!e) throw new Error(`unknown method "${name}" (known: ${[...entries.keys()].join(', ')})`)
  return e
}

/** Every method in the catalog, built-ins first, then in the order they were registered. */
export function methodEntries(): MethodEntry[] {
  return [...entries.values()]
}

/** The names of the methods with a trait, e.g. `methodsWith((t) => t.puWeights)`. */
export function methodsWith(has: (t: MethodEntry['traits']) => boolean): string[] {
  return methodEntries()
    .filter((e) => has(e.traits))
    .map((e) => e.name)
}

/** The catalog's label; anything else (e.g. 'random-init') as it is. */
export function methodLabel(name: string): string {
  return entries.get(name)?.label ?? name
}

/** The fine-tuning stage's method (and a supervised baseline's). */
export const FINETUNE_METHOD: MethodName = 'supervised'

/**
 * The method a run is listed under: its pretraining method; the fine-tuning method for a
 * supervised baseline; for a run that trains nothing, 'imported' when it evaluates a backbone from
 * a weights file (backbone.init), else 'random-init' (probes on random features).
 */
export function runMethodOf(c: {
  pretrain: { enabled: boolean; method: { method: string } }
  finetune: { enabled: boolean }
  backbone?: { init?: { kind: string } }
}): string {
  return c.pretrain.enabled ? c.pretrain.method.method : c.finetune.enabled ? FINETUNE_METHOD : c.backbone?.init?.kind === 'file' ? 'imported' : 'random-init'
}

/** The SimCLR augmentation settings of a method that draws SimCLR pairs; null for the others. */
export function simclrPairOf(cfg: { method: string }): { minCropScale: number; jitter: number } | null {
  return findMethod(cfg.method)?.traits.views === 'simclr-pair' ? (cfg as unknown as { minCropScale: number; jitter: number }) : null
}
