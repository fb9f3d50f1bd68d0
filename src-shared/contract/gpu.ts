// The description of a WebGPU adapter as the engine reports it (backend statuses, doctor, the
// Workspace view): what the GPU is, whether it is a software rasteriser, and the limits that decide
// which networks fit. Shared by the Node (Dawn) host of the GPU worker and, later, the app's GPU
// window, so both describe an adapter the same way.
import { z } from 'zod'

export const GpuAdapterSchema = z.object({
  vendor: z.string(),
  architecture: z.string(),
  /** Driver's device name (may be empty). */
  device: z.string(),
  /** Human-readable adapter and driver ("llvmpipe: Mesa 25.0.7 (LLVM 15.0.6)"). */
  description: z.string(),
  isFallbackAdapter: z.boolean(),
  /**
   * Why it counts as a software adapter (fallback adapter, architecture 'software', llvmpipe,
   * lavapipe, SwiftShader…), or null for a hardware GPU. Software adapters are not chosen for
   * training unless forced.
   */
  software: z.string().nullable(),
  /** Limits of the device the engine created (the adapter's maxima where it asked for them), in bytes. */
  limits: z.object({
    maxStorageBufferBindingSize: z.number(),
    maxBufferSize: z.number(),
    maxComputeWorkgroupStorageSize: z.number(),
    maxComputeInvocationsPerWorkgroup: z.number()
  }),
  /** Which host provides WebGPU: Dawn's Node bindings, or Chromium in the app's GPU window. */
  host: z.enum(['node-dawn', 'chromium'])
})
export type GpuAdapter = z.infer<typeof GpuAdapterSchema>

const MIB = 2 ** 20

/** One line: "llvmpipe (mesa, software; fallback adapter) — storage binding 128 MiB, buffer 4096 MiB". */
export function describeGpuAdapter(a: GpuAdapter): string {
  const name = a.description || a.device || 'unnamed adapter'
  const kind = [a.vendor, a.architecture].filter(Boolean).join(', ')
  const mib = (n: number): string => `${Math.floor(n / MIB)} MiB`
  return (
    `${name}${kind ? ` (${kind}${a.isFallbackAdapter ? '; fallback adapter' : ''})` : a.isFallbackAdapter ? ' (fallback adapter)' : ''}` +
    ` — max storage binding ${mib(a.limits.maxStorageBufferBindingSize)}, max buffer ${mib(a.limits.maxBufferSize)},` +
    ` workgroup storage ${(a.limits.maxComputeWorkgroupStorageSize / 1024).toFixed(0)} KiB`
  )
}

/** Identity facts in one line: "vendor mesa, architecture software, device llvmpipe-…, fallback adapter". */
export function gpuAdapterFacts(a: GpuAdapter): string {
  return [
    a.vendor && `vendor ${a.vendor}`,
    a.architecture && `architecture ${a.architecture}`,
    a.device && `device ${a.device}`,
    a.isFallbackAdapter ? 'fallback adapter' : '',
    a.software ? `software: ${a.software}` : 'hardware',
    a.host === 'node-dawn' ? 'through Dawn (the webgpu package)' : "through Chromium's WebGPU"
  ]
    .filter(Boolean)
    .join(', ')
}
