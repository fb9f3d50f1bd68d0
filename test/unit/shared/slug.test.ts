// Names from free text: dataset ids, run ids and export file names share one rule.
import { describe, expect, it } from 'vitest'
import { slugify } from '../../../src-shared/slug'

describe('slugify', () => {
  it('keeps lower-case letters and digits, folds accents, joins the rest with single dashes', () => {
    expect(slugify('  RFD (contrastive) — Café #2  ', 80, 'run')).toBe('rfd-contrastive-cafe-2')
    expect(slugify('Tiny ImageNet 200', 8, 'dataset')).toBe('tiny-ima')
    expect(slugify('日本語', 30, 'run')).toBe('run')
    expect(slugify('---', 30, 'map')).toBe('map')
  })
})
