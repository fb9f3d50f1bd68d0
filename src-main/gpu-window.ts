// The app's trainer window: a hidden BrowserWindow in which the training engine runs on Chromium's
// own WebGPU, wrapped as the host's WorkerHandle (src-host/runs/workers.ts), and the routing that
// decides which jobs train there and which in a utilityProcess.
//
// Why a window: Dawn's Node bindings (the webgpu package) cannot run inside Electron (its V8 memory
// cage forbids the external ArrayBuffers dawn.node maps GPU buffers into), so a utilityProcess
// worker has no WebGPU. A renderer has Chromium's navigator.gpu.
//
// How it reads and writes the run folder: the engine needs Node's fs (run folder, checkpoints,
// the workspace's dataset cache) throughout, so it runs where Node and the page's WebGPU meet: the
// window's preload (src-preload/trainer.ts), in an UNSANDBOXED renderer with context isolation on
// and node integration off. The page itself (src-renderer/trainer.html) gets no Node, no preload
// API and no script at all (its CSP allows none). The alternative, a sandboxed window with a
// preload exposing a narrow file API over IPC, would need every file access of the engine (run
// folder layout, dataset cache, metrics log, checkpoints, maps) rewritten against that API; the
// engine would then differ between its two hosts, which DESIGN.md rules out ("one engine").
// Giving a renderer Node is what Electron's security checklist forbids for REMOTE content; this
// window can never show any:
//   - it loads only the app's own local page (the built trainer.html; the loopback dev server's
//     in a development build, as the main window does), and its session cancels every other
//     request (webRequest) and sends a CSP that allows nothing to load or run;
//   - it never navigates: will-navigate, will-frame-navigate and will-redirect are prevented,
//     window.open is denied, <webview> cannot attach;
//   - it has its own in-memory session (partition without 'persist:') whose permission checks and
//     requests are all denied;
//   - no devtools, no spellcheck, no drag-and-drop navigation, webSecurity on.
//
// Messages: the same ToRunWorker / FromRunWorker as a utilityProcess, over ipcMain (from the window)
// and webContents.send (to it). The host validates every message the window sends, as it does a
// process's; the window's run worker validates every command. Messages from any other frame or
// webContents are dropped. The window's lifecycle stands in for a process's: the preload's "ready"
// releases the held messages, its "exit" (code) closes the window and reports the code; a crashed
// renderer ('render-process-gone'), a window closed from outside, or kill() report a non-zero code,
// so the run becomes interrupted, as with a killed worker.
import { BrowserWindow, ipcMain, session, type IpcMainEvent, type WebPreferences } from 'electron'
import type { BackendStatus } from '../src-shared/contract'
import type { ToRunWorker } from '../src-shared/contract/worker'
import { TRAINER_EXIT, TRAINER_FROM_WORKER, TRAINER_READY, TRAINER_TO_WORKER } from '../src-shared/contract/trainer-window'
import type { WorkerHandle, WorkerLauncher } from '../src-host/runs/workers'
import { secureWebPreferences } from './security'

/** The trainer window's own session: in memory only (no 'persist:'), apart from the app's. */
export const TRAINER_PARTITION = 'quarterturn-trainer'

/** Nothing loads or runs in the page; the preload is not subject to it. */
export const TRAINER_CSP = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

export function trainerWebPreferences(preload: string): WebPreferences {
  return {
    // The main window's settings, except the sandbox (see below) and this window's own.
    ...secureWebPreferences(preload),
    partition: TRAINER_PARTITION,
    // The preload runs the engine with Node's fs: see the header for why this window may.
    sandbox: false,
    devTools: false,
    // A hidden window's timers are otherwise throttled to once a second: training would crawl.
    backgroundThrottling: false
  }
}

/** Where the trainer page is: the built file, or its URL on the dev server (development builds). */
export type TrainerPage = { file: string; url: string } | { url: string }

/** True when `url` is the trainer page itself (any hash or query aside). */
export function isTrainerPage(url: string | undefined, pageUrl: string): boolean {
  if (!url) return false
  try {
    const a = new URL(url)
    const b = new URL(pageUrl)
    return a.protocol === b.protocol && a.host === b.host && a.pathname === b.pathname
  } catch {
    return false
  }
}

const sessionsReady = new WeakSet<object>()

/** Locks the trainer session down once: no permissions, no request but the page, a CSP on every response. */
function lockDownSession(pageUrl: string): void {
  const s = session.fromPartition(TRAINER_PARTITION)
  if (sessionsReady.has(s)) return
  sessionsReady.add(s)
  s.setPermissionRequestHandler((_wc, _permission, callback) => callback(false))
  s.setPermissionCheckHandler(() => false)
  s.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isTrainerPage(details.url, pageUrl) }))
  s.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [TRAINER_CSP] } })
  })
}

interface Trainer {
  pageUrl: string
  ready(): void
  message(m: unknown): void
  exit(code: unknown): void
}

/** Open trainer windows by webContents id: the only senders the trainer channels listen to. */
const trainers = new Map<number, Trainer>()
const trainerWindows = new WeakSet<object>()
let listening = false

/** Whether a window is a trainer window (hidden; not counted as the app's windows). */
export function isTrainerWindow(win: object): boolean {
  return trainerWindows.has(win)
}

function listen(): void {
  if (listening) return
  listening = true
  const from = (event: IpcMainEvent): Trainer | null => {
    const t = trainers.get(event.sender.id)
    // The window's own top-level page, nothing else (not a sub-frame, not another window).
    if (!t || !event.senderFrame || event.senderFrame !== event.sender.mainFrame || !isTrainerPage(event.senderFrame.url, t.pageUrl)) return null
    return t
  }
  ipcMain.on(TRAINER_READY, (event) => from(event)?.ready())
  ipcMain.on(TRAINER_FROM_WORKER, (event, m: unknown) => from(event)?.message(m))
  ipcMain.on(TRAINER_EXIT, (event, code: unknown) => from(event)?.exit(code))
}

export interface TrainerWindowOptions {
  /** The built preload (out/main/trainer-preload.mjs). */
  preload: string
  page: TrainerPage
  log?: (message: string) => void
}

/**
 * Opens a trainer window and returns it as a worker: one job, as a worker process does one. The
 * messages the host sends before the page is ready are held until it is.
 */
export function launchTrainerWindow(o: TrainerWindowOptions): WorkerHandle {
  const log = o.log ?? ((m: string) => console.warn(`[trainer] ${m}`))
  listen()
  lockDownSession(o.page.url)
  const win = new BrowserWindow({
    show: false,
    width: 480,
    height: 320,
    title: 'Quarterturn trainer',
    skipTaskbar: true,
    webPreferences: trainerWebPreferences(o.preload)
  })
  trainerWindows.add(win)
  const wc = win.webContents
  const id = wc.id

  const messageFns: ((m: unknown) => void)[] = []
  const exitFns: ((code: number | null, signal: string | null) => void)[] = []
  const held: ToRunWorker[] = []
  let ready = false
  let ended = false

  const end = (code: number | null, signal: string | null): void => {
    if (ended) return
    ended = true
    trainers.delete(id)
    if (!win.isDestroyed()) win.destroy()
    for (const fn of exitFns) fn(code, signal)
  }

  trainers.set(id, {
    pageUrl: o.page.url,
    ready: () => {
      if (ready || ended) return
      ready = true
      for (const m of held.splice(0)) wc.send(TRAINER_TO_WORKER, m)
    },
    message: (m) => {
      if (ended) return
      for (const fn of messageFns) fn(m)
    },
    exit: (code) => {
      const c = typeof code === 'number' && Number.isInteger(code) && code >= 0 && code <= 255 ? code : 1
      end(c, null)
    }
  })

  // It never navigates, opens nothing, attaches nothing (the app-wide handlers in index.ts allow
  // the main page; these allow nothing at all).
  wc.on('will-navigate', (event) => event.preventDefault())
  wc.on('will-frame-navigate', (event) => event.preventDefault())
  wc.on('will-redirect', (event) => event.preventDefault())
  wc.on('will-attach-webview', (event) => event.preventDefault())
  wc.setWindowOpenHandler(() => ({ action: 'deny' }))

  wc.on('render-process-gone', (_event, details) => {
    log(`the trainer window's renderer is gone (${details.reason}, exit code ${details.exitCode})`)
    end(details.exitCode ? details.exitCode : 1, null)
  })
  wc.on('preload-error', (_event, preloadPath, error) => {
    log(`the trainer preload ${preloadPath} failed: ${error.message}`)
    end(1, null)
  })
  win.on('closed', () => end(1, null))

  const loaded = 'file' in o.page ? win.loadFile(o.page.file) : win.loadURL(o.page.url)
  loaded.catch((err: unknown) => {
    log(`the trainer page did not load: ${(err as Error)?.message ?? String(err)}`)
    end(1, null)
  })

  return {
    get pid() {
      if (win.isDestroyed()) return undefined
      const pid = wc.getOSProcessId()
      return pid > 0 ? pid : undefined
    },
    send: (m) => {
      if (ended) return
      if (ready) wc.send(TRAINER_TO_WORKER, m)
      else held.push(m)
    },
    onMessage: (fn) => void messageFns.push(fn),
    onExit: (fn) => void exitFns.push(fn),
    // The renderer goes with the window, mid-step as a killed process would.
    kill: (signal) => end(1, signal ?? 'SIGTERM')
  }
}

// ---- routing -----------------------------------------------------------------------------------

export type WorkerHost = 'window' | 'utility'

/**
 * Where a job that trains on `backend` runs: 'webgpu' in the trainer window (the only place in
 * the app with WebGPU); 'auto' there too when the window found a GPU it would train on (a hardware
 * adapter, or a software one allowed by QUARTERTURN_WEBGPU_ALLOW_SOFTWARE); everything else in a
 * utilityProcess.
 */
export async function hostFor(backend: string, windowGpu: () => Promise<boolean>): Promise<WorkerHost> {
  if (backend === 'webgpu') return 'window'
  if (backend === 'auto') return (await windowGpu()) ? 'window' : 'utility'
  return 'utility'
}

/**
 * Whether 'auto' would pick webgpu in the trainer window, from the window's backend probe:
 * webgpu ran its conv2d gradient on an adapter it may train on, and CUDA (tensorflow-gpu, which
 * 'auto' prefers and a utilityProcess has as well) does not load.
 */
export function autoTrainsOnWindowGpu(statuses: readonly BackendStatus[]): boolean {
  const webgpu = statuses.find((s) => s.name === 'webgpu')
  const cuda = statuses.find((s) => s.name === 'tensorflow-gpu')
  return Boolean(webgpu?.ok && webgpu.adapter) && !cuda?.ok
}

/**
 * Asks a trainer window which backends load there (the worker's 'detect' job). Null when the
 * window ends without answering or takes longer than `timeoutMs`.
 */
export function probeTrainerWindow(launch: WorkerLauncher, timeoutMs = 120_000): Promise<BackendStatus[] | null> {
  return new Promise((resolve) => {
    let w: WorkerHandle
    try {
      w = launch()
    } catch {
      return resolve(null)
    }
    const timer = setTimeout(() => {
      resolve(null)
      w.kill()
    }, timeoutMs)
    w.onMessage((m) => {
      const msg = m as { type?: unknown; statuses?: unknown }
      if (msg?.type === 'backends' && Array.isArray(msg.statuses)) {
        clearTimeout(timer)
        resolve(msg.statuses as BackendStatus[])
      }
    })
    w.onExit(() => {
      clearTimeout(timer)
      resolve(null)
    })
    w.send({ type: 'detect' })
  })
}

export interface RoutingOptions {
  utility: WorkerLauncher
  window: WorkerLauncher
  /** The backend a run folder's config names ('auto' when it names none). */
  backendOfRun: (runDir: string) => Promise<string>
  /** Whether 'auto' trains in the window (asked once a job needs it; the caller caches it). */
  windowGpu: () => Promise<boolean>
  log?: (message: string) => void
}

/** The backend a run, a map or a benchmark trains on. */
async function jobBackend(m: Extract<ToRunWorker, { type: 'run' | 'map' | 'bench' }>, backendOfRun: (runDir: string) => Promise<string>): Promise<string> {
  if (m.type === 'bench') {
    const b = (m.config as { backend?: unknown } | null)?.backend
    return typeof b === 'string' ? b : 'auto'
  }
  return backendOfRun(m.runDir)
}

/**
 * A launcher whose worker is started by its first message: a run, a map or a benchmark goes
 * where its backend trains (hostFor); everything else (backend probes, previews) to a
 * utilityProcess. Messages sent while that is decided are held; kill() before the start
 * reports the worker gone without starting one.
 */
export function routingLauncher(o: RoutingOptions): WorkerLauncher {
  const log = o.log ?? ((m: string) => console.warn(`[workers] ${m}`))
  return () => {
    let target: WorkerHandle | null = null
    let deciding = false
    let killed = false
    let ended = false
    const held: ToRunWorker[] = []
    const messageFns: ((m: unknown) => void)[] = []
    const exitFns: ((code: number | null, signal: string | null) => void)[] = []
    const exit = (code: number | null, signal: string | null): void => {
      if (ended) return
      ended = true
      for (const fn of exitFns) fn(code, signal)
    }
    const start = (launch: WorkerLauncher, where: WorkerHost): void => {
      if (killed || ended) return
      try {
        target = launch()
      } catch (err) {
        const message = `Could not start the training worker (${where === 'window' ? 'trainer window' : 'utility process'}): ${(err as Error)?.message ?? String(err)}`
        for (const fn of messageFns) fn({ type: 'error', message, stage: 'setup' })
        return exit(1, null)
      }
      target.onMessage((m) => {
        for (const fn of messageFns) fn(m)
      })
      target.onExit(exit)
      for (const m of held.splice(0)) target.send(m)
    }
    return {
      get pid() {
        return target?.pid
      },
      send: (m) => {
        if (target) return target.send(m)
        if (ended) return
        held.push(m)
        if (deciding) return
        deciding = true
        if (m.type !== 'run' && m.type !== 'map' && m.type !== 'bench') return start(o.utility, 'utility')
        void jobBackend(m, o.backendOfRun)
          .then((backend) => hostFor(backend, o.windowGpu))
          .catch((err: unknown) => {
            // The worker reads the config itself and reports what is wrong with it.
            log(`could not tell where the job trains (${(err as Error)?.message ?? String(err)}); it runs in a utility process`)
            return 'utility' as const
          })
          .then((where) => start(where === 'window' ? o.window : o.utility, where))
      },
      onMessage: (fn) => void messageFns.push(fn),
      onExit: (fn) => void exitFns.push(fn),
      kill: (signal) => {
        if (target) return target.kill(signal)
        killed = true
        held.length = 0
        queueMicrotask(() => exit(1, signal ?? 'SIGTERM'))
      }
    }
  }
}
