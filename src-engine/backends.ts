// Training backend detection and selection, best first:
//   tensorflow-gpu (@tensorflow/tfjs-node-gpu, CUDA) -> webgpu (@tensorflow/tfjs-backend-webgpu on
//   a hardware adapter, through Dawn under Node or Chromium's navigator.gpu in the app's trainer
//   window: src-engine/webgpu/) -> tensorflow
//   (@tensorflow/tfjs-node, native CPU) -> wasm (with this project's training kernels) -> cpu
//   (pure JS, last resort). A software WebGPU adapter (llvmpipe, SwiftShader) is reported but only
//   used when named (backend 'webgpu') or allowed by QUARTERTURN_WEBGPU_ALLOW_SOFTWARE=1.
// Each is detected by really loading it and running a tiny training op (a conv2d gradient),
// never by the package merely being present: a native binding built for another Node ABI, or
// libtensorflow missing because its install script did not run, shows up here with the fix.
import { availableParallelism } from 'node:os'
import * as tf from '@tensorflow/tfjs-core'
import './tf-gradients'
import type { BackendStatus } from '../src-shared/contract'
import { describeGpuAdapter, type GpuAdapter } from '../src-shared/contract/gpu'
import { disposeNodeWebGpu, initNodeWebGpu, nodeGpuAdapter, webGpuSkipReason, WebGpuUnavailable } from './webgpu/node-gpu'

export type BackendName = BackendStatus['name']

let wasmThreadsSetting: number | null = null

/**
 * Threads of the wasm backend (XNNPACK's pool): `setWasmThreads(n)` before the backend is first
 * selected, else the QUARTERTURN_WASM_THREADS environment variable, else one per core (at most 8).
 * 1 loads the single-threaded SIMD build, as tfjs does by itself in Node.
 */
export function setWasmThreads(n: number | null): void {
  if (n !== null && !(Number.isInteger(n) && n >= 1 && n <= 8)) throw new RangeError(`wasm threads must be an integer in 1..8 (got ${n})`)
  wasmThreadsSetting = n
}

export function wasmThreads(): number {
  if (wasmThreadsSetting !== null) return wasmThreadsSetting
  const env = process.env.QUARTERTURN_WASM_THREADS
  if (env) {
    const n = Number(env)
    if (!(Number.isInteger(n) && n >= 1 && n <= 8)) throw new RangeError(`QUARTERTURN_WASM_THREADS must be an integer in 1..8 (got ${env})`)
    return n
  }
  return Math.min(8, availableParallelism())
}
export const BACKEND_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']

interface Candidate {
  name: BackendName
  pkg: string
  /** tfjs backend name it registers. */
  tfName: string
  load: () => Promise<void>
  fix: string
  /** The GPU adapter it found (webgpu), reported whether or not it is used. */
  adapter?: () => GpuAdapter | null
  /** Why it loads but is used only when named (a software GPU adapter), or null. */
  skipUnlessNamed?: () => { reason: string; fix: string } | null
  /** Undo load() when the backend is not used (frees the GPU device so the process can exit). */
  release?: () => void
}

const nativeFix = (pkg: string, extra = ''): string =>
  `${extra}npm install ${pkg} && npm install-scripts approve ${pkg} && npm rebuild ${pkg} (its install script downloads libtensorflow, so it needs network access to that host).`

export const CANDIDATES: readonly Candidate[] = [
  {
    name: 'tensorflow-gpu',
    pkg: '@tensorflow/tfjs-node-gpu',
    tfName: 'tensorflow',
    load: async () => void (await import(/* @vite-ignore */ '@tensorflow/tfjs-node-gpu' as string)),
    fix: nativeFix('@tensorflow/tfjs-node-gpu', 'Needs Linux with an NVIDIA GPU, CUDA 11.8 and cuDNN 8; then ')
  },
  {
    name: 'webgpu',
    pkg: '@tensorflow/tfjs-backend-webgpu',
    tfName: 'webgpu',
    load: async () => void (await initNodeWebGpu()),
    fix: 'Reinstall the project dependencies: npm ci.',
    adapter: nodeGpuAdapter,
    skipUnlessNamed: webGpuSkipReason,
    release: disposeNodeWebGpu
  },
  {
    name: 'tensorflow',
    pkg: '@tensorflow/tfjs-node',
    tfName: 'tensorflow',
    load: async () => void (await import(/* @vite-ignore */ '@tensorflow/tfjs-node' as string)),
    fix: nativeFix('@tensorflow/tfjs-node')
  },
  {
    name: 'wasm',
    pkg: '@tensorflow/tfjs-backend-wasm',
    tfName: 'wasm',
    load: async () => {
      await import('@tensorflow/tfjs-backend-wasm')
      const { registerWasmTrainingKernels, enableWasmThreads } = await import('./wasm-kernels')
      // Before the backend's first initialisation: the threaded build, one thread per core.
      enableWasmThreads(wasmThreads())
      registerWasmTrainingKernels()
    },
    fix: 'Reinstall the project dependencies: npm ci.'
  },
  {
    name: 'cpu',
    pkg: '@tensorflow/tfjs-backend-cpu',
    tfName: 'cpu',
    load: async () => {
      await import('@tensorflow/tfjs-backend-cpu')
      quietCpuBanner()
    },
    fix: 'Reinstall the project dependencies: npm ci.'
  }
]

/**
 * The cpu backend prints "Hi, looks like you are running TensorFlow.js in Node.js ... install our
 * node backend" on its first tensor write when env IS_NODE; the doctor already says which faster
 * backend is missing and how to install it, so the banner only confuses. The backend checks its
 * own `firstUse` field (tfjs-backend-cpu's MathBackendCPU.write): clearing it drops just that
 * message, where setting PROD or IS_TEST would hide every other tfjs warning too.
 */
export function quietCpuBanner(): void {
  const b = tf.findBackend('cpu') as { firstUse?: boolean } | null
  if (b && 'firstUse' in b) b.firstUse = false
}

/** Runs a conv2d forward + both gradients: what training needs from a backend. */
function smokeTest(): void {
  tf.tidy(() => {
    const x = tf.ones([1, 5, 5, 2]) as tf.Tensor4D
    const w = tf.ones([3, 3, 2, 2]) as tf.Tensor4D
    const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w])
    const v = g[1]!.dataSync()
    if (!(v[0]! > 0)) throw new Error('conv2d gradient returned a wrong value')
  })
}

interface ProbeOptions {
  /** The user named this backend: a software GPU adapter is used too. */
  named: boolean
  /** Run the gradient even on a backend that will not be used (the doctor's report). */
  thorough: boolean
}

async function probe(c: Candidate, taken: Set<string>, opts: ProbeOptions = { named: false, thorough: true }): Promise<BackendStatus> {
  const base = { name: c.name, pkg: c.pkg }
  const withAdapter = (s: BackendStatus): BackendStatus => {
    const adapter = c.adapter?.()
    return adapter ? { ...s, adapter } : s
  }
  if (c.tfName === 'tensorflow' && taken.has('tensorflow')) {
    return { ...base, ok: false, detail: "not probed: the other TensorFlow package already provides the 'tensorflow' backend in this process", fix: null }
  }
  const t0 = performance.now()
  // A native package that fails half-way leaves its kernels registered; the next one then prints
  // one "already registered" warning per kernel (hundreds of lines). They are harmless: drop them.
  const warn = console.warn
  console.warn = (...args: unknown[]) => {
    if (typeof args[0] === 'string' && args[0].includes('is already registered')) return
    warn(...args)
  }
  try {
    await c.load()
    const skip = opts.named ? null : (c.skipUnlessNamed?.() ?? null)
    // Compiling the gradient's shaders on a software adapter takes seconds: selection skips it.
    if (skip && !opts.thorough) {
      const s = withAdapter({ ...base, ok: false, detail: `${skip.reason} (not tried)`, fix: skip.fix })
      c.release?.()
      return s
    }
    const ok = await tf.setBackend(c.tfName)
    if (!ok) throw new Error(`tf.setBackend('${c.tfName}') failed`)
    smokeTest()
    const ran = `ran a conv2d gradient in ${(performance.now() - t0).toFixed(0)} ms`
    const adapter = c.adapter?.()
    const on = adapter ? ` on ${describeGpuAdapter(adapter)}` : ''
    if (skip) {
      const s = withAdapter({ ...base, ok: false, detail: `${ran}${on}, but ${skip.reason}`, fix: skip.fix })
      c.release?.()
      return s
    }
    taken.add(c.tfName)
    return withAdapter({ ...base, ok: true, detail: `loaded and ${ran}${on}`, fix: null })
  } catch (err) {
    const msg = ((err as Error).message ?? String(err)).split('\n')[0]!
    const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package) '@tensorflow\/tfjs-node/.test(msg)
    const s = withAdapter(
      err instanceof WebGpuUnavailable
        ? { ...base, ok: false, detail: msg, fix: err.fix }
        : { ...base, ok: false, detail: missing ? `${c.pkg} is not installed` : `failed to load: ${msg}`, fix: c.fix }
    )
    c.release?.()
    return s
  } finally {
    console.warn = warn
  }
}

/** One line per backend: loaded and ran a training op, or why not and the fix. */
export async function detectBackends(): Promise<BackendStatus[]> {
  const taken = new Set<string>()
  const before = tf.getBackend()
  const out: BackendStatus[] = []
  for (const c of CANDIDATES) out.push(await probe(c, taken))
  if (before) await tf.setBackend(before)
  return out
}

/**
 * Make the best working backend (or the preferred one) current. Throws with the fix when the
 * preferred backend does not load.
 */
export async function selectBackend(preferred: BackendName | 'auto' = 'auto'): Promise<{ name: BackendName; statuses: BackendStatus[] }> {
  const taken = new Set<string>()
  const statuses: BackendStatus[] = []
  const order = preferred === 'auto' ? CANDIDATES : CANDIDATES.filter((c) => c.name === preferred)
  for (const c of order) {
    const s = await probe(c, taken, { named: preferred === c.name, thorough: false })
    statuses.push(s)
    if (s.ok) {
      await tf.setBackend(c.tfName)
      return { name: c.name, statuses }
    }
  }
  const last = statuses.at(-1)
  throw new Error(
    preferred === 'auto'
      ? `No training backend loads: ${statuses.map((s) => `${s.name}: ${s.detail}`).join('; ')}`
      : `Backend ${preferred} does not load: ${last?.detail}. Fix: ${last?.fix}`
  )
}
