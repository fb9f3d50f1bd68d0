// A map's layer choice follows the run: it starts at the layer the evaluations read and offers
// only the layers the run's network has (a projection head only where the method's catalog entry
// has one, RFD's fc halves only for its decoupled feature).
import { describe, expect, it } from 'vitest'
import { RunConfigSchema } from '../../../src-shared/config/run'
import { layersFor } from '../../../src-renderer/src/lib/map-spec'

const ids = (config: unknown): string[] => layersFor(config).layers.map((l) => l.id)

describe('map layers of a run', () => {
  it('default to the evaluations’ layer, conv5 unless the config says otherwise', () => {
    expect(layersFor(RunConfigSchema.parse({ pretrain: { method: { method: 'rotnet' } } })).defaultLayer).toBe('conv5')
    expect(layersFor(RunConfigSchema.parse({ evaluation: { layer: 'pool5' } })).defaultLayer).toBe('pool5')
    expect(layersFor(RunConfigSchema.parse({ evaluation: { layer: 'fc' } })).defaultLayer).toBe('fc')
    // A layer maps cannot show (conv3) falls back to conv5; so does a run not loaded yet.
    expect(layersFor(RunConfigSchema.parse({ evaluation: { layer: 'conv3' } })).defaultLayer).toBe('conv5')
    expect(layersFor(null).defaultLayer).toBe('conv5')
  })

  it('offer the projection head and the fc halves only where the method has them', () => {
    expect(ids(RunConfigSchema.parse({ pretrain: { method: { method: 'rotnet' } } }))).toEqual(['conv5', 'pool5', 'fc'])
    expect(ids(RunConfigSchema.parse({ pretrain: { method: { method: 'supervised' } } }))).toEqual(['conv5', 'pool5', 'fc'])
    expect(ids(RunConfigSchema.parse({ pretrain: { method: { method: 'simclr' } } }))).toEqual(['conv5', 'pool5', 'fc', 'proj'])
    expect(ids(RunConfigSchema.parse({ pretrain: { method: { method: 'rfd' } } }))).toEqual(['conv5', 'pool5', 'fc', 'fc-inv', 'fc-rot', 'proj'])
    // Pretraining off: a random-init network has no heads.
    expect(ids(RunConfigSchema.parse({ pretrain: { enabled: false, method: { method: 'rfd' } } }))).toEqual(['conv5', 'pool5', 'fc'])
  })
})
