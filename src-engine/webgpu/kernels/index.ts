// The project's kernels for tfjs-backend-webgpu, registered over the stock ones (as the wasm
// training kernels are for wasm): correctness fixes and tiled replacements for naive training
// kernels (README.md lists them and the step profile that picks the next). Host-agnostic: Dawn
// under Node and Chromium's WebGPU in the app's GPU window register the same list after
// '@tensorflow/tfjs-backend-webgpu' is imported.
import * as tf from '@tensorflow/tfjs-core'
import { conv2DBackpropFilterConfig } from './conv2d-backprop-filter'
import { maxPoolGradConfig } from './max-pool-grad'

export const WEBGPU_TRAINING_KERNELS: readonly tf.KernelConfig[] = [maxPoolGradConfig, conv2DBackpropFilterConfig]

const stock = new Map<string, tf.KernelConfig>()

/** Replaces the stock kernels; calling it again does nothing. Returns the kernel names. */
export function registerWebGpuTrainingKernels(): string[] {
  for (const k of WEBGPU_TRAINING_KERNELS) {
    const current = tf.getKernel(k.kernelName, 'webgpu')
    if (current === k) continue
    if (current) {
      if (!stock.has(k.kernelName)) stock.set(k.kernelName, current)
      tf.unregisterKernel(k.kernelName, 'webgpu')
    }
    tf.registerKernel(k)
  }
  return WEBGPU_TRAINING_KERNELS.map((k) => k.kernelName)
}

/** Puts the stock kernels back (tests compare against them). */
export function unregisterWebGpuTrainingKernels(): void {
  for (const k of WEBGPU_TRAINING_KERNELS) {
    if (tf.getKernel(k.kernelName, 'webgpu') !== k) continue
    tf.unregisterKernel(k.kernelName, 'webgpu')
    const s = stock.get(k.kernelName)
    if (s) tf.registerKernel(s)
  }
}
