import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    environment: 'node',
    testTimeout: 20_000,
    // The wasm backend on one thread: test files run side by side, and a pthreadpool that shares
    // its cores with other processes spin-waits (src-engine/wasm-kernels/README.md). The threaded
    // build has its own test (wasm-threads.test.ts), which sets the count per child process.
    env: { QUARTERTURN_WASM_THREADS: '1' }
  }
})
