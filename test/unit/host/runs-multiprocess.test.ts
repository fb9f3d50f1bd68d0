// Several processes on one workspace: the process that trains a run owns it (its lock); any
// other only watches, refuses to change it, and starts nothing by reading; once the owner is
// killed, the run is interrupted and another process resumes it, each step recorded once.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, promises as fs } from 'node:fs'
import path from 'node:path'
import { createHeadlessHost } from '../../../src-host/headless'
import type { Host } from '../../../src-host/host'
import { readMetrics } from '../../../src-node/metrics-log'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { killChildren, otherProcess, tinyRun, waitFor } from '../../helpers/processes'

const WORKER = { entry: path.resolve('src-engine/run-worker.ts'), execArgv: ['--import', 'tsx'] }
const hosts: Host[] = []
afterEach(async () => {
  killChildren()
  for (const h of hosts.splice(0)) await h.shutdown()
  cleanupTmp()
})

describe('one writer per run', () => {
  it('a second process watches a run another trains, starts nothing by reading, and takes over only after the owner died', async () => {
    const ws = tmpDir('qt-ws-')
    const { child, ids } = await otherProcess(ws, [tinyRun('first', 40), tinyRun('second', 2)])
    const [first, second] = ids as [string, string]
    const firstDir = path.join(ws, 'runs', first)
    // This process reads the workspace the way `quarterturn list` / `show` do.
    const watcher = createHeadlessHost({ configDir: tmpDir('qt-cfg-'), defaultWorkspace: ws, runWorker: WORKER })
    hosts.push(watcher)
    await waitFor(async () => {
      const d = await watcher.call('runs.get', { id: first })
      return d.status.state === 'running' && (d.status.step ?? 0) > 0
    }, 'the other process training')

    const lock = JSON.parse(await fs.readFile(path.join(firstDir, 'lock.json'), 'utf8'))
    expect(lock).toMatchObject({ pid: child.pid, purpose: 'training' })
    expect(lock.workerPid).toBeGreaterThan(0)
    const byId = new Map((await watcher.call('runs.list', {})).map((r) => [r.id, r]))
    expect(byId.get(first)!.status.state).toBe('running')
    expect(byId.get(second)!.status.state).toBe('queued')
    expect(JSON.parse(await fs.readFile(path.join(firstDir, 'status.json'), 'utf8')).state).toBe('running')

    for (const name of ['runs.resume', 'runs.cancel', 'runs.pause'] as const) {
      const r = await watcher.dispatch(name, { id: first })
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error.message).toMatch(new RegExp(`in use by another Quarterturn process ${child.pid} \\(training since`))
    }
    // Reading started nothing: the queued run has no owner and no worker here.
    expect(existsSync(path.join(ws, 'runs', second, 'lock.json'))).toBe(false)
    expect((watcher.runs as unknown as { runs: Map<string, { worker: unknown }> }).runs.get(second)!.worker).toBeNull()

    // The owner dies (its worker checkpoints and exits after it): the run becomes interrupted.
    child.kill('SIGKILL')
    const interrupted = await waitFor(async () => {
      const r = (await watcher.call('runs.list', {})).find((x) => x.id === first)!
      return r.status.state === 'interrupted' && r
    }, 'the run marked interrupted')
    expect(interrupted.status.error).toMatch(/stopped .* while it was running\. Resume continues/)
    expect(existsSync(path.join(firstDir, 'lock.json'))).toBe(false)

    // This process now serves the queue and resumes the run: each step recorded once.
    await watcher.runs.startQueue()
    expect((await watcher.runs.waitSettled(second)).status.state).toBe('done')
    await watcher.call('runs.resume', { id: first })
    expect((await watcher.runs.waitSettled(first)).status.state).toBe('done')
    const steps = (await readMetrics(path.join(firstDir, 'metrics.jsonl'))).filter((r) => r.stage === 'pretrain').map((r) => r.step)
    expect(steps).toEqual([...Array(160).keys()])
    // Given back once the final state is saved.
    await waitFor(async () => !existsSync(path.join(firstDir, 'lock.json')), 'the lock released', 5000)
  }, 180_000)
})
