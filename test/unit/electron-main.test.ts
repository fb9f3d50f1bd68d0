// The Electron shell with `electron` mocked (its binary cannot be loaded here): the window is
// hardened, IPC from a foreign frame is refused, navigation and new windows are blocked.
import { beforeAll, describe, expect, it, vi } from 'vitest'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { tmpDir } from '../helpers/tmp'
import { IPC_INVOKE, type Envelope } from '../../src-shared/contract'
import { isTrustedSender } from '../../src-main/security'

const h = vi.hoisted(() => ({
  windows: [] as { opts: Record<string, unknown>; loaded: string[] }[],
  handlers: new Map<string, (...a: unknown[]) => unknown>(),
  appEvents: new Map<string, (...a: unknown[]) => void>(),
  headerHook: null as null | ((d: unknown, cb: (r: unknown) => void) => void),
  userData: ''
}))

vi.mock('electron', () => {
  class BrowserWindow {
    webContents = { send: vi.fn() }
    constructor(opts: Record<string, unknown>) {
      h.windows.push({ opts, loaded: [] })
    }
    once(): void {}
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
      quit: vi.fn()
    },
    BrowserWindow,
    ipcMain: { handle: (ch: string, fn: (...a: unknown[]) => unknown) => h.handlers.set(ch, fn) },
    dialog: { showOpenDialog: vi.fn(), showMessageBox: vi.fn() },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: (fn: typeof h.headerHook) => (h.headerHook = fn) },
        setPermissionRequestHandler: vi.fn()
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
  await import('../../src-main/index')
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

  it('blocks navigation away from the app and every new window', () => {
    const listeners = new Map<string, (...a: unknown[]) => void>()
    let openHandler: ((d: { url: string }) => { action: string }) | null = null
    h.appEvents.get('web-contents-created')!({}, {
      on: (n: string, fn: (...a: unknown[]) => void) => listeners.set(n, fn),
      setWindowOpenHandler: (fn: typeof openHandler) => (openHandler = fn)
    })
    const prevent = vi.fn()
    listeners.get('will-navigate')!({ preventDefault: prevent }, 'https://evil.example/')
    expect(prevent).toHaveBeenCalledTimes(1)
    listeners.get('will-navigate')!({ preventDefault: prevent }, appUrl)
    expect(prevent).toHaveBeenCalledTimes(1)
    expect(openHandler!({ url: 'https://example.org' })).toEqual({ action: 'deny' })
    expect(openHandler!({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' })
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
