// The engine boundary (DESIGN.md, "The boundary"): TensorFlow.js loads only in worker processes.
// Electron's main process and the headless host (CLI, web host) are bundled here as electron-vite
// bundles them, and neither bundle may contain the engine or any TensorFlow.js package: not as
// code, not as an import left for run time (static or dynamic). The run worker is a bundle of its
// own and is where TensorFlow.js belongs.
import { describe, expect, it } from 'vitest'
import path from 'node:path'
import { build, type Metafile } from 'esbuild'

const ENTRIES = {
  'Electron main process': 'src-main/index.ts',
  'headless host (CLI, web host)': 'src-host/cli.ts'
}

/** One bundle of `entry` with every package left as an import, as in the built app. */
async function bundle(entry: string): Promise<{ text: string; meta: Metafile }> {
  const r = await build({
    entryPoints: [path.resolve(entry)],
    bundle: true,
    write: false,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // Packages are loaded from node_modules at run time (electron-vite externalises them too);
    // what the bundle imports from them is listed in the metafile.
    packages: 'external',
    external: ['electron'],
    define: { 'import.meta.env.DEV': 'false' },
    metafile: true,
    logLevel: 'silent'
  })
  return { text: r.outputFiles.map((f) => f.text).join('\n'), meta: r.metafile }
}

describe('engine boundary', () => {
  it.each(Object.entries(ENTRIES))(
    'the %s bundle holds no engine code and imports no TensorFlow.js',
    async (_what, entry) => {
      const { text, meta } = await bundle(entry)
      const inputs = Object.keys(meta.inputs)
      // The bundle was made from the sources it should be made of.
      expect(inputs).toContain(entry)
      expect(inputs.some((f) => f.startsWith('src-host/'))).toBe(true)
      expect(inputs.filter((f) => f.startsWith('src-engine/'))).toEqual([])
      const imported = Object.values(meta.outputs).flatMap((o) => o.imports.map((i) => i.path))
      expect(imported.filter((p) => /tensorflow|tfjs/i.test(p))).toEqual([])
      // No import of a TensorFlow.js package left in the code (messages may name the packages).
      expect(text).not.toMatch(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|\bimport\s+)["'`]@tensorflow\//)
    },
    60_000
  )

  it('the run worker bundle is where TensorFlow.js is (so the check above can see it)', async () => {
    const { text, meta } = await bundle('src-engine/run-worker.ts')
    expect(Object.keys(meta.inputs).some((f) => f.startsWith('src-engine/'))).toBe(true)
    expect(text).toMatch(/\bfrom\s*["']@tensorflow\/tfjs-core["']/)
  }, 60_000)
})
