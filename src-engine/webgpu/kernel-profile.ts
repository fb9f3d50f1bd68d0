// Owns per-kernel timing on the webgpu backend: every kernel registered for 'webgpu' is wrapped
// so that each call waits for the GPU before and after it (finishGpuWork), giving wall time per
// kernel name and call counts. Timer queries are no help here: Dawn's software adapters
// (llvmpipe) lack 'timestamp-query', and tf.profile's kernelTimeMs needs them. Waiting after
// every kernel removes the CPU/GPU overlap, so the total exceeds a real step's time; the split
// between kernels is what it is for (src-engine/webgpu/kernels/README.md).
import * as tf from '@tensorflow/tfjs-core'
import { finishGpuWork } from './sync-read'

export interface KernelTime {
  kernel: string
  calls: number
  ms: number
  /** The input shapes of the slowest call. */
  slowest: { ms: number; shapes: number[][] }
}

/** Runs `fn` with every webgpu kernel timed; returns its result and the kernels, slowest first. */
export function profileWebGpuKernels<T>(fn: () => T): { result: T; kernels: KernelTime[]; totalMs: number } {
  const backend = tf.findBackend('webgpu')
  if (!backend || tf.getBackend() !== 'webgpu') throw new Error('profileWebGpuKernels: the webgpu backend is not the active one')
  const times = new Map<string, KernelTime>()
  const originals = tf.getKernelsForBackend('webgpu')
  for (const k of originals) {
    const inner = k.kernelFunc
    tf.unregisterKernel(k.kernelName, 'webgpu')
    tf.registerKernel({
      ...k,
      kernelFunc: (args) => {
        finishGpuWork(backend)
        const t0 = performance.now()
        const out = inner(args)
        finishGpuWork(backend)
        const ms = performance.now() - t0
        const row = times.get(k.kernelName) ?? { kernel: k.kernelName, calls: 0, ms: 0, slowest: { ms: -1, shapes: [] } }
        row.calls++
        row.ms += ms
        if (ms > row.slowest.ms) row.slowest = { ms, shapes: Object.values(args.inputs).map((t) => [...(t as tf.TensorInfo).shape]) }
        times.set(k.kernelName, row)
        return out
      }
    })
  }
  const t0 = performance.now()
  try {
    const result = fn()
    finishGpuWork(backend)
    return { result, kernels: [...times.values()].sort((a, b) => b.ms - a.ms), totalMs: performance.now() - t0 }
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, 'webgpu')
      tf.registerKernel(k)
    }
  }
}

/** A plain-text table of the kernels (name, calls, total ms, share, slowest call's input shapes). */
export function formatKernelTimes(kernels: KernelTime[], top = 15): string {
  const total = kernels.reduce((s, k) => s + k.ms, 0)
  const lines = kernels.slice(0, top).map((k) => {
    const shapes = k.slowest.shapes.map((s) => `[${s.join(',')}]`).join(' ')
    return `${k.kernel.padEnd(24)} ${String(k.calls).padStart(5)} ${k.ms.toFixed(0).padStart(8)} ms ${((100 * k.ms) / total).toFixed(1).padStart(5)} %  slowest ${k.slowest.ms.toFixed(0)} ms ${shapes}`
  })
  return [`${'kernel'.padEnd(24)} calls    total       share`, ...lines, `(all ${kernels.length} kernels: ${total.toFixed(0)} ms)`].join('\n')
}
