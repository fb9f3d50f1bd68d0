// Turns a zod schema (the run config's) into a tree of form fields: kind, default, allowed range,
// enum options, discriminated-union variants. The New-run form renders this tree, so a field added
// to a config slice shows up in the form with its default and range without touching the UI; the
// same schema then validates the form, so the messages are the ones the CLI and the host print.
import type { z } from 'zod'

export type Path = (string | number)[]

interface Common {
  /** Key in the parent object (or index placeholder for array items). */
  key: string
  defaultValue: unknown
  nullable: boolean
}
export interface NumberField extends Common {
  kind: 'number'
  min: number | null
  max: number | null
  minExclusive: boolean
  maxExclusive: boolean
  int: boolean
}
export interface StringField extends Common {
  kind: 'string'
  minLength: number | null
  maxLength: number | null
}
export interface BooleanField extends Common {
  kind: 'boolean'
}
export interface EnumField extends Common {
  kind: 'enum'
  options: (string | number)[]
}
export interface ObjectField extends Common {
  kind: 'object'
  fields: Field[]
}
export interface UnionField extends Common {
  kind: 'union'
  discriminator: string
  variants: { value: string; schema: z.ZodType; node: ObjectField }[]
}
export interface ArrayField extends Common {
  kind: 'array'
  item: Field
  minItems: number | null
  maxItems: number | null
}
export interface TupleField extends Common {
  kind: 'tuple'
  items: Field[]
}
export interface UnknownField extends Common {
  kind: 'unknown'
}
export type Field = NumberField | StringField | BooleanField | EnumField | ObjectField | UnionField | ArrayField | TupleField | UnknownField

/** The parts of zod 4's internal definition this walker reads. */
interface Def {
  type: string
  innerType?: Schema
  defaultValue?: unknown
  shape?: Record<string, Schema>
  options?: Schema[]
  discriminator?: string
  entries?: Record<string, string | number>
  values?: unknown[]
  element?: Schema
  items?: Schema[]
  checks?: { _zod: { def: { check: string; value?: number; inclusive?: boolean; minimum?: number; maximum?: number } } }[]
  in?: Schema
}
interface Schema {
  _zod: { def: Def }
}

const defOf = (s: unknown): Def => (s as Schema)._zod.def

function lengthBounds(d: Def): { min: number | null; max: number | null } {
  let min: number | null = null
  let max: number | null = null
  for (const c of d.checks ?? []) {
    const cd = c._zod.def
    if (cd.check === 'min_length' && typeof cd.minimum === 'number') min = cd.minimum
    if (cd.check === 'max_length' && typeof cd.maximum === 'number') max = cd.maximum
  }
  return { min, max }
}

/** Build the field tree of a schema. `key` names it in its parent. */
export function walk(schema: z.ZodType, key = ''): Field {
  let s: unknown = schema
  let defaultValue: unknown = undefined
  let nullable = false
  // Peel wrappers: default / prefault give the default, nullable / optional mark emptiness, a
  // lazy schema stands for what it resolves to.
  for (;;) {
    const d = defOf(s)
    if (d.type === 'default' || d.type === 'prefault') {
      if (defaultValue === undefined) defaultValue = d.defaultValue
      s = d.innerType
    } else if (d.type === 'nullable' || d.type === 'optional') {
      nullable = true
      s = d.innerType
    } else if (d.type === 'pipe' && d.in) {
      s = d.in
    } else if (d.type === 'lazy') {
      // The method slice: the catalog's union, built when first used.
      s = (s as { _zod: { innerType: unknown } })._zod.innerType
    } else break
  }
  const d = defOf(s)
  const common = { key, defaultValue, nullable }
  switch (d.type) {
    case 'number': {
      let min: number | null = null
      let max: number | null = null
      let minExclusive = false
      let maxExclusive = false
      let int = false
      for (const c of d.checks ?? []) {
        const cd = c._zod.def as { check: string; value?: number; inclusive?: boolean; format?: string }
        if (cd.check === 'greater_than' && typeof cd.value === 'number' && (min === null || cd.value >= min)) {
          min = cd.value
          minExclusive = !cd.inclusive
        } else if (cd.check === 'less_than' && typeof cd.value === 'number' && (max === null || cd.value <= max)) {
          max = cd.value
          maxExclusive = !cd.inclusive
        } else if (cd.check === 'number_format' && (cd.format === 'safeint' || cd.format === 'int32')) {
          int = true
        }
      }
      return { ...common, kind: 'number', min, max, minExclusive, maxExclusive, int }
    }
    case 'string': {
      const b = lengthBounds(d)
      return { ...common, kind: 'string', minLength: b.min, maxLength: b.max }
    }
    case 'boolean':
      return { ...common, kind: 'boolean' }
    case 'enum':
      return { ...common, kind: 'enum', options: Object.values(d.entries ?? {}) }
    case 'literal':
      return { ...common, kind: 'enum', options: (d.values ?? []) as (string | number)[] }
    case 'object':
      return { ...common, kind: 'object', fields: Object.entries(d.shape ?? {}).map(([k, v]) => walk(v as unknown as z.ZodType, k)) }
    case 'union': {
      const options = d.options ?? []
      if (d.discriminator) {
        const disc = d.discriminator
        const variants = options.map((o) => {
          const node = walk(o as unknown as z.ZodType, key) as ObjectField
          const discField = node.fields.find((f) => f.key === disc)
          const value = discField && discField.kind === 'enum' ? String(discField.options[0]) : '?'
          return { value, schema: o as unknown as z.ZodType, node }
        })
        return { ...common, kind: 'union', discriminator: disc, variants }
      }
      // A union of literals (e.g. image size 32 | 64) is an enum.
      const lits = options.map(defOf)
      if (lits.every((l) => l.type === 'literal')) return { ...common, kind: 'enum', options: lits.flatMap((l) => (l.values ?? []) as (string | number)[]) }
      return { ...common, kind: 'unknown' }
    }
    case 'array': {
      const b = lengthBounds(d)
      return { ...common, kind: 'array', item: walk(d.element as unknown as z.ZodType, '#'), minItems: b.min, maxItems: b.max }
    }
    case 'tuple':
      return { ...common, kind: 'tuple', items: (d.items ?? []).map((it, i) => walk(it as unknown as z.ZodType, String(i))) }
    default:
      return { ...common, kind: 'unknown' }
  }
}

/** A value for a field with no default: the smallest the schema allows, so the form starts valid where it can. */
export function defaultOf(f: Field): unknown {
  if (f.defaultValue !== undefined) return structuredClone(f.defaultValue)
  if (f.nullable) return null
  switch (f.kind) {
    case 'number':
      if (f.min === null) return 0
      return f.minExclusive ? (f.int ? f.min + 1 : Math.min(f.max ?? 1, f.min === 0 ? 0.01 : f.min * 2)) : f.min
    case 'string':
      return ''
    case 'boolean':
      return false
    case 'enum':
      return f.options[0]
    case 'object':
      return Object.fromEntries(f.fields.map((x) => [x.key, defaultOf(x)]))
    case 'union':
      return variantDefault(f, f.variants[0]!.value)
    case 'array':
      return Array.from({ length: f.minItems ?? 0 }, () => defaultOf(f.item))
    case 'tuple':
      return f.items.map(defaultOf)
    default:
      return null
  }
}

/** The value of a union when the user picks a variant: the variant's own defaults. */
export function variantDefault(f: UnionField, value: string): Record<string, unknown> {
  const v = f.variants.find((x) => x.value === value)
  if (!v) return { [f.discriminator]: value }
  const parsed = v.schema.safeParse({ [f.discriminator]: value })
  if (parsed.success) return parsed.data as Record<string, unknown>
  const out = defaultOf(v.node) as Record<string, unknown>
  out[f.discriminator] = value
  return out
}

export function pathKey(p: Path): string {
  return p.map(String).join('.')
}

export function getAt(root: unknown, p: Path): unknown {
  let cur = root
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined
    cur = (cur as Record<string | number, unknown>)[k]
  }
  return cur
}

/** Set a value deep in a plain object tree (creating objects on the way). */
export function setAt(root: Record<string, unknown>, p: Path, value: unknown): void {
  let cur: Record<string | number, unknown> = root
  for (let i = 0; i < p.length - 1; i++) {
    const k = p[i]!
    if (cur[k] === null || typeof cur[k] !== 'object') cur[k] = typeof p[i + 1] === 'number' ? [] : {}
    cur = cur[k] as Record<string | number, unknown>
  }
  cur[p[p.length - 1]!] = value
}

/** "2–4096", "> 0 and ≤ 1", "≥ 0": the allowed range of a number, in words. */
export function rangeText(f: NumberField): string {
  const n = (v: number): string => formatNumber(v)
  if (f.min !== null && f.max !== null && !f.minExclusive && !f.maxExclusive) return `${n(f.min)}–${n(f.max)}`
  const parts: string[] = []
  if (f.min !== null) parts.push(`${f.minExclusive ? '>' : '≥'} ${n(f.min)}`)
  if (f.max !== null) parts.push(`${f.maxExclusive ? '<' : '≤'} ${n(f.max)}`)
  return parts.join(' and ')
}

export function formatNumber(v: number): string {
  if (v === 2 ** 31 - 1) return '2³¹−1'
  if (v !== 0 && (Math.abs(v) < 1e-3 || Math.abs(v) >= 1e6)) return v.toExponential().replace('e', 'e')
  return String(v)
}

/** Flatten a config into dotted keys (arrays stay whole, as compact JSON). */
export function flatten(v: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>)
    if (!entries.length && prefix) out[prefix] = '{}'
    for (const [k, x] of entries) flatten(x, prefix ? `${prefix}.${k}` : k, out)
  } else if (prefix) {
    out[prefix] = typeof v === 'string' ? v : JSON.stringify(v)
  }
  return out
}
