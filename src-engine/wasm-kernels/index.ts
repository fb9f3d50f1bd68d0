// Fast training kernels for TensorFlow.js's 'wasm' backend. See README.md.
import { getKernel, type KernelConfig, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core'
import { batchMatMulConfig, fusedMatMulConfig } from './batch-mat-mul'
import { batchNormTrainConfig, batchNormTrainGradConfig, registerBatchNormTrainGradient } from './batch-norm-relu'
import { conv2DConfig } from './conv2d'
import { conv2DBackpropFilterConfig, conv2DBackpropInputConfig } from './conv2d-backprop'
import { depthwiseConv2dNativeBackpropFilterConfig, depthwiseConv2dNativeBackpropInputConfig } from './depthwise-backprop'
import { maxPoolGradConfig } from './max-pool-grad'
import { identityConfig } from './identity'
import { meanConfig, sumConfig } from './reduce'
import { reverseConfig } from './reverse'
import { sgdStepConfig } from './sgd'
import { tileConfig } from './tile'
import { unsortedSegmentSumConfig } from './unsorted-segment-sum'
import { BACKEND, rememberStockKernel, stockKernel } from './util'

export { batchMatMul, fusedMatMul } from './batch-mat-mul'
export {
  batchNormTrain,
  batchNormTrainKernel,
  batchNormTrainGradKernel,
  setFusedBatchNormDisabled,
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD
} from './batch-norm-relu'
export { sgdStep, sgdStepKernel, setFusedSgdDisabled, SGD_STEP } from './sgd'
export { conv2D } from './conv2d'
export { conv2DBackpropFilter, conv2DBackpropInput } from './conv2d-backprop'
export { depthwiseConv2dNativeBackpropFilter, depthwiseConv2dNativeBackpropInput } from './depthwise-backprop'
export { maxPoolGrad } from './max-pool-grad'
export { identity } from './identity'
export { mean, sum } from './reduce'
export { reverse } from './reverse'
export { tile } from './tile'
export { unsortedSegmentSum } from './unsorted-segment-sum'
export type { WasmBackend } from './util'

/** Every kernel this library provides for the 'wasm' backend. */
export const WASM_TRAINING_KERNELS: readonly KernelConfig[] = [
  conv2DConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  maxPoolGradConfig,
  batchMatMulConfig,
  fusedMatMulConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  tileConfig,
  reverseConfig,
  unsortedSegmentSumConfig,
  sumConfig,
  meanConfig,
  identityConfig,
  batchNormTrainConfig,
  batchNormTrainGradConfig,
  sgdStepConfig
]

const ours = new Set(WASM_TRAINING_KERNELS.map((k) => k.kernelFunc))

/**
 * Registers the kernels for the 'wasm' backend, replacing the stock ones where wasm has them
 * (those are kept and used internally where they are fast). Call it after
 * `import '@tensorflow/tfjs-backend-wasm'` (which registers the stock kernels), before or after
 * `await tf.setBackend('wasm')`. Calling it again does nothing. Returns the kernel names.
 */
export function registerWasmTrainingKernels(): string[] {
  if (getKernel('Conv2D', BACKEND) == null) {
    throw new Error("wasm-kernels: the wasm backend's kernels are not registered; import '@tensorflow/tfjs-backend-wasm' first")
  }
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = getKernel(config.kernelName, BACKEND)
    if (existing != null && ours.has(existing.kernelFunc)) continue
    if (existing != null) {
      rememberStockKernel(existing)
      unregisterKernel(config.kernelName, BACKEND)
    }
    registerKernel(config)
  }
  registerBatchNormTrainGradient()
  return WASM_TRAINING_KERNELS.map((k) => k.kernelName)
}

/** Puts the stock wasm kernels back (and removes those wasm never had). */
export function unregisterWasmTrainingKernels(): void {
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = getKernel(config.kernelName, BACKEND)
    if (existing == null || !ours.has(existing.kernelFunc)) continue
    unregisterKernel(config.kernelName, BACKEND)
    const stock = stockKernel(config.kernelName)
    if (stock != null) registerKernel(stock)
  }
}

/** The stock wasm kernel this library replaced, if any (for benchmarks and comparisons). */
export function stockWasmKernel(kernelName: string): KernelConfig | undefined {
  return stockKernel(kernelName)
}

export { enableWasmThreads, wasmThreadsInfo, type WasmThreadsInfo } from './threads'
