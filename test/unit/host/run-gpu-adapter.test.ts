// A run records the GPU adapter of each attempt: run.json's `adapters` (index for index with
// `backends`, null for a CPU backend or an attempt from before adapters were recorded) and the
// run log's "Training on …" line. No GPU needed: the worker's 'ready' message is made up.
import { describe, expect, it } from 'vitest'
import { liveRun, onTrainingMessage, type RunKeeper } from '../../../src-host/runs/run-supervision'
import type { RunFile } from '../../../src-node/run-folder'
import type { RunStatus } from '../../../src-shared/contract/runs'
import type { BackendStatus, GpuAdapter } from '../../../src-shared/contract'

const adapter: GpuAdapter = {
  vendor: 'nvidia',
  architecture: 'hopper',
  device: '',
  description: 'NVIDIA H100 80GB HBM3',
  isFallbackAdapter: false,
  software: null,
  limits: { maxStorageBufferBindingSize: 2 ** 31, maxBufferSize: 2 ** 34, maxComputeWorkgroupStorageSize: 49152, maxComputeInvocationsPerWorkgroup: 1024 },
  host: 'node-dawn'
}

function keeper(logs: string[], saved: RunFile[]): RunKeeper {
  return {
    persist: async () => {},
    setState: async () => {},
    saveRunFile: async (r) => void saved.push(structuredClone(r.run)),
    log: (_r, _level, message) => void logs.push(message),
    changed: () => {},
    metricsPending: () => {}
  } as RunKeeper
}

const statuses = (chosen: 'webgpu' | 'wasm'): BackendStatus[] => [
  { name: 'webgpu', pkg: '@tensorflow/tfjs-backend-webgpu', ok: chosen === 'webgpu', detail: 'ran a conv2d gradient', fix: null, adapter },
  { name: 'wasm', pkg: '@tensorflow/tfjs-backend-wasm', ok: true, detail: 'ran a conv2d gradient', fix: null }
]

describe('a run records its GPU adapter', () => {
  it('per attempt, aligned with the backends (an older attempt without one counts as null), and in the log', () => {
    // An attempt recorded before adapters were.
    const r = liveRun('/nowhere/runs/x', '/nowhere', { backends: ['wasm'] } as unknown as RunFile, {} as RunStatus)
    const logs: string[] = []
    const saved: RunFile[] = []
    onTrainingMessage(r, { type: 'ready', backend: 'webgpu', statuses: statuses('webgpu') }, keeper(logs, saved))
    expect(r.run.backends).toEqual(['wasm', 'webgpu'])
    expect(r.run.adapters).toEqual([null, adapter])
    expect(logs[0]).toMatch(/^Training on webgpu \(NVIDIA H100 80GB HBM3 \(nvidia, hopper\) — max storage binding 2048 MiB/)
    onTrainingMessage(r, { type: 'ready', backend: 'wasm', statuses: statuses('wasm') }, keeper(logs, saved))
    expect(r.run.backends).toEqual(['wasm', 'webgpu', 'wasm'])
    expect(r.run.adapters).toEqual([null, adapter, null])
    expect(logs[1]).toMatch(/^Training on wasm\. /)
    expect(saved.at(-1)?.adapters).toEqual([null, adapter, null])
  })
})
