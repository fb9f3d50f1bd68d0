// The Electron shell with `electron` mocked (its binary cannot be loaded here): the window is
// hardened, IPC from a foreign frame is refused, navigation and new windows are blocked, the page
// gets no permission it does not use, quitting waits for the host, and only a development build
// loads (and trusts) the dev server.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { tmpDir } from '../../helpers/tmp'
import { IPC_INVOKE, type Envelope } from '../../../src-shared/contract'
import { Host } from '../../../src-host/host'
import { devRendererUrl, isTrustedSender } from '../../../src-main/security'
import { quitAfterShutdown, SHUTDOWN_TIMEOUT_MS } from '../../../src-main/quit'

type PermissionCheck = (wc: unknown, permission: string, origin: string, details: { requestingUrl?: string; isMainFrame: boolean }) => boolean
type PermissionRequest = (
  wc: unknown,
  permission: string,
  callback: (granted: boolean) => void,
  details: { requestingUrl: string; isMainFrame: boolean }
) => void

const h = vi.hoisted(() => ({
  windows: [] as { opts: Record<string, unknown>; loaded: string[] }[],
  handlers: new Map<string, (...a: unknown[]) => unknown>(),
  appEvents: new Map<string, (...a: unknown[]) => void>(),
  headerHook: null as null | ((d: unknown, cb: (r: unknown) => void) => void),
  permissionCheck: null as null | PermissionCheck,
  permissionRequest: null as null | PermissionRequest,
  quit: vi.fn(),
  isPackaged: false,
  userData: ''
}))

vi.mock('electron', () => {
  class BrowserWindow {
    webContents = { send: vi.fn() }
    constructor(opts: Record<string, unknown>) {
      h.windows.push({ opts, loaded: [] })
    }
    once(): void {}
    on(): void {}
    loadFile(f: string): Promise<void> {
      h.windows.at(-1)!.loaded.push(f)
      return Promise.resolve()
    }
    loadURL(u: string): Promise<void> {
      return this.loadFile(u)
    }
    static getAllWindows(): unknown[] {
      return []
    }
  }
  return {
    app: {
      enableSandbox: vi.fn(),
      whenReady: () => Promise.resolve(),
      on: (name: string, fn: (...a: unknown[]) => void) => h.appEvents.set(name, fn),
      getVersion: () => '9.9.9',
      getPath: () => h.userData,
      get isPackaged() {
        return h.isPackaged
      },
      quit: h.quit
    },
    BrowserWindow,
    ipcMain: { handle: (ch: string, fn: (...a: unknown[]) => unknown) => h.handlers.set(ch, fn) },
    dialog: { showOpenDialog: vi.fn(), showMessageBox: vi.fn() },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (fn: typeof h.headerHook) => (h.headerHook = fn) },
        setPermissionRequestHandler: (fn: PermissionRequest) => (h.permissionRequest = fn),
        setPermissionCheckHandler: (fn: PermissionCheck) => (h.permissionCheck = fn)
      }
    },
    shell: { openExternal: vi.fn() }
  }
})

// electron-store reads paths from electron; stand in with conf, the library it is built on.
vi.mock('electron-store', async () => {
  const { default: Conf } = await import('conf')
  return {
    default: class extends Conf {
      constructor(opts: Record<string, unknown>) {
        super({ ...opts, configName: opts.name as string, cwd: h.userData, projectSuffix: '' })
      }
    }
  }
})

const indexHtml = path.resolve('src-main/../renderer/index.html')
const appUrl = pathToFileURL(indexHtml).href

beforeAll(async () => {
  h.userData = tmpDir()
  await import('../../../src-main/index')
  await new Promise((r) => setTimeout(r, 10))
})

describe('Electron shell', () => {
  it('opens one window with context isolation, sandbox, no node integration and a CommonJS preload', () => {
    expect(h.windows).toHaveLength(1)
    const prefs = h.windows[0]!.opts.webPreferences as Record<string, unknown>
    expect(prefs).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false })
    expect(String(prefs.preload)).toMatch(/preload[\\/]index\.cjs$/)
  })

  it('sets a strict CSP on every response', () => {
    let headers: Record<string, string[]> = {}
    h.headerHook!({ responseHeaders: {} }, (r) => (headers = (r as { responseHeaders: typeof headers }).responseHeaders))
    expect(headers['Content-Security-Policy']![0]).toMatch(/default-src 'self'.*script-src 'self'/)
    expect(headers['Content-Security-Policy']![0]).not.toMatch(/unsafe/)
  })

  it('answers IPC from its own page and refuses other senders', async () => {
    const handler = h.handlers.get(IPC_INVOKE)!
    const mainFrame = { url: appUrl }
    const ok = (await handler({ senderFrame: mainFrame, sender: { mainFrame } }, 'app.info', {})) as Envelope
    expect(ok).toMatchObject({ ok: true, value: { shell: 'electron', version: '9.9.9' } })
    const evil = { url: 'https://evil.example/' }
    const refused = (await handler({ senderFrame: evil, sender: { mainFrame: evil } }, 'app.info', {})) as Envelope
    expect(refused).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
    const subFrame = { url: appUrl }
    const fromIframe = (await handler({ senderFrame: subFrame, sender: { mainFrame } }, 'app.info', {})) as Envelope
    expect(fromIframe).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
    const bad = (await handler({ senderFrame: mainFrame, sender: { mainFrame } }, 'settings.update', { theme: 3 })) as Envelope
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-argument' } })
  })

  it('blocks navigation away from the app, in the top frame and in sub-frames, and every new window', () => {
    const listeners = new Map<string, (...a: unknown[]) => void>()
    let openHandler: ((d: { url: string }) => { action: string }) | null = null
    h.appEvents.get('web-contents-created')!(
      {},
      {
        on: (n: string, fn: (...a: unknown[]) => void) => listeners.set(n, fn),
        setWindowOpenHandler: (fn: typeof openHandler) => (openHandler = fn)
      }
    )
    const prevent = vi.fn()
    listeners.get('will-navigate')!({ preventDefault: prevent }, 'https://evil.example/')
    expect(prevent).toHaveBeenCalledTimes(1)
    listeners.get('will-navigate')!({ preventDefault: prevent }, appUrl)
    expect(prevent).toHaveBeenCalledTimes(1)
    const frameNavigate = (url: string, isMainFrame: boolean): boolean => {
      const preventDefault = vi.fn()
      listeners.get('will-frame-navigate')!({ url, isMainFrame, preventDefault })
      return preventDefault.mock.calls.length > 0
    }
    expect(frameNavigate('https://evil.example/', false)).toBe(true)
    expect(frameNavigate('file:///etc/passwd', false)).toBe(true)
    expect(frameNavigate(appUrl, false)).toBe(false)
    expect(openHandler!({ url: 'https://example.org' })).toEqual({ action: 'deny' })
    expect(openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' })
  })

  it('denies every permission check and request except the clipboard write its own page uses', () => {
    const check = (permission: string, requestingUrl: string | undefined, isMainFrame = true): boolean =>
      h.permissionCheck!(null, permission, requestingUrl ? new URL(requestingUrl).origin : '', { requestingUrl, isMainFrame })
    for (const permission of ['media', 'notifications', 'geolocation', 'clipboard-read', 'hid', 'usb', 'serial', 'fileSystem', 'openExternal', 'unknown']) {
      expect(check(permission, appUrl), permission).toBe(false)
    }
    expect(check('clipboard-sanitized-write', 'https://evil.example/')).toBe(false)
    expect(check('clipboard-sanitized-write', undefined)).toBe(false)
    expect(check('clipboard-sanitized-write', appUrl, false)).toBe(false)
    expect(check('clipboard-sanitized-write', `${appUrl}#/runs`)).toBe(true)

    const request = (permission: string, requestingUrl: string): boolean => {
      let granted: boolean | null = null
      h.permissionRequest!({}, permission, (g) => (granted = g), { requestingUrl, isMainFrame: true })
      return granted!
    }
    expect(request('media', appUrl)).toBe(false)
    expect(request('notifications', appUrl)).toBe(false)
    expect(request('clipboard-sanitized-write', 'https://evil.example/')).toBe(false)
    expect(request('clipboard-sanitized-write', appUrl)).toBe(true)
  })

  it('holds the quit until a slow host shutdown has finished, then quits once and lets that quit through', async () => {
    let finish!: () => void
    const shutdown = vi.spyOn(Host.prototype, 'shutdown').mockImplementation(() => new Promise<void>((r) => (finish = r)))
    try {
      const beforeQuit = h.appEvents.get('before-quit')!
      const first = { preventDefault: vi.fn() }
      beforeQuit(first)
      expect(first.preventDefault).toHaveBeenCalledTimes(1)
      // A second quit while the host is stopping is held too, without a second shutdown.
      const again = { preventDefault: vi.fn() }
      beforeQuit(again)
      expect(again.preventDefault).toHaveBeenCalledTimes(1)
      await new Promise((r) => setTimeout(r, 20))
      expect(shutdown).toHaveBeenCalledTimes(1)
      expect(h.quit).not.toHaveBeenCalled()

      finish()
      await vi.waitFor(() => expect(h.quit).toHaveBeenCalledTimes(1))
      const last = { preventDefault: vi.fn() }
      beforeQuit(last)
      expect(last.preventDefault).not.toHaveBeenCalled()
      expect(shutdown).toHaveBeenCalledTimes(1)
    } finally {
      shutdown.mockRestore()
      h.quit.mockClear()
    }
  })
})

describe('quitAfterShutdown', () => {
  const log = { warn: vi.fn(), error: vi.fn() }
  function fakeApp(shutdown: () => Promise<void>): { quit: ReturnType<typeof vi.fn>; beforeQuit: () => { preventDefault: ReturnType<typeof vi.fn> } } {
    let listener: ((e: { preventDefault(): void }) => void) | null = null
    const quit = vi.fn()
    quitAfterShutdown({ on: (_n, fn) => (listener = fn), quit }, shutdown, { log })
    return {
      quit,
      beforeQuit: () => {
        const e = { preventDefault: vi.fn() }
        listener!(e)
        return e
      }
    }
  }

  afterEach(() => {
    vi.useRealTimers()
    log.warn.mockClear()
    log.error.mockClear()
  })

  it(`quits after ${SHUTDOWN_TIMEOUT_MS / 1000} s when the host shutdown never finishes, and says so`, async () => {
    vi.useFakeTimers()
    const app = fakeApp(() => new Promise<void>(() => {}))
    expect(app.beforeQuit().preventDefault).toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(SHUTDOWN_TIMEOUT_MS - 1)
    expect(app.quit).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(app.quit).toHaveBeenCalledTimes(1)
    expect(log.warn).toHaveBeenCalledWith(expect.stringMatching(/did not shut down within 15 s/))
    expect(app.beforeQuit().preventDefault).not.toHaveBeenCalled()
  })

  it('still quits when the host shutdown fails, and logs the error', async () => {
    const app = fakeApp(() => Promise.reject(new Error('disk full')))
    app.beforeQuit()
    await vi.waitFor(() => expect(app.quit).toHaveBeenCalledTimes(1))
    expect(log.error).toHaveBeenCalledWith(expect.stringMatching(/shutdown failed/), expect.objectContaining({ message: 'disk full' }))
    expect(log.warn).not.toHaveBeenCalled()
  })
})

describe('renderer URL', () => {
  // Loads src-main/index.ts afresh as a build of the given kind with ELECTRON_RENDERER_URL set.
  async function loadShell(opts: { rendererUrl: string; dev: boolean }): Promise<{ loaded: string[]; invoke: (url: string) => Promise<Envelope> }> {
    vi.resetModules()
    vi.stubEnv('ELECTRON_RENDERER_URL', opts.rendererUrl)
    vi.stubEnv('DEV', opts.dev)
    const windowsBefore = h.windows.length
    await import('../../../src-main/index')
    await new Promise((r) => setTimeout(r, 10))
    expect(h.windows).toHaveLength(windowsBefore + 1)
    const handler = h.handlers.get(IPC_INVOKE)!
    return {
      loaded: h.windows.at(-1)!.loaded,
      invoke: async (url) => {
        const frame = { url }
        return (await handler({ senderFrame: frame, sender: { mainFrame: frame } }, 'app.info', {})) as Envelope
      }
    }
  }

  afterEach(() => {
    vi.unstubAllEnvs()
    h.isPackaged = false
  })

  it('a production build ignores ELECTRON_RENDERER_URL: it loads index.html and refuses IPC from that origin', async () => {
    const shell = await loadShell({ rendererUrl: 'http://localhost:5173', dev: false })
    expect(shell.loaded).toEqual([indexHtml])
    expect(await shell.invoke('http://localhost:5173/')).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
    expect(await shell.invoke(appUrl)).toMatchObject({ ok: true })
  })

  it('a development build loads a loopback dev server and trusts only its origin', async () => {
    const shell = await loadShell({ rendererUrl: 'http://localhost:5173', dev: true })
    expect(shell.loaded).toEqual(['http://localhost:5173/'])
    expect(await shell.invoke('http://localhost:5173/#/runs')).toMatchObject({ ok: true })
    expect(await shell.invoke(appUrl)).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
  })

  it('a development build still ignores a dev server URL that is not loopback http', async () => {
    const shell = await loadShell({ rendererUrl: 'http://evil.example:5173', dev: true })
    expect(shell.loaded).toEqual([indexHtml])
    expect(await shell.invoke('http://evil.example:5173/')).toMatchObject({ ok: false, error: { code: 'unauthorized' } })
  })

  it('devRendererUrl takes only a loopback http URL, and only in an unpackaged development build', () => {
    const dev = { dev: true, packaged: false }
    expect(devRendererUrl('http://localhost:5173', dev)).toBe('http://localhost:5173/')
    expect(devRendererUrl('http://127.0.0.1:5173/', dev)).toBe('http://127.0.0.1:5173/')
    expect(devRendererUrl('http://[::1]:5173', dev)).toBe('http://[::1]:5173/')
    expect(devRendererUrl('http://localhost:5173', { dev: false, packaged: false })).toBeNull()
    expect(devRendererUrl('http://localhost:5173', { dev: true, packaged: true })).toBeNull()
    expect(devRendererUrl(undefined, dev)).toBeNull()
    expect(devRendererUrl('', dev)).toBeNull()
    expect(devRendererUrl('https://localhost:5173', dev)).toBeNull()
    expect(devRendererUrl('http://192.168.1.20:5173', dev)).toBeNull()
    expect(devRendererUrl('http://localhost.evil.example:5173', dev)).toBeNull()
    expect(devRendererUrl('http://user:pw@localhost:5173', dev)).toBeNull()
    expect(devRendererUrl('file:///tmp/index.html', dev)).toBeNull()
    expect(devRendererUrl('not a url', dev)).toBeNull()
  })
})

describe('isTrustedSender', () => {
  it('accepts only the app page (file) or the dev server origin', () => {
    expect(isTrustedSender('file:///app/out/renderer/index.html', 'file:///app/out/renderer/index.html')).toBe(true)
    expect(isTrustedSender('file:///app/out/renderer/other.html', 'file:///app/out/renderer/index.html')).toBe(false)
    expect(isTrustedSender('http://localhost:5173/#/settings', 'http://localhost:5173/')).toBe(true)
    expect(isTrustedSender('http://localhost:5174/', 'http://localhost:5173/')).toBe(false)
    expect(isTrustedSender(undefined, 'file:///x')).toBe(false)
    expect(isTrustedSender('not a url', 'file:///x')).toBe(false)
  })
})
