// Bundles tfjs-core's gradient registrations into one self-contained ES module.
//
// Why: @tensorflow/tfjs-core's main entry (a CommonJS bundle) registers no gradient functions;
// only the umbrella @tensorflow/tfjs package does, and it drags in layers, converter, data and
// WebGL. The ESM file that registers them (dist/register_all_gradients.js) uses extensionless
// imports that Node cannot load. esbuild bundles it; tfjs keeps its engine and gradient registry
// on globalThis, so registrations from this bundle reach the engine every backend uses.
// Runs on `npm install` / `npm ci` (the project's own postinstall) and before builds.
import { build } from 'esbuild'
import { createRequire } from 'node:module'
import { mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const require = createRequire(import.meta.url)
const coreDir = path.dirname(require.resolve('@tensorflow/tfjs-core/package.json'))
const outfile = path.join(root, 'src-engine', 'generated', 'tf-gradients.js')
mkdirSync(path.dirname(outfile), { recursive: true })
await build({
  entryPoints: [path.join(coreDir, 'dist', 'register_all_gradients.js')],
  bundle: true,
  format: 'esm',
  platform: 'neutral',
  mainFields: ['module', 'main'],
  minify: true,
  legalComments: 'eof',
  logLevel: 'warning',
  outfile
})
console.log(`tfjs gradients bundled into ${path.relative(root, outfile)}`)
