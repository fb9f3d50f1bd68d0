// Preload of the app's trainer window (src-main/gpu-window.ts): serves the run worker's messages
// there, on Chromium's navigator.gpu and Node's fs. It is the window's only code (the page,
// src-renderer/trainer.html, has no script and a CSP that allows none).
//
// It runs in the preload's isolated world of an unsandboxed renderer (contextIsolation on, node
// integration off for the page), the one place where Node's module loader and the page's WebGPU
// meet: it imports the same engine the utilityProcess worker runs, and the engine's webgpu setup
// finds navigator.gpu already there and uses it instead of Dawn (src-engine/webgpu/node-gpu.ts).
// Built by the main build as an ES module (.mjs, so Electron loads it with Node's ESM loader and
// the engine's packages resolve from node_modules as in the worker), not by the sandboxed
// preload build, which bundles everything into CommonJS.
import { ipcRenderer } from 'electron'
import { serveRunWorker } from '../src-engine/run-worker'
import { TRAINER_EXIT, TRAINER_FROM_WORKER, TRAINER_READY, TRAINER_TO_WORKER } from '../src-shared/contract/trainer-window'

let exited = false
serveRunWorker(
  {
    send: (m) => {
      if (!exited) ipcRenderer.send(TRAINER_FROM_WORKER, m)
    },
    onMessage: (fn) => void ipcRenderer.on(TRAINER_TO_WORKER, (_event, m: unknown) => fn(m))
  },
  // "Exit": the main process closes this window and reports the code as the worker's.
  (code) => {
    if (exited) return
    exited = true
    ipcRenderer.send(TRAINER_EXIT, code)
  }
)
ipcRenderer.send(TRAINER_READY)
