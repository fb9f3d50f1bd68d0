// `quarterturn serve` from source in a child process on a fresh workspace, for tests of clients
// of a remote host (the CLI's --host, the app's remote windows): its URL, token and a way to stop
// (SIGTERM) or kill (SIGKILL) it.
import { spawn, type ChildProcess } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { vi } from 'vitest'
import { cleanupTmp, tmpDir } from './tmp'

export interface ServeProcess {
  /** The URL serve printed, token included. */
  url: string
  /** http://127.0.0.1:PORT, no token. */
  base: string
  token: string
  workspace: string
  child: ChildProcess
  stop(signal?: NodeJS.Signals): Promise<void>
}

const started: ChildProcess[] = []

/** Kill every serve started here (afterEach). */
export function killServes(): void {
  for (const c of started.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
}

/** `again`: the config folder, workspace and port of an earlier serve, so the same host (same token) comes back. */
export async function startServeProcess(again?: {
  configDir: string
  workspace: string
  port: number
}): Promise<ServeProcess & { configDir: string; port: number }> {
  const configDir = again?.configDir ?? tmpDir('qt-cfg-')
  const workspace = again?.workspace ?? path.join(tmpDir('qt-ws-'), 'Quarterturn')
  const staticDir = tmpDir('qt-static-')
  writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>')
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/cli-process.ts', 'serve', '--port', String(again?.port ?? 0), '--config-dir', configDir, '--static', staticDir],
    { env: { ...process.env, QUARTERTURN_WORKSPACE: workspace, QUARTERTURN_HOST: '', QUARTERTURN_TOKEN: '' }, stdio: ['ignore', 'pipe', 'pipe'] }
  )
  started.push(child)
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${output}`)), 30_000)
    const onData = (d: Buffer): void => {
      output += String(d)
      const m = /serving at (http:\/\/\S+)/.exec(output)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`serve exited (${code}):\n${output}`)))
  })
  const u = new URL(url)
  return {
    url,
    base: `${u.protocol}//${u.host}`,
    token: u.searchParams.get('token')!,
    workspace,
    configDir,
    port: Number(u.port),
    child,
    stop: (signal = 'SIGTERM') =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill(signal)
      })
  }
}

/**
 * A serve process to drive from this process, which itself gets an empty workspace and config
 * folder of its own (the remote commands must leave them empty) and no QUARTERTURN_HOST/TOKEN from
 * the environment. Undo with `stopRemoteServe` (afterEach).
 */
export async function startRemoteServe(): Promise<{ host: ServeProcess; here: string }> {
  const here = path.join(tmpDir('qt-here-'), 'Quarterturn')
  vi.stubEnv('QUARTERTURN_WORKSPACE', here)
  vi.stubEnv('QUARTERTURN_CONFIG_DIR', tmpDir('qt-here-cfg-'))
  vi.stubEnv('QUARTERTURN_HOST', '')
  vi.stubEnv('QUARTERTURN_TOKEN', '')
  return { host: await startServeProcess(), here }
}

export function stopRemoteServe(): void {
  vi.unstubAllEnvs()
  killServes()
  cleanupTmp()
}
