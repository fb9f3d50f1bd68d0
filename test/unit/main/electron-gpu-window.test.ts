// The app's trainer window (src-main/gpu-window.ts) and its preload (src-preload/trainer.ts) with
// `electron` mocked (its binary cannot be loaded here): the window's webPreferences, session and
// handlers (only the local page, no navigation, no new windows, no permissions), the worker
// messages both ways and what is done with messages from elsewhere or malformed ones, the exit
// codes of a finished job, a crash, a close and a kill, and which jobs train in the window.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { onWorkerMessages, type WorkerHandle, type WorkerLauncher } from '../../../src-host/runs/workers'
import type { BackendStatus } from '../../../src-shared/contract'
import type { FromRunWorker, ToRunWorker } from '../../../src-shared/contract/worker'
import { TRAINER_EXIT, TRAINER_FROM_WORKER, TRAINER_READY, TRAINER_TO_WORKER } from '../../../src-shared/contract/trainer-window'

type Listener = (...a: unknown[]) => void

interface FakeFrame {
  url: string
}
interface FakeContents {
  id: number
  mainFrame: FakeFrame
  listeners: Map<string, Listener>
  sent: unknown[][]
  openHandler: ((d: { url: string }) => { action: string }) | null
}
interface FakeWindow {
  /** The BrowserWindow object itself. */
  self: object
  opts: Record<string, unknown>
  loaded: { file?: string; url?: string }[]
  listeners: Map<string, Listener>
  destroyed: boolean
  webContents: FakeContents
}
interface FakeSession {
  partition: string
  permissionRequest: ((wc: unknown, permission: string, cb: (granted: boolean) => void) => void) | null
  permissionCheck: ((wc: unknown, permission: string) => boolean) | null
  beforeRequest: ((d: { url: string }, cb: (r: { cancel: boolean }) => void) => void) | null
  headers: ((d: { responseHeaders: Record<string, string[]> }, cb: (r: { responseHeaders: Record<string, string[]> }) => void) => void) | null
}

const h = vi.hoisted(() => ({
  windows: [] as FakeWindow[],
  ipc: new Map<string, Listener>(),
  sessions: new Map<string, FakeSession>(),
  nextId: 1,
  rendererIpc: new Map<string, Listener>(),
  rendererSent: [] as unknown[][],
  served: null as null | { port: { send(m: unknown): void; onMessage(fn: (m: unknown) => void): void }; exit: (code: number) => void }
}))

vi.mock('electron', () => {
  class BrowserWindow {
    webContents: object
    private w: FakeWindow
    constructor(opts: Record<string, unknown>) {
      const frame = { url: '' }
      const wc: FakeContents = { id: h.nextId++, mainFrame: frame, listeners: new Map(), sent: [], openHandler: null }
      this.w = { self: this, opts, loaded: [], listeners: new Map(), destroyed: false, webContents: wc }
      h.windows.push(this.w)
      this.webContents = Object.assign(wc, {
        on: (n: string, fn: Listener) => wc.listeners.set(n, fn),
        send: (...a: unknown[]) => wc.sent.push(a),
        setWindowOpenHandler: (fn: FakeContents['openHandler']) => (wc.openHandler = fn),
        getOSProcessId: () => 4242
      })
    }
    on(n: string, fn: Listener): void {
      this.w.listeners.set(n, fn)
    }
    isDestroyed(): boolean {
      return this.w.destroyed
    }
    destroy(): void {
      if (this.w.destroyed) return
      this.w.destroyed = true
      this.w.listeners.get('closed')?.()
    }
    loadFile(file: string): Promise<void> {
      this.w.loaded.push({ file })
      this.w.webContents.mainFrame.url = `file://${file}`
      return Promise.resolve()
    }
    loadURL(url: string): Promise<void> {
      this.w.loaded.push({ url })
      this.w.webContents.mainFrame.url = url
      return Promise.resolve()
    }
  }
  const fromPartition = (partition: string): FakeSession => {
    let s = h.sessions.get(partition)
    if (!s) {
      const made: FakeSession = { partition, permissionRequest: null, permissionCheck: null, beforeRequest: null, headers: null }
      Object.assign(made, {
        setPermissionRequestHandler: (fn: FakeSession['permissionRequest']) => (made.permissionRequest = fn),
        setPermissionCheckHandler: (fn: FakeSession['permissionCheck']) => (made.permissionCheck = fn),
        webRequest: {
          onBeforeRequest: (fn: FakeSession['beforeRequest']) => (made.beforeRequest = fn),
          onHeadersReceived: (fn: FakeSession['headers']) => (made.headers = fn)
        }
      })
      h.sessions.set(partition, made)
      s = made
    }
    return s
  }
  return {
    BrowserWindow,
    ipcMain: { on: (ch: string, fn: Listener) => h.ipc.set(ch, fn) },
    session: { fromPartition },
    ipcRenderer: {
      on: (ch: string, fn: Listener) => h.rendererIpc.set(ch, fn),
      send: (...a: unknown[]) => h.rendererSent.push(a)
    }
  }
})

// The preload's engine: only how it is served matters here.
vi.mock('../../../src-engine/run-worker', () => ({
  serveRunWorker: (port: NonNullable<typeof h.served>['port'], exit: (code: number) => void) => (h.served = { port, exit })
}))

const gw = await import('../../../src-main/gpu-window')

const PAGE_FILE = '/app/out/renderer/trainer.html'
const PAGE = { file: PAGE_FILE, url: `file://${PAGE_FILE}` }
const PRELOAD = '/app/out/main/trainer-preload.mjs'

function open(): { w: WorkerHandle; win: FakeWindow; log: string[] } {
  const log: string[] = []
  const w = gw.launchTrainerWindow({ preload: PRELOAD, page: PAGE, log: (m) => log.push(m) })
  return { w, win: h.windows.at(-1)!, log }
}

/** An IPC message from `win`'s page (or from another frame of it). */
function fromWindow(win: FakeWindow, channel: string, arg?: unknown, frame: FakeFrame = win.webContents.mainFrame): void {
  h.ipc.get(channel)!({ sender: win.webContents, senderFrame: frame }, arg)
}

function exits(w: WorkerHandle): [number | null, string | null][] {
  const seen: [number | null, string | null][] = []
  w.onExit((code, signal) => seen.push([code, signal]))
  return seen
}

const flush = (): Promise<void> => new Promise((r) => setTimeout(r, 0))

beforeEach(() => {
  h.windows.length = 0
})

describe('trainer window', () => {
  it('is hidden, loads only the local trainer page, and runs its preload unsandboxed in an isolated world with no node integration for the page', () => {
    const { win } = open()
    expect(win.opts.show).toBe(false)
    expect(win.loaded).toEqual([{ file: PAGE_FILE }])
    const prefs = win.opts.webPreferences as Record<string, unknown>
    expect(prefs).toMatchObject({
      preload: PRELOAD,
      partition: gw.TRAINER_PARTITION,
      sandbox: false,
      contextIsolation: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      devTools: false,
      backgroundThrottling: false
    })
    // An in-memory session of its own, not the app's.
    expect(gw.TRAINER_PARTITION).not.toMatch(/^persist:/)
  })

  it('never navigates, redirects, opens a window or attaches a webview', () => {
    const { win } = open()
    const wc = win.webContents
    for (const name of ['will-navigate', 'will-redirect', 'will-attach-webview']) {
      for (const url of ['https://evil.example/', PAGE.url, 'file:///app/out/renderer/index.html']) {
        const preventDefault = vi.fn()
        wc.listeners.get(name)!({ preventDefault }, url)
        expect(preventDefault, `${name} ${url}`).toHaveBeenCalledTimes(1)
      }
    }
    for (const isMainFrame of [true, false]) {
      const preventDefault = vi.fn()
      wc.listeners.get('will-frame-navigate')!({ url: PAGE.url, isMainFrame, preventDefault })
      expect(preventDefault).toHaveBeenCalledTimes(1)
    }
    expect(wc.openHandler!({ url: 'https://example.org' })).toEqual({ action: 'deny' })
    expect(wc.openHandler!({ url: PAGE.url })).toEqual({ action: 'deny' })
  })

  it('its session denies every permission, cancels every request but the page, and sends a CSP that allows nothing', () => {
    open()
    const s = h.sessions.get(gw.TRAINER_PARTITION)!
    for (const permission of ['media', 'notifications', 'clipboard-sanitized-write', 'clipboard-read', 'hid', 'usb', 'serial', 'fileSystem', 'openExternal']) {
      let granted: boolean | null = null
      s.permissionRequest!({}, permission, (g) => (granted = g))
      expect(granted, permission).toBe(false)
      expect(s.permissionCheck!({}, permission), permission).toBe(false)
    }
    const cancelled = (url: string): boolean => {
      let r: { cancel: boolean } | null = null
      s.beforeRequest!({ url }, (x) => (r = x))
      return r!.cancel
    }
    expect(cancelled(PAGE.url)).toBe(false)
    for (const url of [
      'https://evil.example/x.js',
      'file:///app/out/renderer/index.html',
      'file:///etc/passwd',
      'http://localhost:5173/trainer.html',
      'data:text/html,hi'
    ]) {
      expect(cancelled(url), url).toBe(true)
    }
    let headers: Record<string, string[]> = {}
    s.headers!({ responseHeaders: {} }, (r) => (headers = r.responseHeaders))
    expect(headers['Content-Security-Policy']).toEqual([gw.TRAINER_CSP])
    expect(gw.TRAINER_CSP).toMatch(/default-src 'none'/)
    expect(gw.TRAINER_CSP).not.toMatch(/unsafe|script-src/)
  })

  it('a development build loads the trainer page from the dev server, and only that', () => {
    const url = 'http://localhost:5173/trainer.html'
    const w = gw.launchTrainerWindow({ preload: PRELOAD, page: { url }, log: () => {} })
    expect(h.windows.at(-1)!.loaded).toEqual([{ url }])
    expect(gw.isTrainerPage('http://localhost:5173/trainer.html#x', url)).toBe(true)
    expect(gw.isTrainerPage('http://localhost:5173/index.html', url)).toBe(false)
    expect(gw.isTrainerPage('http://localhost:5174/trainer.html', url)).toBe(false)
    w.kill()
  })

  it('holds messages until the preload is ready, forwards both ways, and drops messages from other frames and windows', () => {
    const { w, win } = open()
    const got: unknown[] = []
    w.onMessage((m) => got.push(m))
    expect(w.pid).toBe(4242)
    const run: ToRunWorker = { type: 'run', runDir: '/ws/runs/a', workspaceDir: '/ws' }
    w.send(run)
    expect(win.webContents.sent).toEqual([])
    fromWindow(win, TRAINER_READY)
    expect(win.webContents.sent).toEqual([[TRAINER_TO_WORKER, run]])
    w.send({ type: 'pause' })
    expect(win.webContents.sent.at(-1)).toEqual([TRAINER_TO_WORKER, { type: 'pause' }])

    const ready: FromRunWorker = { type: 'ready', backend: 'webgpu', statuses: [] }
    fromWindow(win, TRAINER_FROM_WORKER, ready)
    expect(got).toEqual([ready])
    // A sub-frame of the window, a frame showing another page, another window: ignored.
    fromWindow(win, TRAINER_FROM_WORKER, { type: 'finished', outcome: 'done' }, { url: PAGE.url })
    win.webContents.mainFrame.url = 'https://evil.example/'
    fromWindow(win, TRAINER_FROM_WORKER, { type: 'finished', outcome: 'done' })
    win.webContents.mainFrame.url = PAGE.url
    const other = open().win
    h.ipc.get(TRAINER_FROM_WORKER)!(
      { sender: { id: 999, mainFrame: other.webContents.mainFrame }, senderFrame: other.webContents.mainFrame },
      { type: 'finished', outcome: 'done' }
    )
    expect(got).toEqual([ready])
    // Nor can another window end this one.
    h.ipc.get(TRAINER_EXIT)!({ sender: { id: 999, mainFrame: win.webContents.mainFrame }, senderFrame: win.webContents.mainFrame }, 0)
    expect(win.destroyed).toBe(false)
    w.kill()
  })

  it('what the window sends is validated by the host: a malformed message fails the job and the window is closed with a non-zero code', () => {
    const { w, win } = open()
    const seen = exits(w)
    const got: FromRunWorker[] = []
    onWorkerMessages(
      w,
      (m) => got.push(m),
      () => {}
    )
    fromWindow(win, TRAINER_READY)
    fromWindow(win, TRAINER_FROM_WORKER, { type: 'event', event: { type: 'progress', stage: 'pretrain', epoch: 'one' } })
    expect(got).toEqual([expect.objectContaining({ type: 'error', stage: 'protocol' })])
    expect(win.destroyed).toBe(true)
    expect(seen).toHaveLength(1)
    expect(seen[0]![0]).not.toBe(0)
  })

  it("the preload's exit code ends the job: the window is closed and the code reported once", () => {
    const { w, win } = open()
    const seen = exits(w)
    fromWindow(win, TRAINER_EXIT, 0)
    expect(win.destroyed).toBe(true)
    expect(seen).toEqual([[0, null]])
    // Messages after the end go nowhere.
    w.send({ type: 'cancel' })
    expect(win.webContents.sent).toEqual([])

    const second = open()
    const seen2 = exits(second.w)
    fromWindow(second.win, TRAINER_EXIT, 'zero')
    expect(seen2).toEqual([[1, null]])
  })

  it('a crashed renderer, a failed preload, a window closed from outside and kill() each report a non-zero exit (the run is interrupted)', () => {
    const crash = open()
    const crashed = exits(crash.w)
    crash.win.webContents.listeners.get('render-process-gone')!({}, { reason: 'crashed', exitCode: 0 })
    expect(crashed).toEqual([[1, null]])
    expect(crash.win.destroyed).toBe(true)
    expect(crash.log.join()).toMatch(/crashed/)

    const oom = open()
    const oomed = exits(oom.w)
    oom.win.webContents.listeners.get('render-process-gone')!({}, { reason: 'oom', exitCode: 137 })
    expect(oomed).toEqual([[137, null]])

    const broken = open()
    const brokenExit = exits(broken.w)
    broken.win.webContents.listeners.get('preload-error')!({}, PRELOAD, new Error('Cannot find package'))
    expect(brokenExit).toEqual([[1, null]])

    const closed = open()
    const closedExit = exits(closed.w)
    closed.win.listeners.get('closed')!()
    expect(closedExit).toEqual([[1, null]])

    const killed = open()
    const killedExit = exits(killed.w)
    killed.w.kill('SIGKILL')
    expect(killed.win.destroyed).toBe(true)
    expect(killedExit).toEqual([[1, 'SIGKILL']])
    expect(killed.w.pid).toBeUndefined()
  })

  it('isTrainerWindow tells the hidden trainer windows from the app windows', async () => {
    const { BrowserWindow } = await import('electron')
    const { w, win } = open()
    expect(gw.isTrainerWindow(win.self)).toBe(true)
    const appWindow = new (BrowserWindow as unknown as new (o: object) => object)({})
    expect(gw.isTrainerWindow(appWindow)).toBe(false)
    w.kill()
  })
})

describe('trainer preload', () => {
  afterEach(() => {
    h.rendererSent.length = 0
  })

  it('serves the run worker over the trainer channels, says it is ready, and turns exit into a message', async () => {
    await import('../../../src-preload/trainer')
    expect(h.rendererSent).toEqual([[TRAINER_READY]])
    const served = h.served!
    const commands: unknown[] = []
    served.port.onMessage((m) => commands.push(m))
    h.rendererIpc.get(TRAINER_TO_WORKER)!({}, { type: 'detect' })
    expect(commands).toEqual([{ type: 'detect' }])
    served.port.send({ type: 'backends', statuses: [] })
    expect(h.rendererSent.at(-1)).toEqual([TRAINER_FROM_WORKER, { type: 'backends', statuses: [] }])
    served.exit(0)
    served.exit(1)
    served.port.send({ type: 'finished', outcome: 'done' })
    expect(h.rendererSent.slice(-1)).toEqual([[TRAINER_EXIT, 0]])
  })
})

/** A launcher of fake workers that records what each was sent. */
function fakeLauncher(): {
  launch: WorkerLauncher
  made: { sent: ToRunWorker[]; killed: boolean; exit: (code: number) => void; reply: (m: unknown) => void }[]
} {
  const made: { sent: ToRunWorker[]; killed: boolean; exit: (code: number) => void; reply: (m: unknown) => void }[] = []
  const launch: WorkerLauncher = () => {
    const rec = { sent: [] as ToRunWorker[], killed: false, exit: (_code: number) => {}, reply: (_m: unknown) => {} }
    made.push(rec)
    return {
      pid: 100 + made.length,
      send: (m) => rec.sent.push(m),
      onMessage: (fn) => (rec.reply = fn),
      onExit: (fn) => (rec.exit = (code) => fn(code, null)),
      kill: () => {
        rec.killed = true
      }
    }
  }
  return { launch, made }
}

describe('which jobs train in the trainer window', () => {
  function router(
    backends: Record<string, string>,
    windowGpu: boolean
  ): {
    launch: WorkerLauncher
    utility: ReturnType<typeof fakeLauncher>['made']
    window: ReturnType<typeof fakeLauncher>['made']
    probes: () => number
  } {
    const utility = fakeLauncher()
    const window = fakeLauncher()
    let probes = 0
    const launch = gw.routingLauncher({
      utility: utility.launch,
      window: window.launch,
      backendOfRun: async (runDir) => {
        const b = backends[runDir]
        if (!b) throw new Error(`no run.json in ${runDir}`)
        return b
      },
      windowGpu: async () => {
        probes++
        return windowGpu
      },
      log: () => {}
    })
    return { launch, utility: utility.made, window: window.made, probes: () => probes }
  }
  const run = (runDir: string): ToRunWorker => ({ type: 'run', runDir, workspaceDir: '/ws' })

  it("'webgpu' runs train in the window, without asking it for a GPU", async () => {
    const r = router({ '/r/gpu': 'webgpu' }, false)
    const w = r.launch()
    w.send(run('/r/gpu'))
    w.send({ type: 'pause' })
    await flush()
    expect(r.window).toHaveLength(1)
    expect(r.window[0]!.sent).toEqual([run('/r/gpu'), { type: 'pause' }])
    expect(r.utility).toHaveLength(0)
    expect(r.probes()).toBe(0)
    expect(w.pid).toBe(101)
  })

  it("'auto' runs train in the window when it has a GPU to train on, in a utility process when not", async () => {
    for (const gpu of [true, false]) {
      const r = router({ '/r/auto': 'auto' }, gpu)
      r.launch().send(run('/r/auto'))
      await flush()
      expect(r.window, `window gpu ${gpu}`).toHaveLength(gpu ? 1 : 0)
      expect(r.utility, `window gpu ${gpu}`).toHaveLength(gpu ? 0 : 1)
      expect(r.probes()).toBe(1)
    }
  })

  it('runs on any other backend, and every job that is not a run, map or benchmark, stay in utility processes', async () => {
    const r = router({ '/r/wasm': 'wasm', '/r/cpu': 'cpu', '/r/tf': 'tensorflow', '/r/cuda': 'tensorflow-gpu' }, true)
    for (const dir of ['/r/wasm', '/r/cpu', '/r/tf', '/r/cuda']) r.launch().send(run(dir))
    // Probes and previews start at once, without reading a config.
    r.launch().send({ type: 'detect' })
    r.launch().send({
      type: 'analysis',
      reqId: 1,
      runDir: '/r/gpu',
      workspaceDir: '/ws',
      request: { kind: 'images', options: { split: 'train', offset: 0, limit: 4 } } as never
    })
    expect(r.utility).toHaveLength(2)
    await flush()
    expect(r.utility).toHaveLength(6)
    expect(r.window).toHaveLength(0)
    expect(r.probes()).toBe(0)
  })

  it('maps and benchmarks go where their backend trains', async () => {
    const r = router({ '/r/gpu': 'webgpu', '/r/wasm': 'wasm' }, true)
    r.launch().send({ type: 'map', runDir: '/r/gpu', workspaceDir: '/ws', spec: {} as never })
    r.launch().send({ type: 'map', runDir: '/r/wasm', workspaceDir: '/ws', spec: {} as never })
    r.launch().send({ type: 'bench', config: { backend: 'webgpu' } })
    r.launch().send({ type: 'bench', config: { backend: 'cpu' } })
    r.launch().send({ type: 'bench', config: {} })
    await flush()
    // webgpu map, webgpu bench, and the config naming no backend ('auto', and the window has a GPU).
    expect(r.window).toHaveLength(3)
    expect(r.utility).toHaveLength(2)
  })

  it('a run whose config cannot be read goes to a utility process, whose worker reports the problem', async () => {
    const r = router({}, true)
    r.launch().send(run('/r/missing'))
    await flush()
    expect(r.utility).toHaveLength(1)
    expect(r.utility[0]!.sent).toEqual([run('/r/missing')])
  })

  it('messages and exits of the started worker reach the host; kill before the start starts nothing', async () => {
    const r = router({ '/r/gpu': 'webgpu' }, false)
    const w = r.launch()
    const got: unknown[] = []
    w.onMessage((m) => got.push(m))
    const seen = exits(w)
    w.send(run('/r/gpu'))
    await flush()
    r.window[0]!.reply({ type: 'finished', outcome: 'done' })
    r.window[0]!.exit(0)
    expect(got).toEqual([{ type: 'finished', outcome: 'done' }])
    expect(seen).toEqual([[0, null]])
    w.kill()
    expect(r.window[0]!.killed).toBe(true)

    const early = r.launch()
    const earlySeen = exits(early)
    early.send(run('/r/gpu'))
    early.kill()
    await flush()
    expect(r.window).toHaveLength(1)
    expect(earlySeen).toEqual([[1, 'SIGTERM']])
  })

  it('a launcher that throws fails the job with the reason', async () => {
    const launch = gw.routingLauncher({
      utility: () => {
        throw new Error('no utility')
      },
      window: () => {
        throw new Error('no window')
      },
      backendOfRun: async () => 'webgpu',
      windowGpu: async () => true,
      log: () => {}
    })
    const w = launch()
    const got: FromRunWorker[] = []
    onWorkerMessages(
      w,
      (m) => got.push(m),
      () => {}
    )
    const seen = exits(w)
    w.send(run('/r/gpu'))
    await flush()
    expect(got).toEqual([expect.objectContaining({ type: 'error', stage: 'setup', message: expect.stringMatching(/trainer window.*no window/) })])
    expect(seen).toEqual([[1, null]])
  })

  it("hostFor: 'webgpu' and GPU-backed 'auto' to the window, the rest to utility processes", async () => {
    expect(await gw.hostFor('webgpu', async () => false)).toBe('window')
    expect(await gw.hostFor('auto', async () => true)).toBe('window')
    expect(await gw.hostFor('auto', async () => false)).toBe('utility')
    for (const b of ['wasm', 'cpu', 'tensorflow', 'tensorflow-gpu']) expect(await gw.hostFor(b, async () => true)).toBe('utility')
  })

  it('autoTrainsOnWindowGpu: webgpu ran on an adapter it may use, and CUDA does not load', () => {
    const adapter = {
      vendor: 'nvidia',
      architecture: 'ampere',
      device: '',
      description: 'RTX',
      isFallbackAdapter: false,
      software: null,
      limits: { maxStorageBufferBindingSize: 1, maxBufferSize: 1, maxComputeWorkgroupStorageSize: 1, maxComputeInvocationsPerWorkgroup: 1 },
      host: 'chromium' as const
    }
    const s = (name: BackendStatus['name'], ok: boolean, extra: Partial<BackendStatus> = {}): BackendStatus => ({
      name,
      pkg: name,
      ok,
      detail: '',
      fix: null,
      ...extra
    })
    expect(gw.autoTrainsOnWindowGpu([s('tensorflow-gpu', false), s('webgpu', true, { adapter }), s('wasm', true)])).toBe(true)
    // A software adapter: reported, not ok unless forced.
    expect(gw.autoTrainsOnWindowGpu([s('tensorflow-gpu', false), s('webgpu', false, { adapter: { ...adapter, software: 'llvmpipe' } }), s('wasm', true)])).toBe(
      false
    )
    expect(gw.autoTrainsOnWindowGpu([s('tensorflow-gpu', false), s('webgpu', false), s('wasm', true)])).toBe(false)
    expect(gw.autoTrainsOnWindowGpu([s('tensorflow-gpu', true), s('webgpu', true, { adapter })])).toBe(false)
    expect(gw.autoTrainsOnWindowGpu([])).toBe(false)
  })

  it('probeTrainerWindow asks a trainer window to detect its backends; null when it ends without answering', async () => {
    const ok = fakeLauncher()
    const answer = gw.probeTrainerWindow(ok.launch)
    expect(ok.made[0]!.sent).toEqual([{ type: 'detect' }])
    ok.made[0]!.reply({ type: 'backends', statuses: [{ name: 'webgpu', pkg: 'x', ok: true, detail: 'd', fix: null }] })
    expect(await answer).toEqual([{ name: 'webgpu', pkg: 'x', ok: true, detail: 'd', fix: null }])

    const dies = fakeLauncher()
    const none = gw.probeTrainerWindow(dies.launch)
    dies.made[0]!.exit(1)
    expect(await none).toBeNull()

    vi.useFakeTimers()
    try {
      const slow = fakeLauncher()
      const late = gw.probeTrainerWindow(slow.launch, 1000)
      await vi.advanceTimersByTimeAsync(1000)
      expect(await late).toBeNull()
      expect(slow.made[0]!.killed).toBe(true)
    } finally {
      vi.useRealTimers()
    }
  })
})
