// Tests of several processes on one workspace: another Quarterturn host in a child process
// (test/helpers/host-process.ts), a tiny run config for it, and polling until a condition holds.
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { tmpDir } from './tmp'

/** Child processes started here; kill them after each test (`killChildren`). */
const children: ChildProcess[] = []

export function killChildren(): void {
  for (const c of children.splice(0)) c.kill('SIGKILL')
}

/** A RotNet run on 40 sample images of 32 px with a 1/16-width AlexNet. */
export function tinyRun(name: string, epochs: number): Record<string, unknown> {
  return {
    name,
    seed: 3,
    backend: 'wasm',
    dataset: { kind: 'sample', perClass: 4, testPerClass: 2, size: 32, seed: 2 },
    backbone: { arch: 'alexnet32', width: 0.0625 },
    pretrain: { method: { method: 'rotnet' }, epochs, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } },
    evaluation: { linear: { epochs: 2, batchSize: 16 }, knn: { k: 5 } }
  }
}

export async function waitFor<T>(fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, ms = 90_000): Promise<T> {
  const t0 = Date.now()
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Another Quarterturn process on `ws`, training the first of `configs` and queueing the rest. */
export async function otherProcess(ws: string, configs: Record<string, unknown>[]): Promise<{ child: ChildProcess; ids: string[] }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/host-process.ts', ws, tmpDir('qt-cfg-'), ...configs.map((c) => JSON.stringify(c))], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  children.push(child)
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve)
    child.once('exit', (code) => reject(new Error(`host process exited (${code})`)))
  })
  return { child, ids: (JSON.parse(line) as { ids: string[] }).ids }
}
