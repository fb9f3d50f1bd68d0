// The workspace seen live: a run another process creates and trains reaches this host's
// subscribers as runs.changed and runs.metrics without any request; runs.annotate writes a run's
// notes even while another process trains it; runs.delete refuses a run another process owns or
// one queued here, and removes the folder otherwise.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createHeadlessHost } from '../../../src-host/headless'
import type { Host } from '../../../src-host/host'
import type { EventName, MetricRecord, RunSummary } from '../../../src-shared/contract'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { killChildren, otherProcess, tinyRun, waitFor } from '../../helpers/processes'

const hosts: Host[] = []
afterEach(async () => {
  killChildren()
  for (const h of hosts.splice(0)) await h.shutdown()
  cleanupTmp()
})

function newHost(ws: string): Host {
  const host = createHeadlessHost({ configDir: tmpDir('qt-cfg-'), defaultWorkspace: ws })
  hosts.push(host)
  return host
}

/**
 * Run folders as a host writes them, then set to the given states. The maker cannot start workers
 * (each run fails to start at once) and is shut down before the states are set, so nothing
 * schedules the queued ones.
 */
async function makeRuns(ws: string, states: RunSummary['status']['state'][]): Promise<string[]> {
  const maker = createHeadlessHost({ configDir: tmpDir('qt-cfg-'), defaultWorkspace: ws })
  const ids: string[] = []
  for (const _ of states) ids.push((await maker.call('runs.create', { config: tinyRun('made', 1), preset: null })).id)
  for (const id of ids) await waitFor(async () => (await maker.call('runs.get', { id })).status.state === 'failed', 'the run to settle')
  await maker.shutdown()
  for (const [i, id] of ids.entries()) {
    const file = path.join(ws, 'runs', id, 'status.json')
    const status = JSON.parse(await fs.readFile(file, 'utf8'))
    await fs.writeFile(file, JSON.stringify({ ...status, state: states[i], error: null }))
  }
  await fs.rm(path.join(ws, 'runs', 'queue.json'), { force: true })
  return ids
}

describe('the workspace seen live', () => {
  it('pushes a run another process creates, and streams its metrics, without being asked', async () => {
    const ws = tmpDir('qt-ws-')
    const a = newHost(ws)
    const events: { name: EventName; payload: unknown }[] = []
    a.onEvent((name, payload) => events.push({ name, payload }))
    await a.call('runs.list', {})
    await a.watchWorkspace({ debounceMs: 100, rescanMs: 1000 })

    const { ids } = await otherProcess(ws, [tinyRun('elsewhere', 30)])
    const id = ids[0]!
    const changed = await waitFor(
      () => events.find((e) => e.name === 'runs.changed' && (e.payload as RunSummary).id === id)?.payload as RunSummary | undefined,
      'runs.changed for the new run'
    )
    expect(changed.name).toBe('elsewhere')
    await waitFor(
      () => events.some((e) => e.name === 'runs.changed' && (e.payload as RunSummary).id === id && (e.payload as RunSummary).status.state === 'running'),
      'the run seen running'
    )
    const streamed = await waitFor(() => {
      const recs = events
        .filter((e) => e.name === 'runs.metrics' && (e.payload as { id: string }).id === id)
        .flatMap((e) => (e.payload as { records: MetricRecord[] }).records)
      return recs.length >= 3 && recs
    }, 'metrics streamed from the other process')
    const steps = streamed.filter((r) => r.stage === 'pretrain' && typeof r.step === 'number').map((r) => r.step as number)
    // Each record once, in order, as the owner appended them.
    expect(steps.length).toBeGreaterThan(0)
    expect([...steps].sort((x, y) => x - y)).toEqual(steps)
    expect(new Set(steps).size).toBe(steps.length)
  }, 120_000)

  it('pushes runs.removed when another process deletes a run', async () => {
    const ws = tmpDir('qt-ws-')
    const [id] = (await makeRuns(ws, ['done'])) as [string]
    const a = newHost(ws)
    await a.call('runs.list', {})
    const removed: string[] = []
    a.onEvent((name, payload) => name === 'runs.removed' && removed.push((payload as { id: string }).id))
    await a.watchWorkspace({ debounceMs: 50, rescanMs: 500 })
    await fs.rm(path.join(ws, 'runs', id), { recursive: true })
    await waitFor(() => removed.includes(id), 'runs.removed')
    expect((await a.call('runs.list', {})).map((r) => r.id)).not.toContain(id)
  }, 60_000)
})

describe('datasets seen live', () => {
  it('pushes a dataset another host registers on the workspace', async () => {
    const ws = tmpDir('qt-ws-')
    const a = newHost(ws)
    const changed: string[] = []
    a.onEvent((name, payload) => name === 'datasets.changed' && changed.push((payload as { id: string }).id))
    await a.call('datasets.list', {})
    await a.watchWorkspace({ debounceMs: 50, rescanMs: 500 })
    // Another host (as another process would) draws the sample into the same workspace.
    const b = newHost(ws)
    const added = await b.call('datasets.addSample', { perClass: 2, testPerClass: 1 })
    await waitFor(() => changed.includes(added.id), 'datasets.changed from the watcher', 30_000)
  }, 60_000)
})

describe('runs.annotate and runs.delete', () => {
  it('stores tags and notes in notes.json, pushes them, and keeps them across hosts', async () => {
    const ws = tmpDir('qt-ws-')
    const [id] = (await makeRuns(ws, ['done'])) as [string]
    const host = newHost(ws)
    const pushed: RunSummary[] = []
    host.onEvent((name, payload) => name === 'runs.changed' && pushed.push(payload as RunSummary))
    const s = await host.call('runs.annotate', { id, tags: [' baseline ', 'lr', 'baseline'], notes: 'lr 0.05 too high?' })
    expect(s).toMatchObject({ tags: ['baseline', 'lr'], notes: 'lr 0.05 too high?' })
    expect(pushed.at(-1)).toMatchObject({ id, tags: ['baseline', 'lr'] })
    expect(JSON.parse(await fs.readFile(path.join(ws, 'runs', id, 'notes.json'), 'utf8'))).toEqual({ tags: ['baseline', 'lr'], notes: 'lr 0.05 too high?' })
    const other = newHost(ws)
    expect((await other.call('runs.list', {})).find((r) => r.id === id)).toMatchObject({ tags: ['baseline', 'lr'], notes: 'lr 0.05 too high?' })
    const bad = await host.dispatch('runs.annotate', { id, tags: [''], notes: '' })
    expect(bad.ok).toBe(false)
  }, 60_000)

  it('annotates but refuses to delete a run another live process owns', async () => {
    const ws = tmpDir('qt-ws-')
    const [id] = (await makeRuns(ws, ['running'])) as [string]
    const host = newHost(ws)
    const dir = path.join(ws, 'runs', id)
    // The lock of a live process on this machine (the test runner's parent) training the run.
    await fs.writeFile(
      path.join(dir, 'lock.json'),
      JSON.stringify({
        pid: process.ppid,
        host: os.hostname(),
        owner: 'elsewhere',
        purpose: 'training',
        since: new Date().toISOString(),
        heartbeat: Date.now()
      })
    )
    await host.call('runs.list', {})
    const del = await host.dispatch('runs.delete', { id })
    expect(del.ok).toBe(false)
    expect(del.ok ? '' : del.error.message).toMatch(/in use by another Quarterturn process/)
    expect(existsSync(path.join(dir, 'run.json'))).toBe(true)
    expect(await host.call('runs.annotate', { id, tags: ['watched'], notes: '' })).toMatchObject({ tags: ['watched'] })
    // The owner's lock is untouched.
    expect(JSON.parse(await fs.readFile(path.join(dir, 'lock.json'), 'utf8')).owner).toBe('elsewhere')
  }, 60_000)

  it('refuses to delete a queued run, and deletes a finished one', async () => {
    const ws = tmpDir('qt-ws-')
    const [queued, done] = (await makeRuns(ws, ['queued', 'done'])) as [string, string]
    const host = newHost(ws)
    await host.call('runs.list', {})
    const removed: string[] = []
    host.onEvent((name, payload) => name === 'runs.removed' && removed.push((payload as { id: string }).id))
    const refused = await host.dispatch('runs.delete', { id: queued })
    expect(refused.ok ? '' : refused.error.message).toMatch(/queued: pause or cancel it/)
    expect(existsSync(path.join(ws, 'runs', queued))).toBe(true)
    expect(await host.call('runs.delete', { id: done })).toEqual({ removed: true })
    expect(existsSync(path.join(ws, 'runs', done))).toBe(false)
    expect(removed).toEqual([done])
    expect((await host.call('runs.list', {})).map((r) => r.id)).toEqual([queued])
  }, 60_000)
})
