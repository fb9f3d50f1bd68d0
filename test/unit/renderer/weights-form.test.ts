// The New run form's "Starting weights": backbone.init walks into a kind select (random or a
// .safetensors file) whose file variant is a path field, starts at random, words its fields, and
// the schema's messages reach the form; a run that only evaluates an imported backbone is named so.
import { describe, expect, it } from 'vitest'
import { RunConfigSchema, parseRunConfig } from '../../../src-shared/config/run'
import { runMethodOf } from '../../../src-shared/methods/catalog'
import { defaultOf, variantDefault, walk, type ObjectField, type UnionField } from '../../../src-renderer/src/lib/schema-form'
import { hintOf, labelOf, variantLabel } from '../../../src-renderer/src/lib/field-labels'
import { noCurvesText } from '../../../src-renderer/src/lib/curves'

const backbone = (walk(RunConfigSchema) as ObjectField).fields.find((f) => f.key === 'backbone') as ObjectField

describe('Starting weights in the run form', () => {
  it('is a random / file choice with a path field, random by default', () => {
    const init = backbone.fields.find((f) => f.key === 'init') as UnionField
    expect(init.kind).toBe('union')
    expect(init.variants.map((v) => v.value)).toEqual(['random', 'file'])
    expect(defaultOf(init)).toEqual({ kind: 'random' })
    const file = init.variants.find((v) => v.value === 'file')!.node
    expect(file.fields.filter((f) => f.key !== 'kind').map((f) => [f.key, f.kind])).toEqual([['path', 'string']])
    expect(variantDefault(init, 'file')).toEqual({ kind: 'file', path: '' })
    expect(labelOf(['backbone', 'init'])).toBe('Starting weights')
    expect(labelOf(['backbone', 'init', 'path'], 'file')).toBe('Weights file')
    expect(hintOf(['backbone', 'init', 'path'], 'file')).toMatch(/Full path on the machine the host runs on/)
    expect([variantLabel('random'), variantLabel('file')]).toEqual(['Random (PyTorch’s default init)', 'A .safetensors file'])
    // The form's first state for a file is refused with the schema's own words.
    expect(() => parseRunConfig({ backbone: { init: variantDefault(init, 'file') } })).toThrow(/backbone\.init\.path: give the path of a \.safetensors file/)
  })

  it('names a run that evaluates an imported backbone, and says why it has no training curves', () => {
    const c = parseRunConfig({ pretrain: { enabled: false }, backbone: { init: { kind: 'file', path: '/w/a.safetensors' } } })
    expect(runMethodOf(c)).toBe('imported')
    expect(runMethodOf(parseRunConfig({ pretrain: { enabled: false } }))).toBe('random-init')
    expect(noCurvesText('imported', 'done')).toMatch(/Imported backbone, evaluated frozen/)
  })
})
