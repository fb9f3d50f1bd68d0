// The CLI driving a remote host (`--host URL --token T`, or QUARTERTURN_HOST/QUARTERTURN_TOKEN):
// a real `quarterturn serve` in a child process on its own workspace, the commands run here. Runs
// train on the host and land in its workspace, not this machine's; a wrong token is exit 2 with a
// clear message; the host going away under a waiting command is a clear error, exit 1.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { existsSync, readdirSync, writeFileSync } from 'node:fs'
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

function configFile(epochs: number, name: string): string {
  const file = path.join(tmpDir('qt-conf-'), `${name}.json`)
  writeFileSync(file, JSON.stringify(tinyRun(name, epochs)))
  return file
}

const remote = (...argv: string[]): ReturnType<typeof runCli> => runCli(['--host', host.base, '--token', host.token, ...argv])

describe('quarterturn --host', () => {
  it('runs, lists, shows and exports runs on the host, through the contract, leaving this machine untouched', async () => {
    const ran = await remote('run', configFile(1, 'remote-one'), '--json')
    expect(ran.err).toBe('')
    expect(ran.code).toBe(0)
    const result = JSON.parse(ran.out.split('\n').at(-1)!) as { id: string; state: string; accuracies: Record<string, number> }
    expect(result.state).toBe('done')
    expect(Object.keys(result.accuracies).length).toBeGreaterThan(0)
    // The run's folder is in the host's workspace; none was made here.
    expect(existsSync(path.join(host.workspace, 'runs', result.id, 'run.json'))).toBe(true)
    expect(existsSync(path.join(here, 'runs'))).toBe(false)

    // The whole URL serve printed works as --host alone, and so do the environment variables.
    const listed = await runCli(['--host', host.url, 'list'])
    expect(listed.code).toBe(0)
    expect(listed.out).toMatch(new RegExp(`${result.id}\\s+done\\s+rotnet`))
    vi.stubEnv('QUARTERTURN_HOST', host.base)
    vi.stubEnv('QUARTERTURN_TOKEN', host.token)
    const shown = await runCli(['show', result.id.slice(0, 12)])
    expect(shown.code).toBe(0)
    expect(shown.out).toContain(`${result.id}  remote-one`)
    expect(shown.out).toMatch(/state: done/)
    const csv = await runCli(['export', '--format', 'csv'])
    expect(csv.code).toBe(0)
    expect(csv.out).toContain('remote-one')
    const report = await runCli(['export', '--report'])
    expect(report.code).toBe(0)
    expect(report.out).toContain(`Report written on the host at ${host.base} to ${path.join(host.workspace, 'reports')}`)
    const doctor = await runCli(['doctor', '--json'])
    expect(doctor.code).toBe(0)
    expect(JSON.parse(doctor.out)).toMatchObject({ host: host.base, workspace: { path: host.workspace, ready: true } })
  }, 120_000)

  it('pauses, resumes and cancels a run on the host', async () => {
    const running = remote('run', configFile(400, 'remote-long'), '--json')
    const id = await waitFor(async () => {
      const l = await remote('list', '--json')
      const runs = JSON.parse(l.out) as { id: string; status: { state: string; step: number | null } }[]
      return runs.find((r) => r.status.state === 'running' && (r.status.step ?? 0) > 0)?.id
    }, 'the remote run to train')
    const paused = await remote('pause', id)
    expect(paused).toMatchObject({ code: 0 })
    // The waiting `run` sees the pause the host pushes, and ends with it.
    const ended = await running
    expect(ended.code).toBe(0)
    expect(JSON.parse(ended.out.split('\n').at(-1)!)).toMatchObject({ id, state: 'paused' })
    expect((await remote('show', id)).out).toMatch(/state: paused/)
    // `resume` waits for the run on the host; a pause from another command ends that wait too.
    const resumed = remote('resume', id)
    await waitFor(async () => /state: running/.test((await remote('show', id)).out), 'the resumed run to train')
    expect(await remote('pause', id)).toMatchObject({ code: 0 })
    expect(await resumed).toMatchObject({ code: 0, out: `${id}: paused` })
    const cancelled = await remote('cancel', id)
    expect(cancelled).toMatchObject({ code: 0, err: `${id}: cancelled` })
    expect((await remote('show', id)).out).toMatch(/state: cancelled/)
  }, 120_000)

  it('says a wrong token is wrong (exit 2), and an unreachable host unreachable (exit 1)', async () => {
    const wrong = await runCli(['--host', host.base, '--token', 'x'.repeat(43), 'list'])
    expect(wrong.code).toBe(2)
    expect(wrong.err).toMatch(new RegExp(`host at ${host.base} refused the access token`))
    expect(wrong.err).not.toContain(host.token)
    const none = await runCli(['--host', host.base, 'list'])
    expect(none).toMatchObject({ code: 2, err: expect.stringMatching(/No access token for 127\.0\.0\.1:\d+/) })
    await host.stop()
    const gone = await runCli(['--host', host.url, 'list'])
    expect(gone.code).toBe(1)
    expect(gone.err).toMatch(new RegExp(`Cannot reach the Quarterturn host at ${host.base} \\(ECONNREFUSED\\)`))
  }, 60_000)

  it('refuses what only makes sense on this machine', async () => {
    const dataset = await remote('dataset', 'add', '/tmp')
    expect(dataset.code).toBe(2)
    expect(dataset.err).toMatch(/datasets are registered on the host.*run `quarterturn dataset …` there/)
    const folder = await remote('run', '--preset', 'fast-rotnet', '--dataset', tmpDir())
    expect(folder.code).toBe(2)
    expect(folder.err).toMatch(/with --host, name a dataset registered on the host/)
    const serve = await runCli(['serve', '--host', host.url])
    expect(serve).toMatchObject({ code: 2, err: expect.stringMatching(/--host is the interface to bind/) })
    const token = await runCli(['list', '--token', 'abc'])
    expect(token).toMatchObject({ code: 2, err: expect.stringMatching(/--token goes with --host URL/) })
    expect(existsSync(path.join(here, 'runs')) ? readdirSync(path.join(here, 'runs')) : []).toEqual([])
  }, 60_000)

  it('ends a waiting command with a clear error when the host goes away under it', async () => {
    const running = remote('run', configFile(400, 'remote-gone'))
    await waitFor(async () => {
      const l = await remote('list', '--json')
      return (JSON.parse(l.out) as { status: { state: string } }[]).some((r) => r.status.state === 'running')
    }, 'the remote run to start')
    await host.stop('SIGKILL')
    const ended = await running
    expect(ended.code).toBe(1)
    expect(ended.err).toMatch(/Lost the connection to the Quarterturn host at http:\/\/127\.0\.0\.1:\d+ while run \S+ was going; it goes on there/)
  }, 120_000)
})
