// "Repeat with N seeds" from the CLI, in-process: `run --seeds` makes a group of runs (same
// config, each its own seed, a shared group id in run.json), prints mean ± sd, and `export` of
// the group shows one row with mean ± sd and its seeds; `show` gives every accuracy its n and
// 95 % Wilson interval.
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parseSeeds } from '../../../src-shared/seeds'
import { mean, sampleSd } from '../../../src-shared/stats'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { runCli } from '../../helpers/cli'

afterEach(cleanupTmp)

const run = runCli

/** One CSV line's cells (quoted cells here hold no quotes or line breaks). */
const csvRow = (line: string): string[] => [...line.matchAll(/("[^"]*"|[^,]*)(?:,|$)/g)].map((m) => m[1]!.replace(/^"|"$/g, '')).slice(0, -1)

describe('parseSeeds', () => {
  it('reads a list or a count, and says what is wrong otherwise', () => {
    expect(parseSeeds('0,1,2')).toEqual({ seeds: [0, 1, 2] })
    expect(parseSeeds(' 7 3 ')).toEqual({ seeds: [7, 3] })
    expect(parseSeeds('3')).toEqual({ seeds: [0, 1, 2] })
    expect(parseSeeds('1')).toMatchObject({ error: expect.stringMatching(/count from 2/) })
    expect(parseSeeds('1,1')).toMatchObject({ error: expect.stringMatching(/1 appears twice/) })
    expect(parseSeeds('a,b')).toMatchObject({ error: expect.stringMatching(/neither a count nor a list/) })
    expect(parseSeeds('')).toMatchObject({ error: expect.stringMatching(/give a count/) })
  })
})

describe('quarterturn run --seeds', () => {
  it('creates a group of runs, one per seed, and exports the group as mean ± sd', async () => {
    const ws = tmpDir('qt-seeds-ws-')
    const configDir = tmpDir('qt-seeds-cfg-')
    const file = `${tmpDir()}/tiny.json`
    writeFileSync(
      file,
      JSON.stringify({
        name: 'seeded',
        backend: 'wasm',
        dataset: { kind: 'sample', perClass: 3, testPerClass: 2, size: 32 },
        backbone: { arch: 'alexnet32', width: 0.0625 },
        pretrain: { enabled: false, method: { method: 'rotnet' } },
        evaluation: { linear: { epochs: 2 }, knn: { k: 3 } }
      })
    )
    process.env.QUARTERTURN_WORKSPACE = ws
    try {
      expect(await run(['run', file, '--seeds', '1,1', '--config-dir', configDir])).toMatchObject({ code: 2, err: expect.stringMatching(/appears twice/) })

      const r = await run(['run', file, '--seeds', '0,1,2', '--json', '--config-dir', configDir])
      expect(r.code, r.err).toBe(0)
      const res = JSON.parse(r.out.trim().split('\n').at(-1)!) as {
        group: string
        runs: { id: string; seed: number; state: string; accuracies: Record<string, number> }[]
        accuracies: Record<string, { mean: number; sd: number; seeds: number }>
      }
      expect(res.group).toMatch(/^g-/)
      expect(res.runs.map((x) => [x.seed, x.state])).toEqual([
        [0, 'done'],
        [1, 'done'],
        [2, 'done']
      ])
      // run.json records the group beside the config; each config has its own seed.
      for (const x of res.runs) {
        const file = JSON.parse(readFileSync(path.join(ws, 'runs', x.id, 'run.json'), 'utf8')) as { group: string; seed: number; config: { seed: number } }
        expect(file.group).toBe(res.group)
        expect(file.config.seed).toBe(x.seed)
        expect(file.seed).toBe(x.seed)
      }
      const key = 'linear:sample (10 classes, 32px, seed 1)'
      const accs = res.runs.map((x) => x.accuracies[key]!)
      expect(res.accuracies[key]).toEqual({ mean: +mean(accs).toFixed(2), sd: +sampleSd(accs).toFixed(2), seeds: 3 })

      const md = await run(['export', res.group, '--config-dir', configDir])
      expect(md.code).toBe(0)
      const row = md.out.split('\n').find((l) => l.startsWith('| seeded'))!
      expect(row).toContain('seeded (3 seeds)')
      const exact = res.runs.map((x) => x.accuracies[key]!)
      expect(row).toContain(`${mean(exact).toFixed(1)} ± ${sampleSd(exact).toFixed(1)}`)
      expect(md.out).toMatch(/standard deviation over the seeds/)

      const csv = await run(['export', res.group, '--format', 'csv', '--config-dir', configDir])
      const [head, line, extra] = csv.out.trim().split('\n')
      expect(extra).toBeUndefined()
      const cols = csvRow(head!)
      const cells = csvRow(line!)
      expect(cells[cols.indexOf('sample (10 classes, 32px, seed 1) linear seeds')]).toBe('3')
      expect(cells[cols.indexOf('sample (10 classes, 32px, seed 1) linear n')]).toBe('20')
      expect(Number(cells[cols.indexOf('sample (10 classes, 32px, seed 1) linear sd')])).toBeCloseTo(sampleSd(exact), 1)

      const show = await run(['show', res.runs[1]!.id, '--config-dir', configDir])
      expect(show.out).toContain(`group: ${res.group} (seed 1`)
      expect(show.out).toMatch(/linear .*% {2}95% CI \[\d+\.\d, \d+\.\d\] {2}n=20/)
    } finally {
      delete process.env.QUARTERTURN_WORKSPACE
    }
  }, 180_000)
})
