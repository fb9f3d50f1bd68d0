// Names the config schemas refer to, kept free of TensorFlow.js so the renderer can import the
// schemas (to build forms) without pulling in the engine.
export const ALEXNET_ARCHS = ['alexnet224', 'alexnet64', 'alexnet32'] as const
export type AlexnetArch = (typeof ALEXNET_ARCHS)[number]
export const FEATURE_TAPS = ['conv1', 'conv2', 'conv3', 'conv4', 'conv5', 'pool5', 'fc'] as const
export type FeatureTap = (typeof FEATURE_TAPS)[number]

/** The reference's epoch lookup tables [maxEpoch, lr] (method-spec section 4). */
export const REFERENCE_LUTS = {
  pretrain: [
    [90, 0.01],
    [130, 1e-3],
    [190, 1e-4],
    [210, 1e-5],
    [230, 1e-4],
    [245, 1e-5]
  ] as [number, number][],
  linearEval: [
    [5, 0.01],
    [25, 0.002],
    [45, 0.0004],
    [65, 0.00008]
  ] as [number, number][],
  nonLinearEval: [
    [10, 0.01],
    [20, 0.002],
    [30, 0.0004],
    [40, 0.00008]
  ] as [number, number][],
  finetune: [
    [5, 0.1],
    [25, 0.02],
    [45, 0.004],
    [65, 0.0008]
  ] as [number, number][]
}
