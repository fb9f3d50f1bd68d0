// Training backend detection, best first. Each candidate is detected by really loading its
// package and running a tiny op, never by the package merely being present.
import type { BackendStatus } from '../src-shared/contract'

type Name = BackendStatus['name']

interface Candidate {
  name: Name
  pkg: string
  fix: string
}

export const CANDIDATES: readonly Candidate[] = [
  {
    name: 'tensorflow-gpu',
    pkg: '@tensorflow/tfjs-node-gpu',
    fix: 'Needs an NVIDIA GPU with CUDA 11.8 + cuDNN 8, then: npm install @tensorflow/tfjs-node-gpu && npm install-scripts approve @tensorflow/tfjs-node-gpu && npm rebuild @tensorflow/tfjs-node-gpu (its install script downloads libtensorflow).'
  },
  {
    name: 'tensorflow',
    pkg: '@tensorflow/tfjs-node',
    fix: 'npm install @tensorflow/tfjs-node && npm install-scripts approve @tensorflow/tfjs-node && npm rebuild @tensorflow/tfjs-node (its install script downloads libtensorflow; needs network access to its download host).'
  },
  {
    name: 'wasm',
    pkg: '@tensorflow/tfjs-backend-wasm',
    fix: 'Reinstall the project dependencies: npm ci.'
  },
  {
    name: 'cpu',
    pkg: '@tensorflow/tfjs-backend-cpu',
    fix: 'Reinstall the project dependencies: npm ci.'
  }
]

/** One line per backend: loaded and ran a matmul, or why not and the fix. */
export async function detectBackends(): Promise<BackendStatus[]> {
  const out: BackendStatus[] = []
  for (const c of CANDIDATES) out.push(await probe(c))
  return out
}

async function probe(c: Candidate): Promise<BackendStatus> {
  const t0 = performance.now()
  try {
    // Variable specifier: the native packages are optional and must not be bundled.
    const spec = c.pkg
    await import(/* @vite-ignore */ spec)
    const ms = (performance.now() - t0).toFixed(0)
    return { name: c.name, pkg: c.pkg, ok: true, detail: `loaded in ${ms} ms`, fix: null }
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0] ?? String(err)
    const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' || /Cannot find (module|package)/.test(msg)
    return { name: c.name, pkg: c.pkg, ok: false, detail: missing ? `${c.pkg} is not installed` : `failed to load: ${msg}`, fix: c.fix }
  }
}
