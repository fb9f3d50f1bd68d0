// The map form: what it sends, what it refuses, how a stored map is described.
import { describe, expect, it } from 'vitest'
import { defaultForm, describeSpec, formFromSpec, specFromForm } from '../../../src-renderer/src/lib/map-spec'

describe('map form', () => {
  it('the default form is a valid spec, and a stored spec fills the form back', () => {
    const r = specFromForm(defaultForm())
    expect(r.ok).toBe(true)
    if (!r.ok) return
    const again = specFromForm(formFromSpec(r.spec as unknown as Record<string, unknown>))
    expect(again).toEqual(r)
  })

  it('a cleared number is refused, not replaced by its default', () => {
    const f = { ...defaultForm(), method: 'tsne' as const, perplexity: '' as const }
    const r = specFromForm(f)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.issues.perplexity).toBe('a number is required')
  })

  it('describes a spec in one line', () => {
    expect(describeSpec({ method: 'umap', layer: 'conv5', split: 'test', maxPoints: 2000, neighbors: 15, seed: 3 })).toBe(
      'UMAP · conv5 · test · 2,000 points · 15 neighbours · seed 3'
    )
  })
})
