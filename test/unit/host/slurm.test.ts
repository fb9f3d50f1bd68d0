// The Slurm executor against a real Slurm: a private one-node cluster started by
// scripts/slurm/cluster.sh (its own munge, state folder and ports), runs submitted with sbatch
// and supervised through their events files. Skipped, saying why, where slurm-wlm or munge is
// not installed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { execFileSync } from 'node:child_process'
import { existsSync, promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createHeadlessHost } from '../../../src-host/headless'
import type { Host } from '../../../src-host/host'
import { readMetrics } from '../../../src-node/metrics-log'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { killChildren, otherProcess, waitFor } from '../../helpers/processes'
import { makeExecutors } from '../../../src-host/runs/executors'
import type { Placement } from '../../../src-shared/contract/executor'

const WORKER = { entry: path.resolve('src-engine/run-worker.ts'), execArgv: ['--import', 'tsx'] }
const SCRIPT = path.resolve('scripts/slurm/cluster.sh')
const onPath = (cmd: string): boolean =>
  (process.env.PATH ?? '').split(':').some((d) => existsSync(path.join(d, cmd)) || existsSync(path.join('/usr/sbin', cmd)))
const missing = ['sbatch', 'slurmctld', 'slurmd', 'munged'].filter((c) => !onPath(c))
if (missing.length) console.warn(`slurm.test.ts skipped: ${missing.join(', ')} not installed (apt-get install --no-install-recommends slurm-wlm munge)`)

const state = path.join(os.tmpdir(), `qt-slurm-test-${process.pid}`)
const hosts: Host[] = []
let node = ''
const t0 = Date.now()

beforeAll(() => {
  if (missing.length) return
  execFileSync(SCRIPT, ['start', state], { stdio: 'inherit' })
  process.env.SLURM_CONF = path.join(state, 'slurm.conf')
  node = execFileSync('sinfo', ['-h', '-o', '%N'], { encoding: 'utf8' }).trim()
}, 60_000)

afterAll(async () => {
  killChildren()
  for (const h of hosts.splice(0)) await h.shutdown()
  if (!missing.length) execFileSync(SCRIPT, ['stop', state], { stdio: 'inherit' })
  await fs.rm(state, { recursive: true, force: true })
  cleanupTmp()
  console.log(`slurm.test.ts: ${((Date.now() - t0) / 1000).toFixed(1)} s with the cluster`)
}, 60_000)

/** A host on a workspace whose executor.json says `executor` (nothing: local). */
async function newHost(executor?: Record<string, unknown>): Promise<{ host: Host; ws: string }> {
  const ws = tmpDir('qt-ws-')
  if (executor) await fs.writeFile(path.join(ws, 'executor.json'), JSON.stringify(executor))
  const host = createHeadlessHost({ configDir: tmpDir('qt-cfg-'), defaultWorkspace: ws, runWorker: WORKER })
  hosts.push(host)
  return { host, ws }
}
const SLURM = { executor: 'slurm', slurm: { cpus: 1, mem: null, time: '10:00', maxResubmits: 2 } }

/** A tiny run: 40 images of 32 px, a 1/16-width AlexNet, 4 steps an epoch. */
function tiny(epochs = 3, evaluate = true): Record<string, unknown> {
  return {
    name: 'tiny',
    seed: 3,
    backend: 'wasm',
    dataset: { kind: 'sample', perClass: 4, testPerClass: 2, size: 32, seed: 2 },
    backbone: { arch: 'alexnet32', width: 0.0625 },
    pretrain: { method: { method: 'rotnet' }, epochs, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } },
    evaluation: evaluate ? { linear: { epochs: 2, batchSize: 16 }, knn: { k: 5 } } : { linear: { enabled: false }, knn: { enabled: false } }
  }
}

const runJson = async (ws: string, id: string): Promise<{ placements?: Placement[] }> =>
  JSON.parse(await fs.readFile(path.join(ws, 'runs', id, 'run.json'), 'utf8'))
const pretrainSteps = async (ws: string, id: string): Promise<number[]> =>
  (await readMetrics(path.join(ws, 'runs', id, 'metrics.jsonl'))).filter((r) => r.stage === 'pretrain').map((r) => r.step as number)
const squeueRunning = (): string[] => execFileSync('squeue', ['-h', '-t', 'RUNNING', '-o', '%i'], { encoding: 'utf8' }).split('\n').filter(Boolean)

describe.skipIf(missing.length > 0)('runs on Slurm', () => {
  it('two runs at once on two CPUs finish through Slurm with the results of a local run of the same config and seed', async () => {
    const { host, ws } = await newHost(SLURM)
    await host.settings.update({ maxConcurrentRuns: 1 })
    expect(await host.call('executors.describe', {})).toMatchObject({
      chosen: 'slurm',
      local: { ok: true },
      slurm: { ok: true, detail: expect.stringMatching(/slurm.*is UP/) }
    })
    const [a, b] = await host.runs.createGroup(tiny(), null, [3, 4])
    // Both jobs run at once (maxJobs, not the app's one-at-a-time setting, limits a cluster).
    await waitFor(() => squeueRunning().length === 2, 'two jobs running at once', 60_000)
    const local = await newHost()
    const l = await local.host.call('runs.create', { config: tiny(), preset: null })
    const [da, db, dl] = await Promise.all([host.runs.waitSettled(a!.id), host.runs.waitSettled(b!.id), local.host.runs.waitSettled(l.id)])
    expect([da.status.state, db.status.state, dl.status.state]).toEqual(['done', 'done', 'done'])
    const weights = (w: string, id: string): Promise<Buffer> => fs.readFile(path.join(w, 'runs', id, 'artifacts', 'backbone-pretrain.bin'))
    expect((await weights(ws, a!.id)).equals(await weights(local.ws, l.id))).toBe(true)
    expect(da.evaluations.map((e) => [e.protocol, e.accuracy]).sort()).toEqual(dl.evaluations.map((e) => [e.protocol, e.accuracy]).sort())
    expect(await pretrainSteps(ws, a!.id)).toEqual(await pretrainSteps(local.ws, l.id))
    // One attempt each, recorded with its job, node, end state and log.
    const placements = (await runJson(ws, a!.id)).placements!
    expect(placements).toEqual([
      expect.objectContaining({
        executor: 'slurm',
        attempt: 1,
        jobId: expect.stringMatching(/^\d+$/),
        nodes: node,
        state: 'COMPLETED',
        log: 'slurm/attempt-1.out'
      })
    ])
    expect(existsSync(path.join(ws, 'runs', a!.id, 'slurm', 'attempt-1.out'))).toBe(true)
    const log = (await host.call('runs.get', { id: a!.id })).log.map((x) => x.message).join('\n')
    expect(log).toContain(`Submitted as Slurm job ${placements[0]!.jobId}`)
    expect(log).toContain(`Slurm job ${placements[0]!.jobId} ended COMPLETED on ${node}`)
  }, 120_000)

  it('pause and resume resubmit a run, scancel cancels it; a worker killed with SIGKILL is resubmitted and resumes from its checkpoint without duplicated steps', async () => {
    const { host, ws } = await newHost(SLURM)
    const killed = await host.call('runs.create', { config: tiny(4, false), preset: null })
    // Long enough never to finish before it is cancelled.
    const cancelled = await host.call('runs.create', { config: tiny(40, false), preset: null })
    const dirK = path.join(ws, 'runs', killed.id)
    // Past the first epoch's checkpoint, mid-way through the second.
    await waitFor(async () => (await pretrainSteps(ws, killed.id)).length >= 6, 'second epoch', 60_000)
    const events = await fs.readFile(path.join(dirK, 'slurm', 'attempt-1.events.jsonl'), 'utf8')
    const pid = Number(/Worker process (\d+) on/.exec(events)![1])
    process.kill(pid, 'SIGKILL')

    // Pause signals the job (it checkpoints and exits), resume submits a new one; then scancel from outside cancels the run.
    await waitFor(async () => (await pretrainSteps(ws, cancelled.id)).length >= 1, 'the other run training', 60_000)
    await host.call('runs.pause', { id: cancelled.id })
    expect((await host.runs.waitSettled(cancelled.id)).status.state).toBe('paused')
    const atPause = (await pretrainSteps(ws, cancelled.id)).length
    await host.call('runs.resume', { id: cancelled.id })
    await waitFor(async () => (await pretrainSteps(ws, cancelled.id)).length > atPause, 'the resumed run training', 60_000)
    const job = (await runJson(ws, cancelled.id)).placements![1]!.jobId
    execFileSync('scancel', [job])
    expect((await host.runs.waitSettled(cancelled.id)).status.state).toBe('cancelled')
    expect((await runJson(ws, cancelled.id)).placements!.map((p) => p.state)).toEqual(['COMPLETED', 'CANCELLED'])

    expect((await host.runs.waitSettled(killed.id)).status.state).toBe('done')
    expect(await pretrainSteps(ws, killed.id)).toEqual([...Array(16).keys()])
    const placements = (await runJson(ws, killed.id)).placements!
    expect(placements.map((p) => [p.attempt, p.state, p.log])).toEqual([
      [1, 'FAILED', 'slurm/attempt-1.out'],
      [2, 'COMPLETED', 'slurm/attempt-2.out']
    ])
    const log = (await host.call('runs.get', { id: killed.id })).log.map((x) => x.message).join('\n')
    expect(log).toMatch(/stopped unexpectedly \(Slurm job \d+ ended FAILED, signal 9\)/)
    expect(log).toMatch(/Resubmitting from the newest checkpoint \(automatic resubmission 1 of 2\)/)
    expect(log).toMatch(/Resuming from checkpoint \d+ \(pretrain/)
  }, 120_000)

  it('a run whose node goes DOWN is resubmitted and finishes once the node is back', async () => {
    const { host, ws } = await newHost(SLURM)
    const run = await host.call('runs.create', { config: tiny(4, false), preset: null })
    await waitFor(async () => (await pretrainSteps(ws, run.id)).length >= 5, 'second epoch', 60_000)
    execFileSync('scontrol', ['update', `nodename=${node}`, 'state=down', 'reason=test'])
    await waitFor(async () => ((await runJson(ws, run.id)).placements ?? []).length === 2, 'the resubmission', 60_000)
    execFileSync('scontrol', ['update', `nodename=${node}`, 'state=resume'])
    expect((await host.runs.waitSettled(run.id)).status.state).toBe('done')
    const placements = (await runJson(ws, run.id)).placements!
    expect(placements.map((p) => p.state)).toEqual(['NODE_FAIL', 'COMPLETED'])
    expect(await pretrainSteps(ws, run.id)).toEqual([...Array(16).keys()])
  }, 120_000)

  it('a host killed with SIGKILL: the next host cancels its job, marks the run interrupted, and resumes it without duplicated steps', async () => {
    const ws = tmpDir('qt-ws-')
    await fs.writeFile(path.join(ws, 'executor.json'), JSON.stringify(SLURM))
    const { child, ids } = await otherProcess(ws, [tiny(6, false)])
    const id = ids[0]!
    await waitFor(async () => (await pretrainSteps(ws, id)).length >= 6, 'training on the cluster', 60_000)
    const job = (await runJson(ws, id)).placements![0]!.jobId
    child.kill('SIGKILL')
    const next = createHeadlessHost({ configDir: tmpDir('qt-cfg-'), defaultWorkspace: ws, runWorker: WORKER })
    hosts.push(next)
    const interrupted = await waitFor(async () => {
      const r = (await next.call('runs.list', {})).find((x) => x.id === id)!
      return r.status.state === 'interrupted' && r
    }, 'the run marked interrupted')
    expect(interrupted.status.error).toMatch(/while it was running\. Resume continues/)
    // The dead host's job is gone before the run is offered for resuming: never two writers.
    expect(execFileSync('squeue', ['-h', '-j', job, '-o', '%T'], { encoding: 'utf8' }).trim()).toBe('')
    await next.call('runs.resume', { id })
    expect((await next.runs.waitSettled(id)).status.state).toBe('done')
    expect(await pretrainSteps(ws, id)).toEqual([...Array(24).keys()])
    expect((await runJson(ws, id)).placements!.map((p) => [p.attempt, p.state])).toEqual([
      [1, null],
      [2, 'COMPLETED']
    ])
  }, 120_000)

  it('a bad partition fails the run naming it; without sbatch the executor says it is unavailable and how to fix it', async () => {
    const { host } = await newHost({ executor: 'slurm', slurm: { partition: 'no-such-partition', cpus: 1, mem: null } })
    const run = await host.call('runs.create', { config: tiny(1, false), preset: null })
    const failed = await host.runs.waitSettled(run.id)
    expect(failed.status.state).toBe('failed')
    expect(failed.status.error).toMatch(/Slurm refused the job \(sbatch: .*invalid partition.*\).*"no-such-partition"/i)

    const path0 = process.env.PATH
    process.env.PATH = '/nonexistent'
    try {
      const report = await makeExecutors(() => {
        throw new Error('unused')
      }, WORKER).describe(tmpDir('qt-ws-'))
      expect(report.slurm).toMatchObject({
        ok: false,
        detail: expect.stringMatching(/sbatch is not available/),
        fix: expect.stringMatching(/Install the Slurm client.*SLURM_CONF/)
      })
    } finally {
      process.env.PATH = path0
    }
  }, 60_000)
})
