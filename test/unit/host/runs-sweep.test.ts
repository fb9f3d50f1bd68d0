// Grid sweeps through the host and the CLI, with the real worker process on tiny generated data:
// runs.createSweep writes one run folder per grid point (its own config and config hash, the
// sweep's id in run.json) and queues them all; a bad value anywhere creates nothing; and
// `quarterturn sweep --set ... --set seed=...` trains the grid and prints one row per point with
// the mean ± sd of its seeds.
import { readFileSync, readdirSync, existsSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createHeadlessHost } from '../../../src-host/headless'
import type { Host } from '../../../src-host/host'
import { mean, sampleSd } from '../../../src-shared/stats'
import { sweepTable } from '../../../src-shared/sweep'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { runCli } from '../../helpers/cli'

const WORKER = { entry: path.resolve('src-engine/run-worker.ts'), execArgv: ['--import', 'tsx'] }
const hosts: Host[] = []
afterEach(async () => {
  for (const h of hosts.splice(0)) await h.shutdown()
  cleanupTmp()
})

/** A tiny run: 40 images of 32 px, a 1/16-width AlexNet, one epoch of RotNet, a short linear probe. */
const tiny = {
  name: 'tiny-sweep',
  seed: 3,
  backend: 'wasm',
  dataset: { kind: 'sample', perClass: 4, testPerClass: 2, size: 32, seed: 2 },
  backbone: { arch: 'alexnet32', width: 0.0625 },
  pretrain: { method: { method: 'rotnet' }, epochs: 1, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } },
  evaluation: { linear: { epochs: 1, batchSize: 16 }, knn: { k: 5 } }
}

/** The run folders of a workspace (not its queue file). */
const runDirs = (ws: string): string[] =>
  existsSync(path.join(ws, 'runs'))
    ? readdirSync(path.join(ws, 'runs'), { withFileTypes: true })
        .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
        .map((d) => d.name)
    : []

describe('runs.createSweep', () => {
  it('creates one queued run per grid point of a 2 × 2 sweep, each its own folder and config, sharing the sweep id', async () => {
    const ws = tmpDir('qt-sweep-ws-')
    const host = createHeadlessHost({ configDir: tmpDir('qt-sweep-cfg-'), defaultWorkspace: ws, runWorker: WORKER })
    hosts.push(host)

    // A bad value at one point: nothing is created, and the message names the point and the field.
    await expect(
      host.call('runs.createSweep', {
        config: tiny,
        preset: null,
        axes: [
          { path: 'pretrain.schedule.lr', values: [0.05, 0.1] },
          { path: 'evaluation.knn.k', values: [3, 0] }
        ],
        seeds: null
      })
    ).rejects.toThrow(/grid point 2 of 4 \(pretrain\.schedule\.lr=0\.05, evaluation\.knn\.k=0\): evaluation\.knn\.k:/)
    expect(runDirs(ws)).toEqual([])

    const runs = await host.call('runs.createSweep', {
      config: tiny,
      preset: null,
      axes: [
        { path: 'pretrain.schedule.lr', values: [0.05, 0.1] },
        { path: 'evaluation.knn.k', values: [3, 5] }
      ],
      seeds: null
    })
    expect(runs).toHaveLength(4)
    expect(runDirs(ws).sort()).toEqual(runs.map((r) => r.id).sort())
    const sweepId = runs[0]!.sweep!.id
    expect(sweepId).toMatch(/^s-/)
    const files = runs.map(
      (r) =>
        JSON.parse(readFileSync(path.join(ws, 'runs', r.id, 'run.json'), 'utf8')) as {
          configHash: string
          seed: number
          group?: string
          sweep: { id: string; label: string; index: number; points: number; point: { path: string; value: number }[] }
          config: { seed: number; pretrain: { schedule: { lr: number } }; evaluation: { knn: { k: number } } }
        }
    )
    expect(files.map((f) => [f.sweep.index, f.config.pretrain.schedule.lr, f.config.evaluation.knn.k])).toEqual([
      [1, 0.05, 3],
      [2, 0.05, 5],
      [3, 0.1, 3],
      [4, 0.1, 5]
    ])
    for (const f of files) {
      expect(f.sweep).toMatchObject({ id: sweepId, points: 4, label: 'pretrain.schedule.lr ∈ {0.05, 0.1} × evaluation.knn.k ∈ {3, 5}' })
      expect(f.sweep.point.map((p) => p.value)).toEqual([f.config.pretrain.schedule.lr, f.config.evaluation.knn.k])
      expect(f.seed).toBe(3)
      expect(f.config.seed).toBe(3)
      // One run per point: no seed group to fold.
      expect(f.group).toBeUndefined()
    }
    expect(new Set(files.map((f) => f.configHash)).size).toBe(4)
    // Each run's config is what a single run of it would have been: the same hash as runs.create's.
    const single = await host.call('runs.create', { config: { ...tiny, evaluation: { ...tiny.evaluation, knn: { k: 5 } } }, preset: null })
    expect(single.configHash).toBe(files[1]!.configHash)
    await host.call('runs.cancel', { id: single.id })

    // The queue trains them; the sweep's table fills in to one finished row per point.
    for (const r of runs) expect((await host.runs.waitSettled(r.id)).status.state).toBe('done')
    const table = sweepTable(await host.call('runs.list', {}), sweepId)!
    expect(table.rows.map((r) => [r.index, r.done, r.runs])).toEqual([
      [1, 1, 1],
      [2, 1, 1],
      [3, 1, 1],
      [4, 1, 1]
    ])
    expect(table.columns.map((c) => c.protocol).sort()).toEqual(['knn', 'linear'])
    for (const row of table.rows) for (const c of table.columns) expect(row.cells[c.key]).toMatchObject({ n: 1, sd: 0 })
  }, 240_000)
})

describe('quarterturn sweep', () => {
  it('trains a grid crossed with seeds and prints one row per point with the mean ± sd of its seeds', async () => {
    const ws = tmpDir('qt-sweep-cli-ws-')
    const configDir = tmpDir('qt-sweep-cli-cfg-')
    const file = path.join(tmpDir(), 'tiny.json')
    writeFileSync(file, JSON.stringify({ ...tiny, pretrain: { ...tiny.pretrain, enabled: false } }))
    process.env.QUARTERTURN_WORKSPACE = ws
    try {
      const bad = await runCli(['sweep', file, '--set', 'evaluation.knn.k=3,-2', '--config-dir', configDir])
      expect(bad.code).toBe(2)
      expect(bad.err).toMatch(/grid point 2 of 2 \(evaluation\.knn\.k=-2\): evaluation\.knn\.k:/)
      expect((await runCli(['sweep', file, '--set', 'evaluation.knn.kk=3', '--config-dir', configDir])).err).toMatch(
        /evaluation\.knn\.kk is not a setting of this config; did you mean evaluation\.knn\.k\?/
      )
      expect((await runCli(['sweep', file, '--config-dir', configDir])).err).toMatch(/give --set PATH=V1,V2/)
      expect(runDirs(ws)).toEqual([])

      const r = await runCli(['sweep', file, '--set', 'evaluation.knn.k=3,5', '--set', 'seed=0,1', '--json', '--config-dir', configDir])
      expect(r.code, r.err).toBe(0)
      const res = JSON.parse(r.out.trim().split('\n').at(-1)!) as {
        sweep: string
        label: string
        runs: { id: string; seed: number; state: string; point: { path: string; value: number }[] }[]
        table: { rows: { point: { value: number }[]; done: number; runs: number; cells: Record<string, { mean: number; sd: number; n: number }> }[] }
      }
      expect(res.label).toBe('evaluation.knn.k ∈ {3, 5} × seeds 0, 1')
      expect(res.runs.map((x) => [x.point[0]!.value, x.seed, x.state])).toEqual([
        [3, 0, 'done'],
        [3, 1, 'done'],
        [5, 0, 'done'],
        [5, 1, 'done']
      ])
      expect(runDirs(ws)).toHaveLength(4)
      // A point's seeds share a group; the table's cell is their mean ± sd.
      const groups = res.runs.map((x) => (JSON.parse(readFileSync(path.join(ws, 'runs', x.id, 'run.json'), 'utf8')) as { group: string }).group)
      expect(groups[0]).toBe(groups[1])
      expect(groups[2]).toBe(groups[3])
      expect(groups[0]).not.toBe(groups[2])
      const key = 'knn:sample (10 classes, 32px, seed 2)'
      for (const [i, row] of res.table.rows.entries()) {
        expect(row).toMatchObject({ point: [{ value: [3, 5][i] }], done: 2, runs: 2 })
        const accs = []
        for (const x of res.runs.slice(2 * i, 2 * i + 2)) {
          const d = await runCli(['show', x.id, '--json', '--config-dir', configDir])
          const detail = JSON.parse(d.out) as { evaluations: { id: string; accuracy: number }[] }
          accs.push(detail.evaluations.find((e) => e.id === key)!.accuracy * 100)
        }
        expect(row.cells[key]!.mean).toBeCloseTo(mean(accs), 10)
        expect(row.cells[key]!.sd).toBeCloseTo(sampleSd(accs), 10)
      }

      const shown = await runCli(['show', res.runs[2]!.id, '--config-dir', configDir])
      expect(shown.out).toContain(`sweep: ${res.sweep}, point 2 of 2: evaluation.knn.k=5 (evaluation.knn.k ∈ {3, 5} × seeds 0, 1;`)

      // export takes the sweep's id: one row per point, its seeds folded into mean ± sd.
      const md = await runCli(['export', res.sweep, '--config-dir', configDir])
      expect(md.code, md.err).toBe(0)
      expect(
        md.out.split('\n').filter((l) => l.startsWith('| ') && /tiny-sweep k=(3|5) \(2 seeds\)/.test(l)),
        md.out
      ).toHaveLength(2)

      // The text form: one line per point with its values, runs done and the mean ± sd.
      const text = await runCli(['sweep', file, '--set', 'evaluation.knn.k=3', '--seeds', '0,1', '--config-dir', configDir])
      expect(text.code, text.err).toBe(0)
      const lines = text.out.split('\n')
      const head = lines.findIndex((l) => l.startsWith('sweep s-'))
      expect(lines[head]).toContain('evaluation.knn.k ∈ {3} × seeds 0, 1')
      expect(lines[head + 1]).toMatch(/^ {2}k +runs +sample linear % +sample kNN %$/)
      expect(lines[head + 3]).toMatch(/^ {2}3 +2\/2 +\d+\.\d\d ± \d+\.\d\d/)
    } finally {
      delete process.env.QUARTERTURN_WORKSPACE
    }
  }, 300_000)
})
