// Damaged dataset folders in the workspace (record missing, cut short, not JSON, not a record,
// copied): listed as damaged with the reason and what to do, never breaking the list or the rest.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Host } from '../../../src-host/host'
import { createSettingsStore, APP_VERSION } from '../../../src-host/headless'
import { main } from '../../../src-host/cli'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { makeImageFolder } from '../../helpers/datasets'

afterEach(() => {
  cleanupTmp()
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

describe('damaged dataset folders in the workspace', () => {
  it('are listed as damaged with the reason and what to do; the rest of the workspace works', { timeout: 30_000 }, async () => {
    const ws = path.join(tmpDir(), 'ws')
    const cfg = tmpDir()
    vi.stubEnv('QUARTERTURN_INDEX_IN_PROCESS', '1')
    vi.stubEnv('QUARTERTURN_WORKSPACE', ws)
    const host = new Host({
      store: createSettingsStore(cfg),
      shell: 'web',
      version: APP_VERSION,
      defaultWorkspace: ws,
      logError: () => {},
      indexInProcess: true
    })
    const good = tmpDir()
    makeImageFolder(good, { a: 3, b: 3 })
    const other = path.join(tmpDir(), 'holiday')
    makeImageFolder(other, { x: 2, y: 2 })
    await host.call('datasets.add', { path: good, id: 'good' })
    await host.datasets.waitForJob('good')
    await host.call('datasets.add', { path: other, id: 'holiday' })
    await host.datasets.waitForJob('holiday')

    const root = path.join(ws, 'datasets')
    const record = readFileSync(path.join(root, 'good', 'dataset.json'), 'utf8')
    const plant = (id: string, text: string | null): void => {
      mkdirSync(path.join(root, id, 'cache'), { recursive: true })
      if (text !== null) writeFileSync(path.join(root, id, 'dataset.json'), text)
    }
    plant('gone', null) // record missing, cache left
    plant('cut', record.slice(0, record.length >> 1)) // truncated
    plant('empty', '')
    plant('junk', 'not json at all')
    plant('old', JSON.stringify({ format: 0, id: 'old', name: 'Old photos', source: '/data/old' })) // fails the schema
    plant('copy', record) // a copy of another dataset's folder
    // The holiday dataset's record damaged in place: it keeps its name and folder in the list.
    const holidayRecord = JSON.parse(readFileSync(path.join(root, 'holiday', 'dataset.json'), 'utf8')) as Record<string, unknown>
    writeFileSync(path.join(root, 'holiday', 'dataset.json'), JSON.stringify({ ...holidayRecord, images: 'many' }))
    writeFileSync(path.join(root, 'notes.txt'), 'not a dataset') // files there are not datasets

    const list = await host.call('datasets.list', {}) // validated against the contract
    const byId = new Map(list.map((d) => [d.id, d]))
    expect([...byId.keys()].sort()).toEqual(['copy', 'cut', 'empty', 'gone', 'good', 'holiday', 'junk', 'old'])
    expect(byId.get('good')).toMatchObject({ status: 'ready', damaged: null, images: 6 })
    const damage = (id: string) => byId.get(id)!.damaged!
    expect(damage('gone').reason).toMatch(/dataset\.json is missing/)
    expect(damage('cut').reason).toMatch(/is not valid JSON/)
    expect(damage('empty').reason).toMatch(/is empty/)
    expect(damage('junk').reason).toMatch(/is not valid JSON/)
    expect(damage('old').reason).toMatch(/not a dataset record this version can read \(format/)
    expect(damage('copy').reason).toMatch(/is for the dataset "good", not "copy"/)
    expect(damage('copy').action).toMatch(/Rename the folder back to datasets\/good/)
    expect(byId.get('old')).toMatchObject({ name: 'Old photos', source: '/data/old', status: 'failed' })
    expect(byId.get('holiday')).toMatchObject({
      name: 'holiday',
      source: other,
      status: 'failed',
      damaged: { reason: expect.stringMatching(/images/), action: expect.stringContaining(`add the folder ${other} again`) }
    })
    for (const id of ['gone', 'cut', 'empty', 'junk'])
      expect(damage(id).action).toMatch(
        /^Remove it \(that deletes only .*datasets\/\w+ in the workspace, never the image folder\) and add its image folder again\.$/
      )

    // Asking for one says so; browsing the good one is unaffected.
    expect(await host.dispatch('datasets.get', { id: 'cut' })).toMatchObject({
      ok: false,
      error: { message: expect.stringMatching(/"cut" is damaged: .*not valid JSON/) }
    })
    expect((await host.call('datasets.thumbnails', { id: 'good', split: 'train' })).items.length).toBeGreaterThan(0)

    // The CLI lists them too, and --json stays the contract's shape.
    const out: string[] = []
    const run = async (argv: string[]): Promise<number> => {
      out.length = 0
      return main(argv, { out: (l) => out.push(l), err: () => {} })
    }
    expect(await run(['dataset', 'list', '--config-dir', cfg])).toBe(0)
    const text = out.join('\n')
    expect(text).toMatch(/^good .*\[ready\]/m)
    expect(text).toMatch(/^gone\s+gone\s+\[damaged\]\s+Its record .*dataset\.json is missing.*Remove it/m)
    expect(await run(['dataset', 'list', '--json', '--config-dir', cfg])).toBe(0)
    expect(JSON.parse(out.join('\n')).find((d: { id: string }) => d.id === 'junk').damaged.reason).toMatch(/not valid JSON/)

    // A damaged one can be removed (only its folder goes) ...
    expect(await host.call('datasets.remove', { id: 'gone' })).toEqual({ removed: true })
    expect(existsSync(path.join(root, 'gone'))).toBe(false)
    expect(existsSync(path.join(root, 'good', 'cache', 'index.json'))).toBe(true)
    // ... or replaced by adding its folder again, under its own id.
    const again = await host.call('datasets.add', { path: other })
    expect(again.id).toBe('holiday')
    expect((await host.datasets.waitForJob('holiday')).summary).toMatchObject({ status: 'ready', damaged: null, images: 4 })
    expect(readdirSync(root).sort()).toEqual(['copy', 'cut', 'empty', 'good', 'holiday', 'junk', 'notes.txt', 'old'])
    await host.shutdown()
  })

  it('a damaged sample folder does not stop the sample from being added again', async () => {
    const ws = path.join(tmpDir(), 'ws')
    const host = new Host({
      store: createSettingsStore(tmpDir()),
      shell: 'web',
      version: APP_VERSION,
      defaultWorkspace: ws,
      logError: () => {},
      indexInProcess: true
    })
    mkdirSync(path.join(ws, 'datasets', 'sample'), { recursive: true })
    copyFileSync(__filename, path.join(ws, 'datasets', 'sample', 'dataset.json'))
    expect((await host.call('datasets.list', {}))[0]).toMatchObject({ id: 'sample', damaged: { reason: expect.stringMatching(/not valid JSON/) } })
    await host.call('datasets.addSample', { perClass: 2 })
    expect((await host.datasets.waitForJob('sample')).summary).toMatchObject({ status: 'ready', damaged: null })
    await host.shutdown()
  })
})
