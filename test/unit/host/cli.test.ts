// The CLI's commands, run in-process with captured output.
import { afterEach, describe, expect, it } from 'vitest'
import { APP_VERSION } from '../../../src-host/headless'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { runCli } from '../../helpers/cli'

afterEach(cleanupTmp)

const run = runCli

describe('quarterturn CLI', () => {
  it('--version prints the package version', async () => {
    expect(await run(['--version'])).toEqual({ code: 0, out: APP_VERSION, err: '' })
  })

  it('--help lists the commands', async () => {
    const r = await run(['--help'])
    expect(r.code).toBe(0)
    for (const c of ['doctor', 'serve', '--port', '--host']) expect(r.out).toContain(c)
  })

  it('rejects unknown commands and flags with exit code 2 and a pointer to --help', async () => {
    expect(await run(['train-everything'])).toMatchObject({ code: 2, err: expect.stringMatching(/unknown command.*--help/) })
    expect(await run(['doctor', '--frobnicate'])).toMatchObject({ code: 2, err: expect.stringMatching(/frobnicate/) })
  })

  it('doctor lists each backend best first, loaded or why not', async () => {
    const r = await run(['doctor', '--config-dir', tmpDir()])
    expect(r.code).toBe(0)
    // Row starts (name padded to its column): details may mention other backends by name.
    const order = ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'].map((n) => r.out.indexOf(` ${n.padEnd(15)} `))
    expect(order.every((i) => i > 0)).toBe(true)
    expect([...order].sort((x, y) => x - y)).toEqual(order)
    expect(r.out).toMatch(/Workspace: .* GiB free/)
  })

  it('doctor --json is machine readable', async () => {
    const r = await run(['doctor', '--json', '--config-dir', tmpDir()])
    const j = JSON.parse(r.out)
    expect(j.version).toBe(APP_VERSION)
    expect(j.backends).toHaveLength(5)
  })

  it('serve validates --port', async () => {
    expect(await run(['serve', '--port', 'abc'])).toMatchObject({ code: 2, err: expect.stringMatching(/--port must be an integer/) })
  })
})

describe('quarterturn run / list / show / export', () => {
  it('runs a config to the end and prints one JSON line with id, state, wall time and accuracies', async () => {
    const ws = tmpDir('qt-cli-ws-')
    const configDir = tmpDir('qt-cli-cfg-')
    const file = `${tmpDir()}/tiny.json`
    const { writeFileSync } = await import('node:fs')
    writeFileSync(
      file,
      JSON.stringify({
        name: 'cli tiny',
        backend: 'wasm',
        dataset: { kind: 'sample', perClass: 3, testPerClass: 2, size: 32 },
        backbone: { arch: 'alexnet32', width: 0.0625 },
        pretrain: { method: { method: 'rotnet' }, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } },
        evaluation: { linear: { epochs: 2 }, knn: { k: 3 } }
      })
    )
    process.env.QUARTERTURN_WORKSPACE = ws
    try {
      const r = await run(['run', file, '--epochs', '1', '--json', '--config-dir', configDir])
      expect(r.code).toBe(0)
      const last = JSON.parse(r.out.trim().split('\n').at(-1)!)
      expect(last).toMatchObject({ state: 'done', backend: 'wasm' })
      expect(last.wallSec).toBeGreaterThan(0)
      expect(Object.keys(last.accuracies).sort()).toEqual(['knn:sample (10 classes, 32px, seed 1)', 'linear:sample (10 classes, 32px, seed 1)'])

      const list = await run(['list', '--config-dir', configDir])
      expect(list.out).toContain(last.id)
      expect(list.out).toContain('done')
      const show = await run(['show', last.id, '--config-dir', configDir])
      expect(show.out).toMatch(/state: done/)
      const csv = await run(['export', last.id, '--format', 'csv', '--config-dir', configDir])
      expect(csv.code).toBe(0)
      const [head, row] = csv.out.trim().split('\n')
      expect(head).toMatch(/^run,method,/)
      expect(row).toContain('cli tiny')
      const linear = last.accuracies['linear:sample (10 classes, 32px, seed 1)']
      expect(row).toContain(linear.toFixed(2))
    } finally {
      delete process.env.QUARTERTURN_WORKSPACE
    }
  }, 120_000)

  it('run --estimate times the steps here and prints the time per stage without starting a run', async () => {
    const ws = tmpDir('qt-cli-ws-')
    const configDir = tmpDir('qt-cli-cfg-')
    const file = `${tmpDir()}/tiny.json`
    const { writeFileSync } = await import('node:fs')
    writeFileSync(
      file,
      JSON.stringify({
        backend: 'wasm',
        dataset: { kind: 'sample', perClass: 3, testPerClass: 2, size: 32 },
        backbone: { arch: 'alexnet32', width: 0.0625 },
        pretrain: { epochs: 4, batchSize: 10 }
      })
    )
    process.env.QUARTERTURN_WORKSPACE = ws
    try {
      const r = await run(['run', file, '--estimate', '--json', '--config-dir', configDir])
      expect(r.code).toBe(0)
      const e = JSON.parse(r.out.trim())
      expect(e.sizes).toEqual({ train: 30, test: 20, labelled: 6 })
      expect(e.stages.map((s: { id: string }) => s.id)).toEqual(['pretrain', 'evaluate'])
      expect(e.stages[0].steps).toBe(12)
      expect(e.total).toBeGreaterThan(0)
      expect(e.benchmark).toMatchObject({ backend: 'wasm', cached: false })
      const text = await run(['run', file, '--estimate', '--config-dir', configDir])
      expect(text.out).toMatch(/Timed on wasm .*stored from/)
      expect(text.out).toMatch(/pretrain\s+12 steps/)
      expect((await run(['list', '--config-dir', configDir])).out).not.toMatch(/\d{8}-\d{6}/)
      // A registered dataset that is not there: its size is unknown.
      const paper = await run(['run', '--preset', 'paper-rfd', '--estimate', '--config-dir', configDir])
      expect(paper.code).toBe(2)
      expect(paper.err).toMatch(/is not registered, so its size is unknown/)
    } finally {
      delete process.env.QUARTERTURN_WORKSPACE
    }
  }, 120_000)

  it('rejects an invalid config with exit code 2, naming the field', async () => {
    const file = `${tmpDir()}/bad.json`
    const { writeFileSync } = await import('node:fs')
    writeFileSync(file, JSON.stringify({ pretrain: { batchSize: 0 } }))
    process.env.QUARTERTURN_WORKSPACE = tmpDir('qt-cli-ws-')
    try {
      const r = await run(['run', file, '--config-dir', tmpDir()])
      expect(r.code).toBe(2)
      expect(r.err).toMatch(/pretrain\.batchSize: batch size must be at least 2/)
      expect((await run(['run', '--preset', 'nope', '--config-dir', tmpDir()])).code).toBe(2)
      expect((await run(['run', file, '--epochs', 'many', '--config-dir', tmpDir()])).code).toBe(2)
      // A negative number is judged by the option's own check, not refused as "ambiguous".
      expect(await run(['run', '--preset', 'fast-rotnet', '--epochs', '-1', '--config-dir', tmpDir()])).toMatchObject({
        code: 2,
        err: expect.stringMatching(/--epochs must be a whole number of at least 1, got "-1"/)
      })
    } finally {
      delete process.env.QUARTERTURN_WORKSPACE
    }
  })

  it('rejects a misspelt config key, naming it and the key it most likely meant', async () => {
    const file = `${tmpDir()}/typo.json`
    const { writeFileSync } = await import('node:fs')
    writeFileSync(file, JSON.stringify({ pretrain: { bachSize: 16, method: { method: 'rfd', nceKK: 64 } }, evaluaton: {} }))
    process.env.QUARTERTURN_WORKSPACE = tmpDir('qt-cli-ws-')
    try {
      const r = await run(['run', file, '--config-dir', tmpDir()])
      expect(r.code).toBe(2)
      expect(r.err).toMatch(/pretrain: unknown key "bachSize"; did you mean "batchSize"\?/)
      expect(r.err).toMatch(/pretrain\.method: unknown key "nceKK"; did you mean "nceK"\?/)
      expect(r.err).toMatch(/\(config\): unknown key "evaluaton"; did you mean "evaluation"\?/)
    } finally {
      delete process.env.QUARTERTURN_WORKSPACE
    }
  })

  it('lists presets one per line, name first', async () => {
    const r = await run(['run', '--list-presets'])
    const lines = r.out.trim().split('\n')
    expect(lines.length).toBeGreaterThanOrEqual(10)
    for (const l of lines) expect(l).toMatch(/^[a-z0-9-]+\t\S/)
    expect(lines.map((l) => l.split('\t')[0])).toContain('fast-rfd')
  })
})
