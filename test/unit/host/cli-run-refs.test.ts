// The CLI names runs the way a person remembers them: `show`, `resume`, `cancel` and
// `export --baseline` take an id, a unique id prefix or a run's name; an ambiguous or unknown
// one is an error that lists the candidates. `list` has a header row and the main accuracies.
import { writeFileSync } from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { runCli } from '../../helpers/cli'

afterEach(cleanupTmp)

const run = runCli

describe('quarterturn run references', () => {
  it('resolves names and id prefixes, refuses ambiguous and unknown ones, and lists runs with headers', async () => {
    const ws = tmpDir('qt-refs-ws-')
    const configDir = tmpDir('qt-refs-cfg-')
    process.env.QUARTERTURN_WORKSPACE = ws
    const ids: string[] = []
    try {
      for (const name of ['alpha run', 'beta run']) {
        const file = `${tmpDir()}/${name.replace(' ', '-')}.json`
        writeFileSync(
          file,
          JSON.stringify({
            name,
            backend: 'wasm',
            dataset: { kind: 'sample', perClass: 3, testPerClass: 2, size: 32 },
            backbone: { arch: 'alexnet32', width: 0.0625 },
            pretrain: { enabled: false, method: { method: 'rotnet' } },
            evaluation: { linear: { epochs: 1 }, knn: { k: 3 } }
          })
        )
        const r = await run(['run', file, '--json', '--config-dir', configDir])
        expect(r.code, r.err).toBe(0)
        ids.push(JSON.parse(r.out.trim().split('\n').at(-1)!).id)
      }
      const [a, b] = ids as [string, string]

      const list = await run(['list', '--config-dir', configDir])
      const [head, ...rows] = list.out.split('\n')
      expect(head).toMatch(/^ID\s+STATE\s+METHOD\s+DATASET\s+TIME\s+LINEAR\s+KNN\s+NAME$/)
      expect(rows).toHaveLength(2)
      for (const row of rows) expect(row).toMatch(/done\s+random-init\s+sample seed 1\s+\d+s\s+.*\d+\.\d%\s+\d+\.\d%\s+(alpha|beta) run$/)

      // By name, and by the shortest prefix that tells the two apart.
      expect((await run(['show', 'beta run', '--config-dir', configDir])).out).toContain(`${b}  beta run`)
      let i = 0
      while (a[i] === b[i]) i++
      expect((await run(['show', a.slice(0, i + 1), '--config-dir', configDir])).out).toContain(`${a}  alpha run`)

      const ambiguous = await run(['show', a.slice(0, i), '--config-dir', configDir])
      expect(ambiguous.code).toBe(2)
      expect(ambiguous.err).toMatch(/names 2 runs/)
      expect(ambiguous.err).toContain(a)
      expect(ambiguous.err).toContain(b)

      const unknown = await run(['show', 'gamma', '--config-dir', configDir])
      expect(unknown.code).toBe(2)
      expect(unknown.err).toMatch(/no run "gamma"/)
      const near = await run(['cancel', 'alpha', '--config-dir', configDir])
      expect(near.code).toBe(2)
      expect(near.err).toMatch(/Runs whose name contains it:\n\s+\S+\s+alpha run/)
      expect((await run(['resume', 'zzz', '--config-dir', configDir])).err).toMatch(/quarterturn resume: no run "zzz"/)

      // An unknown baseline is an error, not silently ignored; a named one is marked and added.
      const badBase = await run(['export', a, '--baseline', 'nope', '--format', 'csv', '--config-dir', configDir])
      expect(badBase.code).toBe(2)
      expect(badBase.err).toMatch(/--baseline: no run "nope"/)
      const csv = await run(['export', 'alpha run', '--baseline', 'beta run', '--format', 'csv', '--config-dir', configDir])
      expect(csv.code, csv.err).toBe(0)
      expect(csv.out).toContain('beta run (baseline)')
      expect(csv.out).toContain('alpha run')
    } finally {
      delete process.env.QUARTERTURN_WORKSPACE
    }
  }, 180_000)
})
