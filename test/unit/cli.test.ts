// The CLI's commands, run in-process with captured output.
import { afterEach, describe, expect, it } from 'vitest'
import { main } from '../../src-host/cli'
import { APP_VERSION } from '../../src-host/headless'
import { cleanupTmp, tmpDir } from '../helpers/tmp'

afterEach(cleanupTmp)

async function run(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = []
  const err: string[] = []
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) })
  return { code, out: out.join('\n'), err: err.join('\n') }
}

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
    const order = ['tensorflow-gpu', 'tensorflow ', 'wasm', 'cpu'].map((n) => r.out.indexOf(n))
    expect(order.every((i) => i > 0)).toBe(true)
    expect([...order].sort((x, y) => x - y)).toEqual(order)
    expect(r.out).toMatch(/Workspace: .* GiB free/)
  })

  it('doctor --json is machine readable', async () => {
    const r = await run(['doctor', '--json', '--config-dir', tmpDir()])
    const j = JSON.parse(r.out)
    expect(j.version).toBe(APP_VERSION)
    expect(j.backends).toHaveLength(4)
  })

  it('serve validates --port', async () => {
    expect(await run(['serve', '--port', 'abc'])).toMatchObject({ code: 2, err: expect.stringMatching(/--port must be an integer/) })
  })
})
