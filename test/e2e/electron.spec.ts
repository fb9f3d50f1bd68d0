// The same settings flow in the real Electron app. Electron's binary is downloaded on first use
// from a host some machines cannot reach; where it is missing this test is skipped, by name.
import { test, expect, _electron as electron } from '@playwright/test'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ELECTRON_SKIP_REASON, electronBinary } from './electron-binary'

const bin = electronBinary()
const SKIP_REASON = ELECTRON_SKIP_REASON
if (!bin) console.log(`Skipping the Electron app tests: ${SKIP_REASON}`)

test.describe('Electron app', () => {
  test.skip(!bin, SKIP_REASON)

  test('a setting saved in the app survives a restart', async () => {
    const userData = mkdtempSync(path.join(os.tmpdir(), 'qt-electron-'))
    const launch = () =>
      electron.launch({
        executablePath: bin!,
        args: [path.resolve('out/main/index.js'), `--user-data-dir=${userData}`, '--no-sandbox'],
        env: { ...process.env, QUARTERTURN_WORKSPACE: path.join(userData, 'ws') }
      })
    let app = await launch()
    let page = await app.firstWindow()
    expect(await app.evaluate(({ BrowserWindow }) => BrowserWindow.getAllWindows().length)).toBe(1)
    // No Node in the page: only the two bridge functions are exposed.
    const g = await page.evaluate(() => {
      const w = globalThis as unknown as Record<string, unknown>
      return { require: typeof w.require, process: typeof w.process, bridge: Object.keys((w.quarterturnBridge ?? {}) as object).sort() }
    })
    expect(g).toEqual({ require: 'undefined', process: 'undefined', bridge: ['invoke', 'subscribe'] })
    await page.getByTestId('nav-settings').click()
    await page.getByTestId('setting-theme').selectOption('dark')
    await page.getByTestId('settings-save').click()
    await expect(page.getByTestId('settings-status')).toHaveText('Saved.')
    await app.close()

    app = await launch()
    page = await app.firstWindow()
    await page.getByTestId('nav-settings').click()
    await expect(page.getByTestId('setting-theme')).toHaveValue('dark')
    await app.close()
  })
})
