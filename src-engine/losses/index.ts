// Loss functions of the rotation-based self-supervised methods (RotNet, Rotation Feature
// Decoupling, RFD-contrastive, SimCLR). Each module's header gives the paper, shapes and errors.
export { rotationCrossEntropy, rotationCrossEntropyPerView, puWeights, type Labels } from './rotation-ce'
export { invarianceMse, meanOverRotations, stopGradient } from './invariance'
export { MemoryBank, sampleNegatives, type MemoryBankOptions, type MemoryBankState } from './nce'
export { ntXent, ntXentViewVsMean, ntXentRotationsVsMean, type NtXentOptions } from './nt-xent'
