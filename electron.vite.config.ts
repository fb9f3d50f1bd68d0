import { resolve } from 'node:path'
import { defineConfig } from 'electron-vite'
import vue from '@vitejs/plugin-vue'

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rollupOptions: {
        input: {
          index: resolve('src-main/index.ts'),
          // Headless entry points share the host services with the app.
          cli: resolve('src-host/cli.ts'),
          // Training runs in its own process (utilityProcess in the app, fork headless).
          'run-worker': resolve('src-engine/run-worker.ts'),
          'job-worker': resolve('src-engine/job-worker.ts'),
          // Dataset indexing runs in a worker thread beside the host.
          'dataset-index-worker': resolve('src-host/datasets/index-worker.ts'),
          // The trainer window's preload (src-main/gpu-window.ts): the run worker on Chromium's
          // WebGPU. Built here, with the engine's packages left to node_modules as for the run
          // worker, not by the sandboxed preload build below; .mjs so Electron loads it as an
          // ES module with Node's loader.
          'trainer-preload': resolve('src-preload/trainer.ts')
        },
        output: { entryFileNames: (chunk) => (chunk.name === 'trainer-preload' ? '[name].mjs' : '[name].js') }
      }
    }
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // Sandboxed preloads must be CommonJS and self-contained.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('src-preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' }
      }
    }
  },
  renderer: {
    root: 'src-renderer',
    plugins: [vue()],
    build: {
      outDir: 'out/renderer',
      rollupOptions: {
        input: {
          index: resolve('src-renderer/index.html'),
          // The trainer window's page: no script, a CSP that allows none.
          trainer: resolve('src-renderer/trainer.html')
        }
      }
    }
  }
})
