// Damaged run folders: each is listed as damaged with what is wrong and what to do, in the
// host and in `quarterturn list`; the other runs load as before.
import { afterEach, describe, expect, it } from 'vitest'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { createHeadlessHost } from '../../../src-host/headless'
import { main } from '../../../src-host/cli'
import type { Host } from '../../../src-host/host'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'

const hosts: Host[] = []
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.shutdown()
  cleanupTmp()
})

function host(ws: string): Host {
  // No worker: runs are written but not trained, which is all these tests need.
  const h = createHeadlessHost({ configDir: tmpDir('qt-cfg-'), defaultWorkspace: ws })
  hosts.push(h)
  return h
}

describe('damaged run folders', () => {
  it('are listed as damaged with the reason and the fix, never hiding the good runs', async () => {
    const ws = tmpDir('qt-ws-')
    const a = host(ws)
    // A sample drawn in memory: the registered one would be drawn and indexed first, which these tests do not need.
    const good = await a.call('runs.create', {
      config: { name: 'good one', dataset: { kind: 'sample', perClass: 2, testPerClass: 1, size: 32 } },
      preset: null
    })
    await a.runs.waitSettled(good.id)
    const runs = path.join(ws, 'runs')
    const goodJson = JSON.parse(await fs.readFile(path.join(runs, good.id, 'run.json'), 'utf8'))
    const damage: Record<string, (dir: string) => Promise<void>> = {
      'no-pretrain': (d) => fs.writeFile(path.join(d, 'run.json'), JSON.stringify({ ...goodJson, config: { ...goodJson.config, pretrain: undefined } })),
      'numeric-name': (d) => fs.writeFile(path.join(d, 'run.json'), JSON.stringify({ ...goodJson, name: 42 })),
      'torn-json': (d) => fs.writeFile(path.join(d, 'run.json'), JSON.stringify(goodJson).slice(0, 50)),
      'bad-config': (d) =>
        fs.writeFile(
          path.join(d, 'run.json'),
          JSON.stringify({ ...goodJson, config: { ...goodJson.config, pretrain: { ...goodJson.config.pretrain, batchSize: 'many' } } })
        ),
      'no-status': (d) => fs.rm(path.join(d, 'status.json')),
      'bad-status': (d) => fs.writeFile(path.join(d, 'status.json'), '{"state":"exploded"}'),
      'no-run-json': (d) => fs.rm(path.join(d, 'run.json'))
    }
    for (const [id, hurt] of Object.entries(damage)) {
      await fs.cp(path.join(runs, good.id), path.join(runs, id), { recursive: true })
      await hurt(path.join(runs, id))
    }
    // Not a run folder at all: ignored, not listed.
    await fs.mkdir(path.join(runs, 'notes'))

    const b = host(ws)
    const list = await b.call('runs.list', {})
    const byId = new Map(list.map((r) => [r.id, r]))
    expect(byId.get(good.id)).toMatchObject({ name: 'good one', method: 'rotnet' })
    expect(byId.has('notes')).toBe(false)
    const reasons: Record<string, RegExp> = {
      'no-pretrain': /config has no "pretrain"/,
      'numeric-name': /name: .*string/,
      'torn-json': /run\.json is damaged/,
      'bad-config': /pretrain\.batchSize/,
      'no-status': /status\.json is missing/,
      'bad-status': /status\.json is damaged \(state: Invalid option/,
      'no-run-json': /run\.json is missing/
    }
    for (const [id, why] of Object.entries(reasons)) {
      const r = byId.get(id)!
      expect(r.status.state, id).toBe('damaged')
      expect(r.status.error, id).toMatch(why)
      expect(r.status.error, id).toMatch(/delete the folder|restore|permissions/i)
      const detail = await b.dispatch('runs.get', { id })
      expect(detail.ok).toBe(false)
      if (!detail.ok) expect(detail.error.message).toMatch(new RegExp(`Run ${id} is damaged`))
      expect((await b.dispatch('runs.resume', { id })).ok).toBe(false)
    }
    // The name from the file where it is one, else the folder's.
    expect(byId.get('no-pretrain')!.name).toBe('good one')
    expect(byId.get('numeric-name')!.name).toBe('numeric-name')
    expect(byId.get('torn-json')!.name).toBe('torn-json')

    const out: string[] = []
    const before = process.env.QUARTERTURN_WORKSPACE
    process.env.QUARTERTURN_WORKSPACE = ws
    const code = await main(['list', '--config-dir', tmpDir('qt-cfg-')], { out: (l) => out.push(l), err: (l) => out.push(l) }).finally(() => {
      if (before === undefined) delete process.env.QUARTERTURN_WORKSPACE
      else process.env.QUARTERTURN_WORKSPACE = before
    })
    expect(code).toBe(0)
    const text = out.join('\n')
    expect(text).toMatch(new RegExp(`^${good.id} +failed +rotnet `, 'm'))
    // A damaged run's row, then what is wrong and what to do on the line below it.
    expect(text).toMatch(
      /^no-pretrain +damaged +unknown .*good one\n {2}run\.json's config has no "pretrain"\. Restore the file from a backup, or delete the folder/m
    )
  })
})
