// Electron shell: hardened windows, each forwarding the contract over IPC to the host it drives
// (the shared in-process Host, or a remote `quarterturn serve`: see below), and the launchers of
// the run workers (a utilityProcess each, or the hidden trainer window for runs that train on
// WebGPU: gpu-window.ts). Everything below this file is plain Node and runs headless too.
//
// A window on a remote host: this main process opens the WebSocket to it (src-host/remote/client.ts,
// Node's `ws`) and relays through the same preload bridge, rather than the renderer connecting
// itself. So the renderer is the same page with the same CSP (connect-src 'self': it reaches no
// network at all), the token never enters the renderer (a compromised page cannot read or send
// it anywhere), the host's cross-origin guard needs no exception (a file:// page would send
// `Origin: file://`, which it rightly refuses; Node's client sends no Origin), and every IPC
// sender check stays as it is. The cost, a hop through this process, is small next to the network.
import { app, BrowserWindow, dialog, ipcMain, session, shell as electronShell, utilityProcess, type WebContents } from 'electron'
import path from 'node:path'
import { writeFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import ElectronStore from 'electron-store'
import { IPC_EVENT, IPC_INVOKE, settingsJsonSchemaProperties, DEFAULT_SETTINGS, type Envelope } from '../src-shared/contract'
import { IPC_CONNECTION, IPC_CONNECTION_CHANGED, type ConnectionInfo } from '../src-shared/contract/channels'
import { RemoteHost, parseRemoteTarget, type RemoteTarget } from '../src-host/remote/client'
import { RecentHosts, connectArgument, parseConnectRequest } from './connections'
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

/** A remote host and the windows driving it (one client per host, shared by its windows). */
interface RemoteEntry {
  remote: RemoteHost
  windows: Set<WebContents>
}
/** The host each window drives; a window not listed drives the local one. */
const windowRemote = new WeakMap<WebContents, RemoteEntry>()
const remotes = new Map<string, RemoteEntry>()
let localHost: Host | null = null
/** Made on first use: a window on a remote host alone starts no local host, queue or watcher. */
let startLocalHost: () => Host = () => {
  throw new Error('the app is not ready')
}

function connectionInfo(wc: WebContents): ConnectionInfo {
  const entry = windowRemote.get(wc)
  if (!entry) return { mode: 'local', label: null, base: null, state: 'open', error: null }
  const r = entry.remote
  return { mode: 'remote', label: r.target.label, base: r.target.base, state: r.state, error: r.state === 'open' ? null : r.lastError }
}

/** The client of a remote host, made on first use; it reconnects with backoff after a drop. */
function remoteEntry(target: RemoteTarget): RemoteEntry {
  const known = remotes.get(target.base)
  if (known && known.remote.target.token === target.token) return known
  known?.remote.close()
  const entry: RemoteEntry = { remote: new RemoteHost(target, { reconnect: true }), windows: new Set() }
  remotes.set(target.base, entry)
  entry.remote.onEvent((name, payload) => {
    for (const wc of entry.windows) wc.send(IPC_EVENT, name, payload)
  })
  let logged: string | null = null
  entry.remote.onState((state) => {
    // One line per change that matters (up, down, refused), not one per reconnection attempt.
    const kind = state === 'connecting' ? logged : state
    if (kind !== logged) console.info(`[remote] ${target.base}: ${state}${state === 'open' || !entry.remote.lastError ? '' : ` (${entry.remote.lastError})`}`)
    logged = kind
    for (const wc of entry.windows) wc.send(IPC_CONNECTION_CHANGED, connectionInfo(wc))
  })
  return entry
}

function createWindow(target: RemoteTarget | null = null): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 1024,
    minHeight: 640,
    show: false,
    title: target ? `Quarterturn — remote: ${target.label}` : 'Quarterturn',
    webPreferences: secureWebPreferences(path.join(import.meta.dirname, '../preload/index.cjs'))
  })
  const wc = win.webContents
  if (target) {
    const entry = remoteEntry(target)
    entry.windows.add(wc)
    windowRemote.set(wc, entry)
  } else startLocalHost()
  win.once('ready-to-show', () => win.show())
  // Hidden trainer windows would keep 'window-all-closed' from firing: the app quits (and the host
  // pauses their runs) when the last window a person sees is closed.
  win.on('closed', () => {
    const entry = target ? remotes.get(target.base) : undefined
    if (entry?.windows.delete(wc) && entry.windows.size === 0) {
      entry.remote.close()
      remotes.delete(target!.base)
    }
    if (process.platform !== 'darwin' && appWindows().length === 0) app.quit()
  })
  void (devUrl ? win.loadURL(devUrl) : win.loadFile(indexHtml))
  return win
}

void app.whenReady().then(() => {
  startLocalHost = () => {
    if (localHost) return localHost
    const host = createHost()
    localHost = host
    host.onEvent((name, payload) => {
      for (const w of appWindows()) if (!windowRemote.has(w.webContents)) w.webContents.send(IPC_EVENT, name, payload)
    })
    // Finds runs interrupted by a previous crash and continues the queue.
    void host.runs.startQueue().catch((err) => console.error('[runs] boot failed:', err))
    // Runs and datasets made by other processes (the CLI, a web host) appear in the window live.
    void host.watchWorkspace().catch((err) => console.error('[workspace] watching failed:', err))
    return host
  }
  const recent = new RecentHosts(
    new ElectronStore<Record<string, unknown>>({ name: 'remote-hosts', defaults: { hosts: [] } }) as unknown as ConstructorParameters<typeof RecentHosts>[0]
  )

  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [APP_CSP] } })
  })
  // Chromium asks the check handler before some APIs (and for navigator.permissions.query) and
  // the request handler before others; both answer the same way.
  session.defaultSession.setPermissionRequestHandler((_wc, permission, callback, details) => callback(isPermissionAllowed(permission, details, appUrl)))
  session.defaultSession.setPermissionCheckHandler((_wc, permission, _origin, details) => isPermissionAllowed(permission, details, appUrl))

  const trusted = (event: Electron.IpcMainInvokeEvent): boolean =>
    isTrustedSender(event.senderFrame?.url, appUrl) && event.senderFrame === event.sender.mainFrame
  ipcMain.handle(IPC_INVOKE, async (event, name: unknown, arg: unknown): Promise<Envelope> => {
    if (!trusted(event)) {
      return { ok: false, error: { code: 'unauthorized', message: 'Request refused: it did not come from the Quarterturn window.' } }
    }
    const entry = windowRemote.get(event.sender)
    return entry ? entry.remote.dispatch(name, arg) : startLocalHost().dispatch(name, arg)
  })

  /** Open a window on `target` (null: this machine), remembering a remote one; a bad URL or token is a message. */
  const openWindow = async (target: RemoteTarget | null): Promise<{ ok: true } | { ok: false; message: string }> => {
    if (target) {
      // Checked before a window opens, so a typo is answered in the form rather than by a window that never connects.
      const probe = new RemoteHost(target, { reconnect: false, connectTimeoutMs: 8000 })
      try {
        await probe.ready()
      } catch (err) {
        return { ok: false, message: (err as Error).message }
      } finally {
        probe.close()
      }
      recent.remember(target)
    }
    createWindow(target)
    return { ok: true }
  }
  ipcMain.handle(IPC_CONNECTION, async (event, op: unknown, arg: unknown): Promise<unknown> => {
    if (!trusted(event)) throw new Error('Request refused: it did not come from the Quarterturn window.')
    if (op === 'info') return connectionInfo(event.sender)
    if (op === 'recent') return recent.list()
    if (op === 'forget') {
      const base = (arg as { base?: unknown } | null)?.base
      if (typeof base === 'string') recent.forget(base)
      return undefined
    }
    if (op === 'open') {
      const req = parseConnectRequest(arg)
      if (!req.ok) return req
      const r = req.request
      if ('local' in r) return openWindow(null)
      if ('base' in r) {
        const t = recent.target(r.base)
        return t ? openWindow(t) : { ok: false, message: `${r.base} is not among the recent hosts: give its URL and token.` }
      }
      try {
        return await openWindow(parseRemoteTarget(r.url, r.token))
      } catch (err) {
        return { ok: false, message: (err as Error).message }
      }
    }
    throw new Error(`Unknown connection request ${JSON.stringify(op)}.`)
  })

  let launchTarget: RemoteTarget | null = null
  const asked = connectArgument(process.argv, process.env)
  if (asked) {
    try {
      launchTarget = parseRemoteTarget(asked.url, asked.token)
      recent.remember(launchTarget)
    } catch (err) {
      // The message names the URL as given minus its token, never the token.
      console.error(`[main] --connect: ${(err as Error).message.replace(/token=[^\s&"]*/g, 'token=…')}`)
      void dialog.showMessageBox({ type: 'error', message: 'Cannot connect to that host', detail: (err as Error).message })
    }
  }
  mainWindow = createWindow(launchTarget)
  app.on('activate', () => {
    if (appWindows().length === 0) mainWindow = createWindow(launchTarget)
  })
  quitAfterShutdown(app, async () => {
    for (const e of remotes.values()) e.remote.close()
    remotes.clear()
    await localHost?.shutdown()
  })
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
