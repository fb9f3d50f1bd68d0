// The confusion matrix in Debian's Chromium against the web host: column headers with long class
// names are set vertically and shown whole, not cut to the width of a cell; each has its name as a
// tooltip.
import { test, expect } from '@playwright/test'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startServe, type RunningHost } from './web-host'
import { syntheticId, writeSyntheticRun } from './synthetic-runs'

let host: RunningHost | null = null
test.afterEach(async () => {
  await host?.stop()
  host = null
})

const NAMES = ['airplane', 'automobile', 'aquarium_fish', 'sweet_pepper', 'lawn_mower', 'maple_tree', 'pickup_truck', 'willow_tree', 'butterfly', 'chimpanzee']

test('confusion matrix: long class names in the column headers are not cut', async ({ page }) => {
  const id = syntheticId(1, 'rotnet')
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-confusion-'))
  const workspace = path.join(root, 'ws')
  writeSyntheticRun(workspace, { id, name: 'rotnet', steps: 200, stepsPerEpoch: 20 })
  const results = path.join(workspace, 'runs', id, 'artifacts', 'results.json')
  const r = JSON.parse(readFileSync(results, 'utf8')) as { evaluations: { classNames: string[] }[] }
  for (const e of r.evaluations) e.classNames = NAMES
  writeFileSync(results, JSON.stringify(r))
  host = await startServe(path.join(root, 'cfg'), workspace)

  await page.goto(host.url + `#/runs/${id}`)
  await page.getByTestId('tab-evaluations').click()
  const cols = page.getByTestId('confusion').first().locator('thead th.cm-col')
  await expect(cols).toHaveCount(NAMES.length)
  for (const [j, name] of NAMES.entries()) {
    const th = cols.nth(j)
    await expect(th).toHaveAttribute('title', name)
    await expect(th).toHaveText(name)
    const cut = await th.evaluate((el) => {
      const inner = el.firstElementChild ?? el
      return inner.scrollWidth > inner.clientWidth + 1 || inner.scrollHeight > inner.clientHeight + 1
    })
    expect(cut, `${name} is cut`).toBe(false)
  }
})
