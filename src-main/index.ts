// Electron shell: one window, hardened, forwarding the contract to the shared Host over IPC.
// Everything below this file is plain Node and runs headless too.
import { app, BrowserWindow, dialog, ipcMain, session, shell as electronShell, utilityProcess } from 'electron'
import path from 'node:path'
import { writeFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import ElectronStore from 'electron-store'
import { IPC_EVENT, IPC_INVOKE, settingsJsonSchemaProperties, DEFAULT_SETTINGS, type Envelope } from '../src-shared/contract'
import { Host } from '../src-host/host'
import { openStoreKeepingBadFile } from '../src-host/services/settings'
import { APP_CSP, devRendererUrl, isPermissionAllowed, isTrustedSender, secureWebPreferences } from './security'
import { quitAfterShutdown } from './quit'

app.enableSandbox()

// import.meta.env.DEV is fixed when electron-vite builds this file: true for `electron-vite dev`,
// false for `electron-vite build`, whatever the environment says when the app starts.
const devUrl = devRendererUrl(process.env.ELECTRON_RENDERER_URL, { dev: import.meta.env.DEV, packaged: app.isPackaged })
if (process.env.ELECTRON_RENDERER_URL && !devUrl) {
  console.warn(`[main] ignoring ELECTRON_RENDERER_URL=${process.env.ELECTRON_RENDERER_URL}: only a development build loads a loopback http dev server`)
}
const indexHtml = path.join(import.meta.dirname, '../renderer/index.html')
const appUrl = devUrl ?? pathToFileURL(indexHtml).href
let mainWindow: BrowserWindow | null = null

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
    // Each run trains in its own utility process, speaking the same messages as a headless fork.
    launchRunWorker: () => {
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
    },
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
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) =>
    callback(isPermissionAllowed(permission, details, appUrl))
  )
  session.defaultSession.setPermissionCheckHandler((_wc, permission, _origin, details) =>
    isPermissionAllowed(permission, details, appUrl)
  )

  ipcMain.handle(IPC_INVOKE, async (event, name: unknown, arg: unknown): Promise<Envelope> => {
    if (!isTrustedSender(event.senderFrame?.url, appUrl) || event.senderFrame !== event.sender.mainFrame) {
      return { ok: false, error: { code: 'unauthorized', message: 'Request refused: it did not come from the Quarterturn window.' } }
    }
    return host.dispatch(name, arg)
  })
  host.onEvent((name, payload) => {
    for (const w of BrowserWindow.getAllWindows()) w.webContents.send(IPC_EVENT, name, payload)
  })

  mainWindow = createWindow()
  // Finds runs interrupted by a previous crash and continues the queue.
  void host.runs.startQueue().catch((err) => console.error('[runs] boot failed:', err))
  // Runs and datasets made by other processes (the CLI, a web host) appear in the window live.
  void host.watchWorkspace().catch((err) => console.error('[workspace] watching failed:', err))
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow()
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
