// Form errors read as sentences in the form's own words: "Transfer dataset 1: choose a dataset",
// not "evaluation.transfer.0.id: choose a dataset".
import { describe, expect, it } from 'vitest'
import { fieldNameOf, issueText } from '../../../src-renderer/src/lib/field-labels'

describe('form issue wording', () => {
  it('names a list item by its singular label and 1-based number', () => {
    expect(issueText('evaluation.transfer.0.id', 'choose a dataset')).toBe('Transfer dataset 1: choose a dataset')
    expect(issueText(['evaluation', 'transfer', 1, 'id'], 'choose a dataset')).toBe('Transfer dataset 2: choose a dataset')
  })

  it('names a field inside a list item after the item', () => {
    expect(fieldNameOf('evaluation.transfer.0.perClass')).toBe('Transfer dataset 1 › Train images per class')
  })

  it('names a nested field with its section', () => {
    expect(issueText('pretrain.batchSize', 'batch size must be at least 2')).toBe('Pretraining › Batch size: batch size must be at least 2')
    expect(fieldNameOf('backbone.width')).toBe('Backbone › Width multiplier')
    expect(fieldNameOf(['seed'])).toBe('Seed')
  })

  it('never shows a raw dotted path', () => {
    for (const p of ['evaluation.transfer.0.id', 'pretrain.schedule.warmupEpochs', 'finetune.optimizer.lr']) {
      expect(issueText(p, 'x')).not.toContain(p)
      expect(fieldNameOf(p)).not.toMatch(/\.\w/)
    }
  })

  it('a whole-config message is a sentence on its own', () => {
    expect(issueText('(config)', 'pretraining needs a method')).toBe('Pretraining needs a method')
    expect(issueText('', 'x')).toBe('X')
  })
})
