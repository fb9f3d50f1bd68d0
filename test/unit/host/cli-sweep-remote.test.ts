// `quarterturn sweep --host URL`: a sweep sent to a real `quarterturn serve` in a child process
// lands in the host's workspace, queued there (the host's queue trains it, whatever executor it
// uses); without --wait the command returns once the runs exist, with --wait it waits for them and
// prints the per-point table; nothing is written to this machine's workspace.
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { runCli } from '../../helpers/cli'
import { tinyRun, waitFor } from '../../helpers/processes'
import { startRemoteServe, stopRemoteServe, type ServeProcess } from '../../helpers/serve-process'
import { tmpDir } from '../../helpers/tmp'

let host: ServeProcess
let here: string

// This machine's own workspace (`here`) must stay empty, whatever the remote commands do.
beforeEach(async () => {
  ;({ host, here } = await startRemoteServe())
})
afterEach(stopRemoteServe)

const remote = (...argv: string[]): ReturnType<typeof runCli> => runCli(['--host', host.base, '--token', host.token, ...argv])

describe('quarterturn sweep --host', () => {
  it('queues the grid on the host and returns, or waits for it with --wait', async () => {
    const file = path.join(tmpDir('qt-conf-'), 'sweep.json')
    writeFileSync(file, JSON.stringify(tinyRun('remote-sweep', 1)))

    const queued = await remote('sweep', file, '--set', 'evaluation.knn.k=3,5', '--json')
    expect(queued.code, queued.err).toBe(0)
    const made = JSON.parse(queued.out) as { sweep: string; runs: { id: string }[] }
    expect(made.runs).toHaveLength(2)
    for (const r of made.runs) expect(existsSync(path.join(host.workspace, 'runs', r.id, 'run.json'))).toBe(true)
    expect(existsSync(path.join(here, 'runs'))).toBe(false)
    // The host trains them on its own, after the command has gone.
    await waitFor(async () => {
      const l = JSON.parse((await remote('list', '--json')).out) as { id: string; status: { state: string } }[]
      return made.runs.every((r) => l.find((x) => x.id === r.id)?.status.state === 'done')
    }, "the host's sweep runs to finish")
    const k = made.runs.map(
      (r) =>
        (JSON.parse(readFileSync(path.join(host.workspace, 'runs', r.id, 'run.json'), 'utf8')) as { config: { evaluation: { knn: { k: number } } } }).config
          .evaluation.knn.k
    )
    expect(k).toEqual([3, 5])

    const waited = await remote('sweep', file, '--set', 'pretrain.schedule.lr=0.05,0.1', '--wait')
    expect(waited.code, waited.err).toBe(0)
    expect(waited.err).toContain(`queued on ${host.base}`)
    const lines = waited.out.split('\n')
    const head = lines.findIndex((l) => l.startsWith('sweep s-'))
    expect(lines[head + 1]).toMatch(/^ {2}lr +runs +sample linear % +sample kNN %$/)
    expect(lines[head + 3]).toMatch(/^ {2}0\.05 +1\/1 +\d+\.\d\d +\d+\.\d\d$/)
    expect(lines[head + 4]).toMatch(/^ {2}0\.1 +1\/1 +\d+\.\d\d +\d+\.\d\d$/)
    expect(existsSync(path.join(here, 'runs'))).toBe(false)
  }, 180_000)
})
