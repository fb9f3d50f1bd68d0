// A window names the host it drives. In a browser tab of a real `quarterturn serve`, the header
// badge names that host and says when the connection is lost; in the Electron app started with
// `--connect URL` (skipped, by name, where Electron's binary is missing) the badge reads
// "remote: host:port", this machine's folder dialog is not offered, and the backends are labelled
// as the host's.
import { test, expect, _electron as electron } from '@playwright/test'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startServe } from './web-host'
import { ELECTRON_SKIP_REASON, electronBinary } from './electron-binary'

const tmp = (p: string): string => mkdtempSync(path.join(os.tmpdir(), p))

test('a browser tab names its host in the header, and says when the connection is lost', async ({ page }) => {
  const served = await startServe(tmp('qt-e2e-cfg-'), path.join(tmp('qt-e2e-ws-'), 'Quarterturn'))
  const label = new URL(served.base).host
  try {
    await page.goto(served.url)
    await expect(page.getByTestId('host-badge')).toHaveText(`host: ${label}`)
    await expect(page.getByTestId('backends-heading')).toHaveText(`Training backends on the host at ${label}`)
    await served.stop()
    await expect(page.getByTestId('host-badge')).toContainText('reconnecting…')
    await expect(page.getByTestId('connection')).toContainText(`Lost the connection to the host at ${label}`)
  } finally {
    await served.stop()
  }
})

test('the desktop app started with --connect drives the remote host and says so', async () => {
  const bin = electronBinary()
  test.skip(!bin, ELECTRON_SKIP_REASON)
  const workspace = path.join(tmp('qt-e2e-ws-'), 'Quarterturn')
  const served = await startServe(tmp('qt-e2e-cfg-'), workspace)
  const label = new URL(served.base).host
  const root = tmp('qt-electron-remote-')
  const app = await electron.launch({
    executablePath: bin!,
    args: [path.resolve('out/main/index.js'), `--user-data-dir=${path.join(root, 'user')}`, '--no-sandbox', '--connect', served.url],
    env: { ...process.env, QUARTERTURN_WORKSPACE: path.join(root, 'local-ws') }
  })
  try {
    const page = await app.firstWindow()
    await expect(page.getByTestId('host-badge')).toHaveText(`remote: ${label}`)
    await expect(page.getByTestId('backends-heading')).toHaveText(`Training backends on the host at ${label}`)
    await expect(page.getByRole('button', { name: 'Choose…' })).toHaveCount(0)
    // The workspace shown is the host's, not this machine's.
    await expect(page.getByTestId('workspace-path')).toHaveText(workspace)
  } finally {
    await app.close()
    await served.stop()
  }
})
