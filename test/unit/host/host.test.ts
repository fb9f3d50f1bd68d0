// Host and its services on real folders and a real conf store.
import { afterEach, describe, expect, it } from 'vitest'
import { promises as fs, writeFileSync } from 'node:fs'
import path from 'node:path'
import { createHeadlessHost, createSettingsStore } from '../../../src-host/headless'
import { Host } from '../../../src-host/host'
import { SettingsService } from '../../../src-host/services/settings'
import { DEFAULT_SETTINGS } from '../../../src-shared/contract'
import { WORKSPACE_MARKER } from '../../../src-host/services/workspace'
import type { WorkerEntry } from '../../../src-host/runs/fork-launcher'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'

afterEach(cleanupTmp)

function newHost(configDir = tmpDir(), defaultWorkspace = path.join(tmpDir(), 'ws'), runWorker?: WorkerEntry) {
  return { host: createHeadlessHost({ configDir, defaultWorkspace, logError: () => {}, runWorker }), configDir, defaultWorkspace }
}

/** The worker backends are probed in (TensorFlow.js never loads in the host). */
const WORKER: WorkerEntry = { entry: path.resolve('src-engine/run-worker.ts'), execArgv: ['--import', 'tsx'] }

describe('Host.dispatch', () => {
  it('answers an unknown request with a typed error', async () => {
    const { host } = newHost()
    expect(await host.dispatch('settings.delete', {})).toEqual({
      ok: false,
      error: { code: 'unknown-request', message: 'Unknown request "settings.delete".' }
    })
    expect((await host.dispatch(42, {})).ok).toBe(false)
  })

  it('answers a malformed argument with invalid-argument and the field, without crashing', async () => {
    const { host } = newHost()
    const r = await host.dispatch('settings.update', { maxConcurrentRuns: 'lots' })
    expect(r.ok).toBe(false)
    if (r.ok) return
    expect(r.error.code).toBe('invalid-argument')
    expect(r.error.issues?.[0]?.path).toBe('maxConcurrentRuns')
    // The host still works afterwards.
    expect((await host.dispatch('settings.get', {})).ok).toBe(true)
  })

  it('reports app info for its shell', async () => {
    const { host } = newHost()
    const info = await host.call('app.info', {})
    expect(info).toMatchObject({ name: 'Quarterturn', shell: 'web', node: process.versions.node })
    expect(info.version).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('refuses the native folder picker headless with "unsupported"', async () => {
    const { host } = newHost()
    const r = await host.dispatch('workspace.pickFolder', {})
    expect(r).toMatchObject({ ok: false, error: { code: 'unsupported' } })
  })
})

describe('settings service', () => {
  it('saves a setting that survives a restart of the host', async () => {
    const { host, configDir } = newHost()
    await host.call('settings.update', { theme: 'dark', maxConcurrentRuns: 3 })
    await host.shutdown()
    const again = createHeadlessHost({ configDir })
    expect(await again.call('settings.get', {})).toMatchObject({ theme: 'dark', maxConcurrentRuns: 3 })
  })

  it('pushes settings.changed to subscribers', async () => {
    const { host } = newHost()
    const seen: unknown[] = []
    host.onEvent((name, payload) => seen.push([name, payload]))
    await host.call('settings.update', { checkpointIntervalMin: 5 })
    expect(seen).toHaveLength(1)
    expect(seen[0]).toEqual(['settings.changed', expect.objectContaining({ checkpointIntervalMin: 5 })])
  })

  it('keeps an unreadable settings file aside instead of crashing or losing it', async () => {
    const configDir = tmpDir()
    const file = path.join(configDir, 'settings.json')
    const bad = JSON.stringify({ theme: 'purple', maxConcurrentRuns: 3 })
    writeFileSync(file, bad)
    const warnings: string[] = []
    const host = new Host({
      store: createSettingsStore(configDir, (m) => warnings.push(m)),
      shell: 'web',
      version: '0.0.0',
      defaultWorkspace: tmpDir()
    })
    expect(await host.call('settings.get', {})).toEqual(DEFAULT_SETTINGS)
    const kept = (await fs.readdir(configDir)).filter((f) => f.startsWith('settings.invalid-'))
    expect(kept).toHaveLength(1)
    expect(await fs.readFile(path.join(configDir, kept[0]!), 'utf8')).toBe(bad)
    expect(warnings[0]).toContain(kept[0])
    // The fresh store works and persists.
    await host.call('settings.update', { theme: 'light' })
    expect(createHeadlessHost({ configDir }).settings.get().theme).toBe('light')
  })

  it('keeps good keys when one stored key is invalid', () => {
    const service = new SettingsService({ store: { theme: 'dark', maxConcurrentRuns: 'many' }, set: () => {}, clear: () => {} })
    expect(service.get()).toMatchObject({ theme: 'dark', maxConcurrentRuns: 1 })
  })

  it('reset returns to defaults', async () => {
    const { host } = newHost()
    await host.call('settings.update', { theme: 'light' })
    expect((await host.call('settings.reset', {})).theme).toBe('system')
  })
})

describe('workspace service', () => {
  it('reports the default workspace, not yet created, with its disk space', async () => {
    const { host, defaultWorkspace } = newHost()
    const info = await host.call('workspace.get', {})
    expect(info).toMatchObject({ path: defaultWorkspace, ready: false, source: 'default' })
    expect(info.freeBytes).toBeGreaterThan(0)
    expect(info.totalBytes).toBeGreaterThanOrEqual(info.freeBytes)
  })

  it('creates the layout, remembers the choice and pushes workspace.changed', async () => {
    const { host, configDir } = newHost()
    const target = path.join(tmpDir(), 'nested', 'my-ws')
    const events: string[] = []
    host.onEvent((name) => events.push(name))
    const info = await host.call('workspace.open', { path: target })
    expect(info).toMatchObject({ path: target, ready: true, source: 'settings' })
    for (const sub of ['datasets', 'runs', 'reports']) expect((await fs.stat(path.join(target, sub))).isDirectory()).toBe(true)
    expect(JSON.parse(await fs.readFile(path.join(target, WORKSPACE_MARKER), 'utf8')).format).toBe(1)
    expect(events).toContain('workspace.changed')
    const again = createHeadlessHost({ configDir })
    expect((await again.call('workspace.get', {})).path).toBe(target)
  })

  it('reopening keeps the existing marker and contents', async () => {
    const { host } = newHost()
    const target = path.join(tmpDir(), 'ws')
    await host.call('workspace.open', { path: target })
    const marker = await fs.readFile(path.join(target, WORKSPACE_MARKER), 'utf8')
    await fs.writeFile(path.join(target, 'runs', 'keep.txt'), 'x')
    await host.call('workspace.open', { path: target })
    expect(await fs.readFile(path.join(target, WORKSPACE_MARKER), 'utf8')).toBe(marker)
    expect(await fs.readFile(path.join(target, 'runs', 'keep.txt'), 'utf8')).toBe('x')
  })

  it('rejects a relative path with a message saying what to give', async () => {
    const { host } = newHost()
    const r = await host.dispatch('workspace.open', { path: 'relative/ws' })
    expect(r).toMatchObject({ ok: false, error: { code: 'invalid-argument' } })
    if (!r.ok) expect(r.error.message).toMatch(/not absolute/)
  })

  it('rejects a file in the way, naming it, and leaves settings unchanged', async () => {
    const { host } = newHost()
    const file = path.join(tmpDir(), 'a-file')
    writeFileSync(file, 'not a folder')
    for (const target of [file, path.join(file, 'below')]) {
      const r = await host.dispatch('workspace.open', { path: target })
      expect(r.ok).toBe(false)
      if (!r.ok) {
        expect(r.error.code).toBe('failed')
        expect(r.error.message).toContain(file)
        expect(r.error.message).toMatch(/file/)
      }
    }
    expect((await host.call('settings.get', {})).workspacePath).toBeNull()
  })
})

describe('backends', () => {
  it('lists the five candidates best first, each loaded or with a reason and a fix', async () => {
    const { host } = newHost(undefined, undefined, WORKER)
    const list = await host.call('backends.detect', {})
    expect(list.map((b) => b.name)).toEqual(['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'])
    for (const b of list) {
      expect(b.detail.length).toBeGreaterThan(0)
      if (!b.ok) expect(b.fix).toBeTruthy()
    }
  })
})
