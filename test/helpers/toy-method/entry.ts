// A toy method's catalog entry, as a new method would add it to src-shared/methods/builtin.ts:
// "colour" pretraining, i.e. predict each image's mean colour from its fc feature. Small enough to
// train in a few steps; it exists to prove that a method is one entry plus one engine file.
import { z } from 'zod'
import { num } from '../../../src-shared/config/fields'
import { defineMethod } from '../../../src-shared/methods/catalog'

export const toyColour = defineMethod({
  name: 'toy-colour',
  label: 'Toy: mean colour',
  summary: 'Regress each image’s mean colour from its fc feature (a test method).',
  schema: z.strictObject({
    method: z.literal('toy-colour'),
    weight: num(0.01, 10, 1, 'loss weight')
  }),
  traits: { rotationHead: false, projectionHead: false, needsLabels: false, views: 'images', puWeights: false, metrics: ['mse'] },
  fields: { weight: { label: 'Loss weight', hint: 'Multiplies the colour MSE.' } }
})
