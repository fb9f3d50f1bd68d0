// The web host's token survives a restart on the same workspace (open tabs reconnect with it),
// is kept readable by the user only, and `--new-token` replaces it (the old one is refused).
import { afterEach, describe, expect, it } from 'vitest'
import { spawn, type ChildProcess } from 'node:child_process'
import { promises as fs, writeFileSync } from 'node:fs'
import path from 'node:path'
import { workspaceToken } from '../../../src-host/web/token'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'

const children: ChildProcess[] = []
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL')
  cleanupTmp()
})

async function serve(configDir: string, workspace: string, staticDir: string, extra: string[] = []): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/helpers/cli-process.ts', 'serve', '--port', '0', '--config-dir', configDir, '--static', staticDir, ...extra],
    {
      env: { ...process.env, QUARTERTURN_WORKSPACE: workspace },
      stdio: ['ignore', 'pipe', 'pipe']
    }
  )
  children.push(child)
  let output = ''
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (d: Buffer): void => {
      output += String(d)
      const m = /serving at (http:\/\/\S+)/.exec(output)
      if (m) resolve(m[1]!)
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`serve exited (${code}):\n${output}`)))
  })
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
      })
  }
}

const tokenOf = (url: string): string => new URL(url).searchParams.get('token')!

describe('web host token', () => {
  it('is the same after a restart on the same workspace, 0600, and replaced by --new-token', async () => {
    const configDir = tmpDir('qt-cfg-')
    const workspace = path.join(tmpDir('qt-ws-'), 'Quarterturn')
    const staticDir = tmpDir('qt-static-')
    writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>t</title>')

    const first = await serve(configDir, workspace, staticDir)
    const token = tokenOf(first.url)
    expect((await fetch(first.url)).status).toBe(200)
    await first.stop()

    const again = await serve(configDir, workspace, staticDir)
    expect(tokenOf(again.url)).toBe(token)
    // A tab holding the URL it was opened with is let in by the restarted host.
    const base = again.url.replace(/\?.*$/, '')
    expect((await fetch(`${base}?token=${token}`)).status).toBe(200)
    const file = path.join(configDir, 'web-tokens.json')
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600)
    await again.stop()

    const rotated = await serve(configDir, workspace, staticDir, ['--new-token'])
    expect(tokenOf(rotated.url)).not.toBe(token)
    const rotatedBase = rotated.url.replace(/\?.*$/, '')
    expect((await fetch(`${rotatedBase}?token=${token}`)).status).toBe(401)
    expect((await fetch(rotated.url)).status).toBe(200)
    await rotated.stop()
  }, 60_000)

  it('keeps one token per workspace', async () => {
    const configDir = tmpDir('qt-cfg-')
    const a = await workspaceToken(configDir, '/data/a')
    const b = await workspaceToken(configDir, '/data/b')
    expect(a.created && b.created).toBe(true)
    expect(a.token).not.toBe(b.token)
    expect((await workspaceToken(configDir, '/data/a/')).token).toBe(a.token)
    expect((await workspaceToken(configDir, '/data/b')).created).toBe(false)
  })
})
