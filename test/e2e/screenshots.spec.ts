// The README's screenshots, taken by the browser: a workspace with the built-in sample and an image
// folder registered, a real tiny run (for its embedding map) and finished runs with long curves
// written into it (synthetic-runs.ts); then Workspace, Datasets, a run's curves, Compare's overlaid
// curves and Maps, each at 1280 × 800. With QUARTERTURN_SCREENSHOTS=1 they overwrite
// docs/screenshot-*.png (what README.md shows); otherwise they go to the test's output folder, so
// a plain test run leaves the working tree alone.
import { test, expect, type Page, type TestInfo } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import { pngQuantize } from '@napi-rs/image'
import { mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { makeImageFolder } from '../helpers/datasets'
import { startServe, type RunningHost } from './web-host'
import { chartPoints, collectProblems } from './ui-helpers'
import { syntheticId, writeSyntheticRun } from './synthetic-runs'

test.describe.configure({ mode: 'serial' })

const TO_DOCS = process.env.QUARTERTURN_SCREENSHOTS === '1'

let host: RunningHost
let realRun = ''
const runs = [
  { id: syntheticId(1, 'RotNet lr 0.1'), name: 'RotNet, lr 0.1', method: 'rotnet' as const, floor: 0.22, decay: 700, linear: 0.62, knn: 0.55, seed: 11 },
  { id: syntheticId(2, 'RotNet lr 0.05'), name: 'RotNet, lr 0.05', method: 'rotnet' as const, floor: 0.3, decay: 1100, linear: 0.59, knn: 0.52, seed: 12 },
  { id: syntheticId(3, 'RFD'), name: 'RFD', method: 'rfd' as const, floor: 0.26, decay: 800, linear: 0.66, knn: 0.6, seed: 13 },
  { id: syntheticId(4, 'RFD seed 2'), name: 'RFD, seed 2', method: 'rfd' as const, floor: 0.27, decay: 850, linear: 0.65, knn: 0.58, seed: 14 },
  { id: syntheticId(5, 'RotNet no flips'), name: 'RotNet, no flips', method: 'rotnet' as const, floor: 0.4, decay: 600, linear: 0.54, knn: 0.47, seed: 15 }
]

test.beforeAll(async () => {
  test.setTimeout(180_000)
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-shots-'))
  const workspace = path.join(root, 'Quarterturn')
  const configDir = path.join(root, 'cfg')
  const env = { ...process.env, QUARTERTURN_WORKSPACE: workspace }
  const cli = (...args: string[]): string =>
    execFileSync(process.execPath, [path.resolve('bin/quarterturn.js'), ...args, '--config-dir', configDir], {
      env,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe']
    })
  cli('dataset', 'add', '--sample')
  const shapes = path.join(root, 'shapes')
  makeImageFolder(shapes, { circle: 24, square: 24, triangle: 24 })
  cli('dataset', 'add', shapes, '--name', 'Shapes')
  const config = path.join(root, 'tiny.json')
  writeFileSync(
    config,
    JSON.stringify({
      name: 'RotNet, tiny',
      seed: 1,
      backend: 'wasm',
      dataset: { kind: 'sample', perClass: 6, testPerClass: 20, size: 32 },
      backbone: { arch: 'alexnet32', width: 0.0625 },
      pretrain: { method: { method: 'rotnet' }, epochs: 3, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } },
      evaluation: { linear: { epochs: 2 }, knn: { k: 3 } }
    })
  )
  const out = cli('run', config, '--json')
  realRun = (JSON.parse(out.trim().split('\n').at(-1)!) as { id: string }).id
  for (const r of runs) writeSyntheticRun(workspace, { ...r, steps: 3000, stepsPerEpoch: 100, finetuneSteps: r.method === 'rfd' ? 400 : 0, probeEpochs: 12 })
  host = await startServe(configDir, workspace)
})
test.afterAll(async () => {
  await host?.stop()
})

async function shoot(page: Page, info: TestInfo, name: string): Promise<void> {
  // Nothing mid-transition: fonts loaded, the pointer's tooltip drawn.
  await page.evaluate(() => (globalThis as unknown as { document: { fonts: { ready: Promise<unknown> } } }).document.fonts.ready)
  await page.waitForTimeout(300)
  const png = await page.screenshot()
  if (!TO_DOCS) return writeFileSync(info.outputPath(`screenshot-${name}.png`), png)
  // A palette of 256 colours: a quarter of the bytes in the repository, no visible change.
  writeFileSync(path.resolve('docs', `screenshot-${name}.png`), await pngQuantize(png, { maxQuality: 90, speed: 3 }))
}

/** Light theme, curves smoothed as TensorBoard's default, for every page of this file. */
async function prepare(page: Page): Promise<void> {
  await page.addInitScript(() => {
    const ls = (globalThis as unknown as { localStorage: { getItem(k: string): string | null; setItem(k: string, v: string): void } }).localStorage
    if (ls.getItem('curves.smoothing') === null) ls.setItem('curves.smoothing', '0.6')
  })
}

test('screenshots of the main views: workspace, datasets, a run’s curves, compare, maps', async ({ page }, info) => {
  test.setTimeout(120_000)
  const problems = collectProblems(page)
  await prepare(page)

  await page.goto(host.url + '#/')
  await expect(page.getByRole('heading', { name: 'Workspace' })).toBeVisible()
  await expect(page.locator('table').first()).toContainText(/wasm/)
  await expect(page.locator('table').first()).toContainText(/yes|loads|ready|available/i, { timeout: 30_000 })
  await shoot(page, info, 'workspace')

  // Datasets: the list, then the built-in sample's page (layout, class balance, thumbnails).
  await page.getByTestId('nav-datasets').click()
  await expect(page.locator('[data-testid^="dataset-row-"]')).toHaveCount(2)
  await expect(page.locator('[data-testid^="dataset-row-"]').first()).toContainText('ready')
  await page.getByRole('link', { name: /Sample/ }).click()
  await expect(page.getByTestId('dataset-title')).toContainText('ready')
  await expect(page.getByTestId('class-balance')).toBeVisible()
  await expect(page.getByTestId('thumb').first().locator('img')).toBeVisible({ timeout: 15_000 })
  await shoot(page, info, 'datasets')

  // A run’s curves: pretraining (RFD logs four loss terms), smoothed, with the pointer on the loss.
  await page.goto(host.url + `#/runs/${runs[2]!.id}`)
  await expect(page.getByTestId('run-title')).toContainText('RFD')
  await page.getByTestId('stage-pretrain').click()
  await expect.poll(() => chartPoints(page, 'chart-loss')).toBe(4 * 3000)
  const loss = page.getByTestId('chart-loss').locator('canvas')
  const box = (await loss.boundingBox())!
  await page.mouse.move(box.x + box.width * 0.42, box.y + box.height / 2)
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-tooltip', /total loss/)
  await shoot(page, info, 'run')

  // Compare: the synthetic runs only (the tiny real one is for the map), curves in view.
  await page.goto(host.url + '#/compare')
  await expect(page.getByTestId('results-table').locator('tbody tr')).toHaveCount(runs.length + 1)
  await page.locator('details.picker > summary').click()
  await page.getByTestId(`pick-${realRun}`).uncheck()
  await page.locator('details.picker > summary').click()
  await expect(page.getByTestId('results-table').locator('tbody tr')).toHaveCount(runs.length)
  await page.getByTestId(`pin-${runs[1]!.id}`).click()
  const section = page.getByTestId('compare-curves-section')
  await section.scrollIntoViewIfNeeded()
  await expect.poll(() => chartPoints(page, 'compare-curves')).toBe(runs.length * 3000)
  // The section's heading just below the window's top edge.
  await section.evaluate((el) => {
    ;(el as unknown as { scrollIntoView(o: unknown): void }).scrollIntoView({ block: 'start' })
    ;(globalThis as unknown as { scrollBy(x: number, y: number): void }).scrollBy(0, -24)
  })
  const curves = (await page.getByTestId('compare-curves').locator('canvas').boundingBox())!
  await page.mouse.move(curves.x + curves.width * 0.3, curves.y + curves.height * 0.6)
  await expect(page.getByTestId('compare-curves')).toHaveAttribute('data-tooltip', /RFD, seed 2/)
  await shoot(page, info, 'compare')

  // Maps: a t-SNE of the real run's test images, a point hovered from the keyboard.
  await page.goto(host.url + `#/maps?run=${realRun}`)
  const panel = page.getByTestId('map-panel-left')
  await expect(panel).toHaveAttribute('data-run', realRun)
  await expect(panel.getByTestId('map-stored')).toContainText('none stored yet')
  const form = panel.getByTestId('map-form')
  if (!(await form.isVisible())) await panel.locator('.map-params > summary').click()
  await form.getByTestId('map-field-method').selectOption('tsne')
  await form.getByTestId('map-field-perplexity').fill('15')
  await form.getByTestId('map-compute').click()
  await expect(panel.getByTestId('map-facts')).toContainText('t-SNE', { timeout: 60_000 })
  // A point under the mouse (found from the keyboard, where its ring is drawn), its image shown.
  const canvas = panel.getByTestId('map-canvas')
  await canvas.focus()
  await page.keyboard.press(']')
  const ring = (await panel.locator('.map-ring').boundingBox())!
  await page.keyboard.press('Escape')
  await canvas.blur()
  await page.mouse.move(ring.x + ring.width / 2, ring.y + ring.height / 2)
  await expect(panel.getByTestId('map-tooltip')).toBeVisible()
  await expect
    .poll(() => panel.getByTestId('map-thumb').evaluate((img) => (img as unknown as { complete: boolean; naturalWidth: number }).naturalWidth))
    .toBeGreaterThan(0)
  await shoot(page, info, 'maps')
  expect(problems).toEqual([])
})
