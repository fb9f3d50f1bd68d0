// Starts the built web host (`quarterturn serve`) as a real child process for browser tests.
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'

export interface RunningHost {
  url: string
  base: string
  proc: ChildProcess
  stop(): Promise<void>
}

/** `extra`: more `serve` options; a `--port` there replaces the default free port. */
export async function startServe(configDir: string, workspace: string, extra: string[] = []): Promise<RunningHost> {
  const port = extra.includes('--port') ? [] : ['--port', '0']
  const proc = spawn(process.execPath, [path.resolve('bin/quarterturn.js'), 'serve', ...port, '--config-dir', configDir, ...extra], {
    env: { ...process.env, QUARTERTURN_WORKSPACE: workspace },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`web host did not start:\n${output}`)), 15_000)
    const onData = (d: Buffer): void => {
      output += String(d)
      const m = /serving at (http:\/\/\S+)/.exec(output)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    }
    proc.stdout!.on('data', onData)
    proc.stderr!.on('data', onData)
    proc.once('exit', (code) => reject(new Error(`web host exited with ${code}:\n${output}`)))
  })
  return {
    url,
    base: url.replace(/\/\?token=.*$/, ''),
    proc,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null) return resolve()
        proc.once('exit', () => resolve())
        proc.kill('SIGTERM')
      })
  }
}
