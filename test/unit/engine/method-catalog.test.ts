// The method catalog: a method is one catalog entry plus one engine file. A toy method registered
// here (test/helpers/toy-method/) reaches the run config schema and the Trainer with no other edit
// (renderer/method-catalog-form.test.ts: and the run form); late or malformed registrations are
// refused; the built-in entries' traits agree with what their implementations do.
import { beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { selectBackend } from '../../../src-engine/backends'
import { registerMethod } from '../../../src-engine/methods/registry'
import { Trainer } from '../../../src-engine/trainer'
import { generateSampleDataset } from '../../../src-shared/sample-dataset'
import { parseRunConfig } from '../../../src-shared/config/run'
import { METHOD_NAMES, parseTrainConfig } from '../../../src-shared/config/train'
import { defineMethod, methodEntry, methodLabel, registerMethodEntry, runMethodOf } from '../../../src-shared/methods/catalog'
import { toyColour } from '../../helpers/toy-method/entry'
import { createToyColour } from '../../helpers/toy-method/method'

// At start-up, before any config is parsed: the method schema is built from the catalog when first used.
registerMethod(toyColour, createToyColour)

const data = generateSampleDataset({ perClass: 8, size: 32, seed: 3 })
const trainConfig = (method: Record<string, unknown>, lr = 0.03) =>
  parseTrainConfig({
    seed: 1,
    backbone: { arch: 'alexnet32', width: 0.125 },
    method,
    optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    schedule: { kind: 'constant', lr },
    batchSize: 10,
    epochs: 100
  })
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length

beforeAll(async () => {
  expect((await selectBackend('wasm')).name).toBe('wasm')
})

describe('a method added by registration', () => {
  it('parses in a run config with its defaults; an unknown key or a value out of range is an error naming it', () => {
    const c = parseRunConfig({ pretrain: { method: { method: 'toy-colour' } } })
    expect(c.pretrain.method).toEqual({ method: 'toy-colour', weight: 1 })
    expect(runMethodOf(c)).toBe('toy-colour')
    expect(methodLabel(runMethodOf(c))).toBe('Toy: mean colour')
    expect(() => parseRunConfig({ pretrain: { method: { method: 'toy-colour', wieght: 2 } } })).toThrow(
      'pretrain.method: unknown key "wieght"; did you mean "weight"?'
    )
    expect(() => parseRunConfig({ pretrain: { method: { method: 'toy-colour', weight: 20 } } })).toThrow(
      'pretrain.method.weight: loss weight must be at most 10'
    )
    expect(() => parseRunConfig({ pu: { enabled: true }, pretrain: { method: { method: 'toy-colour' } } })).toThrow(
      'pu.enabled: PU weights apply to the rfd method only'
    )
  })

  it('trains through the Trainer: finite losses that fall over 20 steps, logging what its entry says', () => {
    // A regression head under SGD momentum 0.9: at lr 0.03 its loss first blows up to hundreds.
    const t = new Trainer(trainConfig({ method: 'toy-colour' }, 0.003), data)
    const losses: number[] = []
    try {
      for (let i = 0; i < 20; i++) {
        const r = t.step()
        expect(Object.keys(r.metrics).sort()).toEqual(['loss', ...toyColour.traits.metrics].sort())
        expect(Number.isFinite(r.metrics.loss)).toBe(true)
        losses.push(r.metrics.loss!)
      }
    } finally {
      t.dispose()
    }
    expect(mean(losses.slice(-5))).toBeLessThan(mean(losses.slice(0, 5)))
  })

  it('is refused once a config has been parsed, under a name already taken, or with a schema that is not strict', () => {
    const late = defineMethod({ ...toyColour, name: 'toy-late', schema: z.strictObject({ method: z.literal('toy-late') }) })
    expect(() => registerMethod(late, createToyColour as never)).toThrow('method "toy-late" was registered after the method config schema was first used')
    expect(() => registerMethod(toyColour, createToyColour)).toThrow('method "toy-colour" has an implementation already')
    expect(() => registerMethodEntry({ ...toyColour })).toThrow('method "toy-colour" is in the catalog already')
    const loose = { ...toyColour, name: 'toy-loose', schema: z.object({ method: z.literal('toy-loose') }) }
    expect(() => registerMethodEntry(loose)).toThrow('method "toy-loose": its schema must be a z.strictObject')
    expect(() => registerMethodEntry({ ...toyColour, name: 'toy-misnamed' })).toThrow('its schema\'s "method" must be z.literal("toy-misnamed")')
  })
})

describe('built-in catalog entries agree with their implementations', () => {
  it.each(METHOD_NAMES)('%s: logs its listed metrics; has a rotation / projection head exactly when its traits say so', (name) => {
    const traits = methodEntry(name).traits
    const t = new Trainer(trainConfig({ method: name, ...(name === 'rfd' ? { nceK: 16 } : {}) }), data)
    try {
      expect(Object.keys(t.step().metrics).sort()).toEqual(['loss', ...traits.metrics].sort())
      expect(t.method.predictRotation !== undefined).toBe(traits.rotationHead)
      expect(t.method.project !== undefined).toBe(traits.projectionHead)
    } finally {
      t.dispose()
    }
  })
})
