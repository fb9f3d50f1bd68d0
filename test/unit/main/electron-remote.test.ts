// The Electron shell as a client of a remote host, with `electron` mocked (its binary cannot be
// loaded here) and a real `quarterturn serve` in a child process: `--connect URL` opens a window on
// it, its requests and events go through this process to that host (no local host is started),
// the window says which host it drives and how the connection stands, a lost host is reconnected,
// recent hosts keep their tokens in the main process only, and a window on this machine can still
// be opened beside it.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { IPC_EVENT, IPC_INVOKE, type Envelope } from '../../../src-shared/contract'
import { IPC_CONNECTION, IPC_CONNECTION_CHANGED, type ConnectionInfo } from '../../../src-shared/contract/channels'
import { Host } from '../../../src-host/host'
import { connectArgument } from '../../../src-main/connections'
import { parseRemoteTarget } from '../../../src-host/remote/client'
import { tinyRun, waitFor } from '../../helpers/processes'
import { killServes, startServeProcess } from '../../helpers/serve-process'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'

interface FakeContents {
  mainFrame: { url: string }
  sent: [string, ...unknown[]][]
  send(channel: string, ...args: unknown[]): void
}

const h = vi.hoisted(() => ({
  windows: [] as { opts: Record<string, unknown>; webContents: FakeContents }[],
  handlers: new Map<string, (...a: unknown[]) => unknown>(),
  userData: ''
}))

vi.mock('electron', () => {
  class BrowserWindow {
    webContents: FakeContents
    constructor(opts: Record<string, unknown>) {
      const sent: FakeContents['sent'] = []
      this.webContents = { mainFrame: { url: '' }, sent, send: (channel, ...args) => void sent.push([channel, ...args]) }
      h.windows.push({ opts, webContents: this.webContents })
    }
    once(): void {}
    on(): void {}
    loadFile(f: string): Promise<void> {
      this.webContents.mainFrame.url = pathToFileURL(f).href
      return Promise.resolve()
    }
    loadURL(u: string): Promise<void> {
      this.webContents.mainFrame.url = u
      return Promise.resolve()
    }
    static getAllWindows(): unknown[] {
      return h.windows.map((w) => ({ webContents: w.webContents }))
    }
  }
  return {
    app: {
      whenReady: () => Promise.resolve(),
      on: vi.fn(),
      getVersion: () => '9.9.9',
      getPath: () => h.userData,
      isPackaged: false,
      quit: vi.fn()
    },
    BrowserWindow,
    ipcMain: { handle: (ch: string, fn: (...a: unknown[]) => unknown) => h.handlers.set(ch, fn) },
    dialog: { showOpenDialog: vi.fn(), showMessageBox: vi.fn() },
    session: {
      defaultSession: {
        webRequest: { onHeadersReceived: vi.fn() },
        setPermissionRequestHandler: vi.fn(),
        setPermissionCheckHandler: vi.fn()
      }
    },
    shell: { openExternal: vi.fn() },
    utilityProcess: { fork: vi.fn() }
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

let serve: Awaited<ReturnType<typeof startServeProcess>>
const logged: string[] = []
const argv = process.argv

function invoke(w: number, name: string, arg: unknown = {}): Promise<Envelope> {
  const sender = h.windows[w]!.webContents
  return h.handlers.get(IPC_INVOKE)!({ senderFrame: sender.mainFrame, sender }, name, arg) as Promise<Envelope>
}
function connection(w: number, op: string, arg?: unknown): Promise<unknown> {
  const sender = h.windows[w]!.webContents
  return Promise.resolve(h.handlers.get(IPC_CONNECTION)!({ senderFrame: sender.mainFrame, sender }, op, arg))
}
const states = (w: number): string[] => h.windows[w]!.webContents.sent.filter((s) => s[0] === IPC_CONNECTION_CHANGED).map((s) => (s[1] as ConnectionInfo).state)

beforeAll(async () => {
  h.userData = tmpDir('qt-user-')
  serve = await startServeProcess()
  for (const level of ['log', 'info', 'warn', 'error'] as const) {
    vi.spyOn(console, level).mockImplementation((...a: unknown[]) => void logged.push(a.map(String).join(' ')))
  }
  vi.spyOn(Host.prototype, 'dispatch')
  process.argv = [...argv, '--connect', serve.url]
  await import('../../../src-main/index')
  await new Promise((r) => setTimeout(r, 10))
}, 60_000)
afterAll(() => {
  process.argv = argv
  vi.restoreAllMocks()
  killServes()
  cleanupTmp()
})

describe('a window on a remote host', () => {
  it('opens on the host --connect names, says so, and drives that host without starting one here', async () => {
    expect(h.windows).toHaveLength(1)
    expect(h.windows[0]!.opts.title).toBe(`Quarterturn — remote: 127.0.0.1:${serve.port}`)
    // The same hardened window as a local one.
    expect(h.windows[0]!.opts.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false })
    await waitFor(async () => ((await connection(0, 'info')) as ConnectionInfo).state === 'open', 'the connection')
    expect(await connection(0, 'info')).toEqual({ mode: 'remote', label: `127.0.0.1:${serve.port}`, base: serve.base, state: 'open', error: null })
    expect(await invoke(0, 'app.info')).toMatchObject({ ok: true, value: { shell: 'web', version: expect.any(String) } })
    expect(await invoke(0, 'workspace.get')).toMatchObject({ ok: true, value: { path: serve.workspace } })
    // The host validates, as it does for a browser tab.
    expect(await invoke(0, 'settings.update', { theme: 3 })).toMatchObject({ ok: false, error: { code: 'invalid-argument' } })
    expect(Host.prototype.dispatch).not.toHaveBeenCalled()
  })

  it("relays the host's pushed events to the window: a run created there trains, live", async () => {
    const created = await invoke(0, 'runs.create', { config: tinyRun('from-the-app', 1), preset: null })
    expect(created).toMatchObject({ ok: true })
    const id = (created as { value: { id: string } }).value.id
    const events = (): unknown[][] => h.windows[0]!.webContents.sent.filter((s) => s[0] === IPC_EVENT)
    await waitFor(
      () =>
        events().some(
          (e) =>
            e[1] === 'runs.changed' &&
            (e[2] as { id: string; status: { state: string } }).id === id &&
            (e[2] as { status: { state: string } }).status.state === 'done'
        ),
      'the run to finish'
    )
    expect(events().some((e) => e[1] === 'runs.metrics' && (e[2] as { id: string }).id === id)).toBe(true)
    const metrics = await invoke(0, 'runs.metrics', { id })
    expect(metrics.ok && (metrics.value as unknown[]).length).toBeGreaterThan(0)
    expect(Host.prototype.dispatch).not.toHaveBeenCalled()
  }, 90_000)

  it('reconnects after the host went away and came back, and says how the connection stands meanwhile', async () => {
    await serve.stop()
    await waitFor(() => states(0).includes('closed'), 'the window to hear the host is gone')
    expect(((await connection(0, 'info')) as ConnectionInfo).state).not.toBe('open')
    const lost = await invoke(0, 'runs.list')
    expect(lost).toMatchObject({ ok: false, error: { code: 'failed' } })
    serve = await startServeProcess({ configDir: serve.configDir, workspace: serve.workspace, port: serve.port })
    await waitFor(async () => ((await connection(0, 'info')) as ConnectionInfo).state === 'open', 'the reconnection', 30_000)
    const runs = await invoke(0, 'runs.list')
    expect(runs.ok && (runs.value as { name: string }[]).map((r) => r.name)).toEqual(['from-the-app'])
  }, 60_000)

  it('keeps recent hosts with their tokens in the main process, shows the renderer none, and logs none', async () => {
    const recent = (await connection(0, 'recent')) as Record<string, unknown>[]
    expect(recent).toEqual([{ base: serve.base, label: `127.0.0.1:${serve.port}`, lastUsed: expect.any(String) }])
    expect(JSON.stringify(recent)).not.toContain(serve.token)
    expect(readFileSync(path.join(h.userData, 'remote-hosts.json'), 'utf8')).toContain(serve.token)
    expect(logged.some((l) => l.includes(serve.base))).toBe(true)
    expect(logged.filter((l) => l.includes(serve.token))).toEqual([])
  })

  it('opens another window on a recent host or on this machine, and answers a wrong token in the form', async () => {
    const wrong = (await connection(0, 'open', { url: serve.base, token: 'y'.repeat(43) })) as { ok: boolean; message: string }
    expect(wrong.ok).toBe(false)
    expect(wrong.message).toMatch(/refused the access token/)
    expect(await connection(0, 'open', { url: 'ftp://x' })).toMatchObject({ ok: false, message: expect.stringMatching(/not an http\(s\) URL/) })
    expect(await connection(0, 'open', { nonsense: 1 })).toMatchObject({ ok: false })
    expect(h.windows).toHaveLength(1)

    expect(await connection(0, 'open', { base: serve.base })).toEqual({ ok: true })
    expect(h.windows).toHaveLength(2)
    expect(h.windows[1]!.opts.title).toBe(`Quarterturn — remote: 127.0.0.1:${serve.port}`)
    await waitFor(async () => ((await invoke(1, 'runs.list')) as Envelope).ok, 'the second window on the same host')

    expect(await connection(0, 'open', { local: true })).toEqual({ ok: true })
    expect(h.windows).toHaveLength(3)
    expect(h.windows[2]!.opts.title).toBe('Quarterturn')
    expect(await connection(2, 'info')).toEqual({ mode: 'local', label: null, base: null, state: 'open', error: null })
    expect(await invoke(2, 'app.info')).toMatchObject({ ok: true, value: { shell: 'electron', version: '9.9.9' } })
    expect(Host.prototype.dispatch).toHaveBeenCalled()

    await connection(0, 'forget', { base: serve.base })
    expect(await connection(0, 'recent')).toEqual([])
  }, 60_000)

  it('refuses connection requests from a foreign page', async () => {
    const evil = { url: 'https://evil.example/' }
    await expect(Promise.resolve().then(() => h.handlers.get(IPC_CONNECTION)!({ senderFrame: evil, sender: { mainFrame: evil } }, 'recent'))).rejects.toThrow(
      /refused/
    )
  })
})

describe('how a host is named', () => {
  it('takes --connect URL, --connect=URL or QUARTERTURN_CONNECT, the token in the URL or QUARTERTURN_TOKEN', () => {
    expect(connectArgument(['electron', '.', '--connect', 'http://127.0.0.1:7878/?token=abc'], {})).toEqual({ url: 'http://127.0.0.1:7878/?token=abc' })
    expect(connectArgument(['--connect=127.0.0.1:7878'], { QUARTERTURN_TOKEN: 't' })).toEqual({ url: '127.0.0.1:7878', token: 't' })
    expect(connectArgument([], { QUARTERTURN_CONNECT: 'http://h:1' })).toEqual({ url: 'http://h:1' })
    expect(connectArgument(['electron', '.'], {})).toBeNull()
    expect(parseRemoteTarget('127.0.0.1:7878', 'tok')).toMatchObject({
      base: 'http://127.0.0.1:7878',
      label: '127.0.0.1:7878',
      wsUrl: 'ws://127.0.0.1:7878/api?token=tok'
    })
    expect(parseRemoteTarget('https://lab.example/?token=a%2Bb')).toMatchObject({ base: 'https://lab.example', label: 'lab.example:443', token: 'a+b' })
    expect(parseRemoteTarget('http://[::1]:7878/?token=t').label).toBe('[::1]:7878')
    expect(() => parseRemoteTarget('http://127.0.0.1:7878')).toThrow(/No access token for 127\.0\.0\.1:7878/)
  })
})
