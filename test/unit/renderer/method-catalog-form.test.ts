// The run form of a method added to the catalog: registering its entry (test/helpers/toy-method/)
// gives the method select a variant with the entry's fields, defaults, label and field words,
// with no edit to the form. The engine side of the same method: ../method-catalog.test.ts.
import { describe, expect, it } from 'vitest'
import { RunConfigSchema, parseRunConfig } from '../../../src-shared/config/run'
import { METHOD_NAMES } from '../../../src-shared/config/train'
import { registerMethodEntry } from '../../../src-shared/methods/catalog'
import { variantDefault, walk, type NumberField, type ObjectField, type UnionField } from '../../../src-renderer/src/lib/schema-form'
import { hintOf, labelOf, variantLabel } from '../../../src-renderer/src/lib/field-labels'
import { planOf } from '../../../src-renderer/src/lib/run-plan'
import { toyColour } from '../../helpers/toy-method/entry'

// Before the form walks the schema: the method union is built from the catalog when first used.
registerMethodEntry(toyColour)

describe('a method added to the catalog', () => {
  it('shows in the run form: a variant of the method select with its own fields, defaults and words', () => {
    const tree = walk(RunConfigSchema) as ObjectField
    const pretrain = tree.fields.find((f) => f.key === 'pretrain') as ObjectField
    const method = pretrain.fields.find((f) => f.key === 'method') as UnionField
    expect(method.kind).toBe('union')
    expect(method.variants.map((v) => v.value)).toEqual([...METHOD_NAMES, 'toy-colour'])
    const toy = method.variants.find((v) => v.value === 'toy-colour')!
    expect(toy.node.fields.map((f) => f.key)).toEqual(['method', 'weight'])
    expect(toy.node.fields[1] as NumberField).toMatchObject({ kind: 'number', min: 0.01, max: 10, defaultValue: 1 })
    expect(variantDefault(method, 'toy-colour')).toEqual({ method: 'toy-colour', weight: 1 })
    expect(variantLabel('toy-colour')).toBe('Toy: mean colour')
    expect(labelOf(['pretrain', 'method', 'weight'], 'toy-colour')).toBe('Loss weight')
    expect(hintOf(['pretrain', 'method', 'weight'], 'toy-colour')).toBe('Multiplies the colour MSE.')
    // A built-in's own words come from its entry too; shared keys keep the form's.
    expect(labelOf(['pretrain', 'method', 'nceK'], 'rfd')).toBe('NCE negatives K')
    expect(labelOf(['pretrain', 'method', 'tau'], 'simclr')).toBe('Temperature τ')
  })

  it('the run plan names it by its label and counts rotated views only for methods that draw them', () => {
    const plan = (method: string): string[] => {
      const stage = planOf(parseRunConfig({ pretrain: { method: { method } } }), new Map()).find((s) => s.id === 'pretrain')!
      return [stage.title, stage.lines[0]!]
    }
    expect(plan('toy-colour')).toEqual(['Pretraining: Toy: mean colour', '5 epochs × 32 steps = 160 steps, batch 64'])
    expect(plan('rotnet')).toEqual(['Pretraining: RotNet', '5 epochs × 32 steps = 160 steps, batch 64 (× 4 rotations)'])
  })
})
