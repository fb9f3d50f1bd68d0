// Multithreaded wasm backend in Node: loads tfjs-backend-wasm's own threaded-SIMD build (the one
// browsers get when cross-origin isolated) so that XNNPACK (Conv2D, matmuls, and therefore every
// convolution and product of the training kernels here) runs on a pthreadpool of several threads.
//
// tfjs-backend-wasm 4.22 cannot do this by itself in Node, for three reasons, each worked around
// here only for the duration of the backend's initialisation:
//  1. WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false when IS_NODE (tfjs issue #3830). We set
//     the flag to true.
//  2. The pthread workers are created from `URL.createObjectURL(blob)` URLs, which Node's
//     worker_threads cannot start, and each worker then evaluates the main script from another
//     blob. We hand emscripten a real file instead (the package's own `wasmWorkerContents`,
//     written once to the temp folder) whose 'load' handler evaluates the package's
//     `wasm-out/tfjs-backend-wasm-threaded-simd.js` by path.
//  3. backend.cc caps the thread count at `emscripten_num_logical_cores() / 2` (it assumes two
//     hyper-threads per core), and in Node that is `os.cpus().length / 2`: 1 on a 2-core machine,
//     so `setThreadsCount(2)` silently gives one thread. While the module initialises we make
//     `os.cpus()` report at least 2x the requested thread count.
// The result: `getThreadsCount()` reports the requested count and PThread runs threads-1 workers
// (the calling thread is the pool's first thread). Results are bit-identical to the
// single-threaded SIMD build in our tests (XNNPACK splits work by output tiles, not by the
// reduction), see test/unit/engine/wasm-threads.test.ts.
//
// Use: call `enableWasmThreads(n)` after `import '@tensorflow/tfjs-backend-wasm'` and before the
// first `tf.setBackend('wasm')` (it wraps the registered backend factory). If the threaded build
// fails to start, the factory falls back to the single-threaded SIMD build with a warning.
import * as tf from '@tensorflow/tfjs-core'
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm'
import { createRequire } from 'node:module'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const requireHere = createRequire(import.meta.url)

/** What the wasm backend ended up with (threads = 1 when single-threaded). */
export interface WasmThreadsInfo {
  requested: number
  threads: number
  /** Why it runs single-threaded, when it does although more was requested. */
  fallback: string | null
}

let info: WasmThreadsInfo | null = null

/** The thread count of the initialised wasm backend (1 before `enableWasmThreads`). */
export function wasmThreadsInfo(): WasmThreadsInfo | null {
  return info
}

interface EmscriptenWorker {
  unref(): void
  terminate(): Promise<number>
}
interface ThreadedModule {
  PThread?: { runningWorkers: EmscriptenWorker[]; unusedWorkers: EmscriptenWorker[] }
  tfjs: { getThreadsCount(): number }
}

const WORKER_NEEDLE = 'parentPort.on("message",data=>onmessage({data:data}));'

/** Writes (once per content) the pthread worker script, patched to load the threaded build from a path. */
function pthreadWorkerFile(): string {
  const threadedJs = requireHere.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js')
  const { wasmWorkerContents } = requireHere('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string
  }
  if (!wasmWorkerContents.includes(WORKER_NEEDLE)) throw new Error('unexpected tfjs-backend-wasm pthread worker script (another tfjs version?)')
  // tfjs escapes newlines the same way before making its Blob.
  const script = wasmWorkerContents
    .replace(/\n/g, '\\n')
    .replace(WORKER_NEEDLE, `parentPort.on("message",data=>{if(data&&data.cmd==="load")data.urlOrBlob=${JSON.stringify(threadedJs)};onmessage({data:data})});`)
  const hash = createHash('sha256').update(script).digest('hex').slice(0, 16)
  const file = path.join(os.tmpdir(), `quarterturn-wasm-pthread-${hash}.cjs`)
  if (!fs.existsSync(file) || fs.readFileSync(file, 'utf8') !== script) {
    const tmp = `${file}.${process.pid}.tmp`
    fs.writeFileSync(tmp, script)
    fs.renameSync(tmp, file)
  }
  return file
}

/**
 * Makes the next initialisation of the 'wasm' backend use `threads` threads (default: all
 * cores, at most 8, the size of emscripten's worker pool). Returns false (and changes nothing) when
 * the backend is already initialised or `threads` <= 1.
 */
export function enableWasmThreads(threads = Math.min(8, os.availableParallelism())): boolean {
  const engine = tf.engine() as unknown as { registry: Record<string, unknown> }
  if (engine.registry.wasm != null || threads <= 1) return false
  if (threads > 8) throw new RangeError(`enableWasmThreads: at most 8 threads (emscripten's pool size), got ${threads}`)
  const original = tf.findBackendFactory('wasm')
  if (original == null) throw new Error("enableWasmThreads: import '@tensorflow/tfjs-backend-wasm' first")
  const factory = async (): Promise<tf.KernelBackend> => {
    let workerFile: string
    try {
      workerFile = pthreadWorkerFile()
    } catch (err) {
      return fallback(original, threads, (err as Error).message)
    }
    const origCreate = URL.createObjectURL
    const origCpus = os.cpus
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true)
    setThreadsCount(threads)
    URL.createObjectURL = (obj: Blob) => (obj instanceof Blob && obj.type === 'application/javascript' ? workerFile : origCreate(obj))
    os.cpus = () => {
      const cpus = origCpus()
      while (cpus.length < 2 * threads) cpus.push(cpus[0]!)
      return cpus
    }
    let backend: tf.KernelBackend
    try {
      backend = await original()
    } catch (err) {
      return fallback(original, threads, (err as Error)?.message ?? String(err))
    } finally {
      URL.createObjectURL = origCreate
      os.cpus = origCpus
    }
    const mod = (backend as unknown as { wasm: ThreadedModule }).wasm
    const got = mod.tfjs.getThreadsCount()
    const pt = mod.PThread
    if (pt) {
      // The pool's threads would otherwise keep the event loop (and the process) alive forever.
      for (const w of pt.runningWorkers) w.unref()
      // emscripten pre-starts 8 workers (~15 MB each); the threadpool above is made once, at
      // init, and nothing creates threads later, so the idle ones are only memory.
      for (const w of pt.unusedWorkers.splice(0)) void w.terminate()
    }
    info = { requested: threads, threads: got, fallback: got === threads ? null : `the threaded build started ${got} thread(s)` }
    return backend
  }
  tf.removeBackend('wasm')
  tf.registerBackend('wasm', factory, 2)
  return true
}

async function fallback(original: () => tf.KernelBackend | Promise<tf.KernelBackend>, requested: number, why: string): Promise<tf.KernelBackend> {
  console.warn(`wasm backend: the multithreaded build did not start (${why}); using one thread`)
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false)
  setThreadsCount(1)
  const backend = await original()
  info = { requested, threads: 1, fallback: why }
  return backend
}
