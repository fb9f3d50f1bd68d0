// The run form's field tree, generated from the run config schema.
import { describe, expect, it } from 'vitest'
import { RunConfigSchema } from '../../../src-shared/config/run'
import { METHOD_NAMES } from '../../../src-shared/config/train'
import {
  defaultOf,
  flatten,
  getAt,
  rangeText,
  setAt,
  variantDefault,
  walk,
  type Field,
  type NumberField,
  type ObjectField,
  type UnionField
} from '../../../src-renderer/src/lib/schema-form'

const tree = walk(RunConfigSchema) as ObjectField
function at(path: string[]): Field {
  let f: Field = tree
  for (const k of path) {
    if (f.kind !== 'object') throw new Error(`${k}: not in an object`)
    f = f.fields.find((x) => x.key === k)!
  }
  return f
}

describe('schema-form', () => {
  it('walks the run config into fields with defaults, ranges and variants', () => {
    expect(tree.fields.map((f) => f.key)).toEqual(Object.keys(RunConfigSchema.shape))
    const batch = at(['pretrain', 'batchSize']) as NumberField
    expect(batch).toMatchObject({ kind: 'number', min: 2, max: 4096, int: true, defaultValue: 64 })
    expect(rangeText(batch)).toBe('2–4096')
    const method = at(['pretrain', 'method']) as UnionField
    expect(method.kind).toBe('union')
    expect(method.variants.map((v) => v.value).sort()).toEqual([...METHOD_NAMES].sort())
    const temperature = at(['evaluation', 'knn', 'temperature']) as NumberField
    expect(rangeText(temperature)).toBe('> 0 and ≤ 10')
  })

  it('the defaults of the whole tree form a valid config, equal to the schema default', () => {
    const d = defaultOf(tree)
    const parsed = RunConfigSchema.safeParse(d)
    expect(parsed.success).toBe(true)
    expect(parsed.data).toEqual(RunConfigSchema.parse({}))
  })

  it('picking a variant gives that variant its own defaults and nothing of another', () => {
    const method = at(['pretrain', 'method']) as UnionField
    const rfd = variantDefault(method, 'rfd')
    expect(rfd).toMatchObject({ method: 'rfd', nceK: 4096, nceT: 0.07 })
    const simclr = variantDefault(method, 'simclr')
    expect(simclr).toMatchObject({ method: 'simclr', tau: 0.5 })
    expect(simclr).not.toHaveProperty('nceK')
  })

  it('sets and reads deep paths, creating arrays for numeric keys, and flattens for diffs', () => {
    const root: Record<string, unknown> = {}
    setAt(root, ['evaluation', 'transfer', 0, 'id'], 'cifar')
    expect(root).toEqual({ evaluation: { transfer: [{ id: 'cifar' }] } })
    expect(getAt(root, ['evaluation', 'transfer', 0, 'id'])).toBe('cifar')
    expect(getAt(root, ['nope', 'x'])).toBeUndefined()
    expect(flatten({ a: { b: 1, c: [1, 2] }, d: 'x', e: {} })).toEqual({ 'a.b': '1', 'a.c': '[1,2]', d: 'x', e: '{}' })
  })
})
