// The multithreaded wasm backend (src-engine/wasm-kernels/threads.ts): in a child process per
// thread count, selectBackend('wasm') really runs XNNPACK on a pool of threads, training gives
// bit-identical losses and parameters with 1 and 2 threads (rfd with its memory bank, and
// rfd-contrastive), and the process ends by itself (the pthreads do not hold the event loop).
import { describe, expect, it } from 'vitest'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { setWasmThreads, wasmThreads } from '../../../src-engine/backends'

const RUN = path.resolve('test/helpers/wasm-threads-run.ts')

interface RunOut {
  info: { requested: number; threads: number; fallback: string | null } | null
  threads: number
  pthreads: number
  multithreadFlag: boolean
  globalsRestored: boolean
  rfd: { losses: number[]; paramBits: string }
  rfdContrastive: { losses: number[]; paramBits: string }
}

function runChild(threads: number): Promise<{ code: number | null; out: RunOut; ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const child = execFile(process.execPath, ['--import', 'tsx', RUN, String(threads)], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && err.killed) return reject(new Error(`threads=${threads}: did not exit by itself within 60 s`))
      const line = stdout.trim().split('\n').at(-1) ?? ''
      if (!line.startsWith('{')) return reject(new Error(`threads=${threads}: no result (${stderr.trim().split('\n').at(-1)})`))
      resolve({ code: child.exitCode, out: JSON.parse(line) as RunOut, ms: performance.now() - t0 })
    })
  })
}

describe('multithreaded wasm backend', () => {
  it('runs XNNPACK on 2 threads, trains bit-identically to 1 thread, and exits by itself', async () => {
    const [one, two] = await Promise.all([runChild(1), runChild(2)])
    expect(one.code).toBe(0)
    expect(two.code).toBe(0)
    // 1: the single-threaded SIMD build, as tfjs loads it in Node by itself.
    expect(one.out).toMatchObject({ info: null, threads: 1, pthreads: 0, multithreadFlag: false })
    // 2: the threaded build with one pthread beside the calling thread.
    expect(two.out).toMatchObject({ info: { requested: 2, threads: 2, fallback: null }, threads: 2, pthreads: 1, multithreadFlag: true, globalsRestored: true })
    for (const r of [one.out.rfd, one.out.rfdContrastive]) for (const l of r.losses) expect(Number.isFinite(l)).toBe(true)
    expect(two.out.rfd).toEqual(one.out.rfd)
    expect(two.out.rfdContrastive).toEqual(one.out.rfdContrastive)
  }, 60_000)

  it('validates the thread count', () => {
    expect(() => setWasmThreads(0)).toThrow(/1\.\.8/)
    expect(() => setWasmThreads(9)).toThrow(/1\.\.8/)
    expect(() => setWasmThreads(1.5)).toThrow(/1\.\.8/)
    setWasmThreads(3)
    expect(wasmThreads()).toBe(3)
    setWasmThreads(null)
    const prev = process.env.QUARTERTURN_WASM_THREADS
    process.env.QUARTERTURN_WASM_THREADS = '2'
    expect(wasmThreads()).toBe(2)
    process.env.QUARTERTURN_WASM_THREADS = 'x'
    expect(() => wasmThreads()).toThrow(/QUARTERTURN_WASM_THREADS/)
    if (prev === undefined) delete process.env.QUARTERTURN_WASM_THREADS
    else process.env.QUARTERTURN_WASM_THREADS = prev
  })
})
