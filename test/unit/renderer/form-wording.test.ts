// The run form's words read right: "1 epoch", "Remove transfer dataset 1", and the launch panel
// names the chosen method while another field still keeps the config invalid.
import { describe, expect, it } from 'vitest'
import { RunConfigSchema } from '../../../src-shared/config/run'
import { itemLabelOf, unitFor, unitOf } from '../../../src-renderer/src/lib/field-labels'
import { draftMethodLabel, planOf } from '../../../src-renderer/src/lib/run-plan'

describe('run form wording', () => {
  it('a unit after the value 1 is singular', () => {
    const unit = unitOf(['pretrain', 'epochs'])
    expect(unit).toBe('epochs')
    expect(unitFor(unit, 1)).toBe('epoch')
    expect(unitFor(unit, 2)).toBe('epochs')
    expect(unitFor('px', 1)).toBe('px')
  })

  it('a list item is named in the singular, numbered without "#"', () => {
    expect(itemLabelOf(['evaluation', 'transfer'])).toBe('Transfer dataset')
  })

  it('the plan says "1 epoch"', () => {
    const c = RunConfigSchema.parse({ pretrain: { epochs: 1 }, evaluation: { linear: { epochs: 1 } } })
    const text = planOf(c, new Map())
      .flatMap((s) => s.lines)
      .join('\n')
    expect(text).toMatch(/\b1 epoch\b/)
    expect(text).not.toMatch(/\b1 epochs\b/)
  })

  it('the launch panel names the chosen method from the draft, even when the config is not valid yet', () => {
    expect(draftMethodLabel({ dataset: { kind: 'dataset', id: '' }, pretrain: { method: { method: 'rotnet' } } })).toBe('RotNet')
    expect(draftMethodLabel({ pretrain: { enabled: false }, finetune: { enabled: false } })).toBe('random-init')
    expect(draftMethodLabel({})).toBe('—')
  })
})
