// The researcher's flows (flows.ts) in the real Electron app: the same form, run, charts,
// previews, comparison and dataset steps as in the browser, over the preload bridge instead of
// the WebSocket. Electron's binary is downloaded on first use from a host some machines cannot
// reach; where it is missing these tests are skipped, by name (as in electron.spec.ts).
import { test, expect, _electron as electron, type ElectronApplication, type Page } from '@playwright/test'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { ELECTRON_SKIP_REASON, electronBinary } from './electron-binary'
import { addFolder, compare, launchWatchPauseResume, makeShapes, runDetail, runFromTemplate, type Go } from './flows'
import { collectProblems } from './ui-helpers'

const bin = electronBinary()
const SKIP_REASON = ELECTRON_SKIP_REASON

test.describe('Electron app: the researcher flows', () => {
  test.skip(!bin, SKIP_REASON)
  test.describe.configure({ mode: 'serial' })

  let app: ElectronApplication
  let page: Page
  let go: Go
  let problems: string[] = []
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-electron-ui-'))

  test.beforeAll(async () => {
    app = await electron.launch({
      executablePath: bin!,
      args: [path.resolve('out/main/index.js'), `--user-data-dir=${path.join(root, 'user')}`, '--no-sandbox'],
      env: { ...process.env, QUARTERTURN_WORKSPACE: path.join(root, 'ws') }
    })
    page = await app.firstWindow()
    await page.setViewportSize({ width: 1280, height: 800 })
    problems = collectProblems(page)
    // The app is a file:// page: routes are its hash.
    go = async (hash) => {
      await page.evaluate((h) => ((globalThis as unknown as { location: { hash: string } }).location.hash = h), hash)
    }
  })
  test.afterAll(async () => {
    await app?.close()
  })

  let runA = ''
  test('new run, live charts, pause and resume', async ({ playwright: _pw }, info) => {
    test.setTimeout(150_000)
    runA = await launchWatchPauseResume(page, go, info, 'app A')
  })

  test('run detail and rotation previews', async ({ playwright: _pw }, info) => {
    test.setTimeout(60_000)
    await runDetail(page, go, info, runA, 'app A')
  })

  test('compare against a pinned baseline, CSV as shown', async ({ playwright: _pw }, info) => {
    test.setTimeout(90_000)
    const runB = await runFromTemplate(page, go, runA, 'app A', 'app B')
    // Electron asks where to save a download: the exported text is checked instead.
    await compare(page, go, info, runA, 'app A', runB, false)
  })

  test('add a folder with a corrupt file', async ({ playwright: _pw }, info) => {
    test.setTimeout(90_000)
    await addFolder(page, go, info, makeShapes(root), 'shapes', 'square/broken.png')
    expect(problems).toEqual([])
  })
})
