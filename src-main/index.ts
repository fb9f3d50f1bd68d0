// Electron shell: one window, hardened, forwarding the contract to the shared Host over IPC, and
// the launchers of the run workers (a utilityProcess each, or the hidden trainer window for runs
// that train on WebGPU: gpu-window.ts). Everything below this file is plain Node and runs headless too.
import { app, BrowserWindow, dialog, ipcMain, session, shell as electronShell, utilityProcess } from 'electron'
import path from 'node:path'
import { writeFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import ElectronStore from 'electron-store'
import { IPC_EVENT, IPC_INVOKE, settingsJsonSchemaProperties, DEFAULT_SETTINGS, type Envelope } from '../src-shared/contract'
import { Host } from '../src-host/host'
import type { WorkerHandle } from '../src-host/runs/workers'
import { openStoreKeepingBadFile } from '../src-host/services/settings'
import { APP_CSP, devRendererUrl, isPermissionAllowed, isTrustedSender, secureWebPreferences } from './security'
import { quitAfterShutdown } from './quit'
import { autoTrainsOnWindowGpu, isTrainerWindow, launchTrainerWindow, probeTrainerWindow, routingLauncher, type TrainerPage } from './gpu-window'
import { readStoredConfig } from '../src-node/run-folder'

// No app.enableSandbox(): it would sandbox the trainer window too, whose preload needs Node
// (gpu-window.ts says why that window may). Every other window sets sandbox: true itself.

// import.meta.env.DEV is fixed when electron-vite builds this file: true for `electron-vite dev`,
// false for `electron-vite build`, whatever the environment says when the app starts.
const devUrl = devRendererUrl(process.env.ELECTRON_RENDERER_URL, { dev: import.meta.env.DEV, packaged: app.isPackaged })
if (process.env.ELECTRON_RENDERER_URL && !devUrl) {
  console.warn(`[main] ignoring ELECTRON_RENDERER_URL=${process.env.ELECTRON_RENDERER_URL}: only a development build loads a loopback http dev server`)
}
const indexHtml = path.join(import.meta.dirname, '../renderer/index.html')
const appUrl = devUrl ?? pathToFileURL(indexHtml).href
const trainerHtml = path.join(import.meta.dirname, '../renderer/trainer.html')
const trainerPage: TrainerPage = devUrl ? { url: new URL('trainer.html', devUrl).href } : { file: trainerHtml, url: pathToFileURL(trainerHtml).href }
let mainWindow: BrowserWindow | null = null

/** Windows a person sees (the trainer windows are hidden workers). */
function appWindows(): BrowserWindow[] {
  return BrowserWindow.getAllWindows().filter((w) => !isTrainerWindow(w))
}

/** A worker in its own utility process, speaking the same messages as a headless fork. */
function launchUtilityWorker(): WorkerHandle {
  const child = utilityProcess.fork(path.join(import.meta.dirname, 'run-worker.js'), [], { serviceName: 'Quarterturn training', stdio: 'ignore' })
  return {
    // Known once the process has spawned; recorded in the run's lock when it is.
    get pid() {
      return child.pid
    },
    send: (m) => child.postMessage(m),
    onMessage: (fn) => void child.on('message', fn),
    onExit: (fn) => void child.on('exit', (code) => fn(code, null)),
    kill: () => void child.kill()
  }
}

/** A worker in a hidden trainer window, on Chromium's WebGPU. */
const launchTrainer = (): WorkerHandle => launchTrainerWindow({ preload: path.join(import.meta.dirname, 'trainer-preload.mjs'), page: trainerPage })

let windowGpu: Promise<boolean> | null = null
/** Whether 'auto' trains in the trainer window: asked of a trainer window once, when a job first needs it. */
function autoUsesWindowGpu(): Promise<boolean> {
  if (process.env.QUARTERTURN_WEBGPU === '0') return Promise.resolve(false)
  windowGpu ??= probeTrainerWindow(launchTrainer).then((statuses) => {
    const yes = statuses !== null && autoTrainsOnWindowGpu(statuses)
    const gpu = statuses?.find((s) => s.name === 'webgpu')
    console.info(
      `[workers] 'auto' runs train ${yes ? 'in the trainer window (WebGPU)' : 'in utility processes'}: ${gpu ? gpu.detail : 'the trainer window did not answer'}`
    )
    return yes
  })
  return windowGpu
}

async function backendOfRun(runDir: string): Promise<string> {
  const config = (await readStoredConfig(runDir)) as { backend?: unknown } | null
  return typeof config?.backend === 'string' ? config.backend : 'auto'
}

function createHost(): Host {
  const create = (): ElectronStore<Record<string, unknown>> =>
    new ElectronStore<Record<string, unknown>>({
      name: 'settings',
      schema: settingsJsonSchemaProperties() as never,
      defaults: { ...DEFAULT_SETTINGS },
      clearInvalidConfig: false
    })
  const store = openStoreKeepingBadFile(create, path.join(app.getPath('userData'), 'settings.json'), (msg) => {
    console.warn(msg)
    void dialog.showMessageBox({ type: 'warning', message: 'Settings were reset', detail: msg })
  })
  return new Host({
    store,
    shell: 'electron',
    version: app.getVersion(),
    defaultWorkspace: path.join(app.getPath('documents'), 'Quarterturn'),
    // Each job gets its own worker: runs, maps and benchmarks on 'webgpu' (or on 'auto' where the
    // trainer window has a GPU) in a trainer window, everything else in a utility process.
    launchRunWorker: routingLauncher({ utility: launchUtilityWorker, window: launchTrainer, backendOfRun, windowGpu: autoUsesWindowGpu }),
    printPdf: async (htmlFile, pdfFile) => {
      // A hidden, script-less window renders the self-contained report for Chromium's printer.
      const w = new BrowserWindow({ show: false, webPreferences: { sandbox: true, contextIsolation: true, nodeIntegration: false, javascript: false } })
      try {
        await w.loadFile(htmlFile)
        await writeFile(pdfFile, await w.webContents.printToPDF({ printBackground: true, pageSize: 'A4' }))
      } finally {
        w.destroy()
      }
    },
    pickFolder: async () => {
      const opts = { properties: ['openDirectory', 'createDirectory'] as ('openDirectory' | 'createDirectory')[] }
      const r = mainWindow ? await dialog.showOpenDialog(mainWindow, opts) : await dialog.showOpenDialog(opts)
      return r.canceled ? null : (r.filePaths[0] ?? null)
    }
  })
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 1024,
    minHeight: 640,
    show: false,
    title: 'Quarterturn',
    webPreferences: secureWebPreferences(path.join(import.meta.dirname, '../preload/index.cjs'))
  })
  win.once('ready-to-show', () => win.show())
  // Hidden trainer windows would keep 'window-all-closed' from firing: the app quits (and the host
  // pauses their runs) when the last window a person sees is closed.
  win.on('closed', () => {
    if (process.platform !== 'darwin' && appWindows().length === 0) app.quit()
  })
  void (devUrl ? win.loadURL(devUrl) : win.loadFile(indexHtml))
  return win
}

void app.whenReady().then(() => {
  const host = createHost()

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [APP_CSP] } })
  })
  // Chromium asks the check handler before some APIs (and for navigator.permissions.query) and
  // the request handler before others; both answer the same way.
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) => callback(isPermissionAllowed(permission, details, appUrl)))
  session.defaultSession.setPermissionCheckHandler((_wc, permission, _origin, details) => isPermissionAllowed(permission, details, appUrl))

  ipcMain.handle(IPC_INVOKE, async (event, name: unknown, arg: unknown): Promise<Envelope> => {
    if (!isTrustedSender(event.senderFrame?.url, appUrl) || event.senderFrame !== event.sender.mainFrame) {
      return { ok: false, error: { code: 'unauthorized', message: 'Request refused: it did not come from the Quarterturn window.' } }
    }
    return host.dispatch(name, arg)
  })
  host.onEvent((name, payload) => {
    for (const w of appWindows()) w.webContents.send(IPC_EVENT, name, payload)
  })

  mainWindow = createWindow()
  // Finds runs interrupted by a previous crash and continues the queue.
  void host.runs.startQueue().catch((err) => console.error('[runs] boot failed:', err))
  // Runs and datasets made by other processes (the CLI, a web host) appear in the window live.
  void host.watchWorkspace().catch((err) => console.error('[workspace] watching failed:', err))
  app.on('activate', () => {
    if (appWindows().length === 0) mainWindow = createWindow()
  })
  quitAfterShutdown(app, () => host.shutdown())
})

// Navigation and new windows are blocked; links with http(s) open in the system browser.
app.on('web-contents-created', (_e, contents) => {
  contents.on('will-navigate', (event, url) => {
    if (url !== appUrl) event.preventDefault()
  })
  // will-navigate only covers the top frame; a sub-frame may not leave the app page either.
  contents.on('will-frame-navigate', (details) => {
    if (!details.isMainFrame && !isTrustedSender(details.url, appUrl)) details.preventDefault()
  })
  contents.on('will-attach-webview', (event) => event.preventDefault())
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https?:\/\//.test(url)) void electronShell.openExternal(url)
    return { action: 'deny' }
  })
})

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit()
})
