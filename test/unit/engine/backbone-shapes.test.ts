// The host's table of backbone shapes (src-shared/backbone-shapes.ts, used to check imported
// weights without TensorFlow) against the network the engine builds, for every input variant.
import { describe, expect, it } from 'vitest'
import '@tensorflow/tfjs-backend-cpu'
import { AlexNet } from '../../../src-engine/models/alexnet'
import { ParamStore } from '../../../src-engine/models/params'
import { backboneShapesOf } from '../../../src-engine/start-weights'
import { alexnetGeometry, backboneShapes } from '../../../src-shared/backbone-shapes'
import { ALEXNET_ARCHS } from '../../../src-shared/config/names'
import { Rng } from '../../../src-shared/rng'

describe('backboneShapes', () => {
  it.each(ALEXNET_ARCHS.flatMap((arch) => [0.0625, 0.3].map((width) => [arch, width] as const)))('matches the engine for %s at width %s', (arch, width) => {
    const ps = new ParamStore(new Rng(0))
    const net = new AlexNet(ps, { arch, width })
    try {
      expect(backboneShapesOf(ps)).toEqual(backboneShapes(arch, width))
      const g = alexnetGeometry(arch, width)
      expect([g.poolSide, g.input, g.fc]).toEqual([net.poolSide, net.inputSize, net.featureDim])
    } finally {
      ps.dispose()
    }
  })
})
