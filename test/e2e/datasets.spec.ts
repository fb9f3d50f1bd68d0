// Datasets in Debian's Chromium against the real web host: a generated image folder with a
// planted corrupt file is typed in (a relative path is refused first), inspected, added and
// indexed; its classes, class balance, thumbnails, image detail, problems and a labelled subset
// show in the detail view. The built-in sample (2 000 images) checks the virtual thumbnail grid.
import { test, expect } from '@playwright/test'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startServe, type RunningHost } from './web-host'
import { collectProblems } from './ui-helpers'
import { addFolder, makeShapes } from './flows'

let host: RunningHost | null = null
test.afterEach(async () => {
  await host?.stop()
  host = null
})

test('add a folder: layout, classes, the planted corrupt file, thumbnails, image detail, a subset', async ({ page }, info) => {
  test.setTimeout(90_000)
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-data-'))
  const folder = makeShapes(root)
  host = await startServe(mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-')), path.join(root, 'ws'))
  const problems = collectProblems(page)
  await addFolder(page, (hash) => page.goto(host!.url + hash).then(() => {}), info, folder, 'shapes', 'square/broken.png')
  expect(problems).toEqual([])
})

test('the thumbnail grid renders only the rows in view and reaches the last image', async ({ page }, info) => {
  test.setTimeout(90_000)
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-data-'))
  host = await startServe(mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-')), path.join(root, 'ws'))
  const problems = collectProblems(page)
  await page.goto(host.url + '#/datasets')
  // Indexing shows its progress and can be cancelled; re-indexing then finishes it.
  await page.getByTestId('add-sample').click()
  const row = page.getByTestId('dataset-row-sample')
  await row.getByTestId('index-cancel').click()
  await expect(row).toContainText('cancelled', { timeout: 30_000 })
  await page.screenshot({ path: info.outputPath('datasets-cancelled.png') })
  await page.getByTestId('open-dataset-sample').click()
  await page.getByRole('button', { name: 'Re-index' }).click()
  await expect(page.getByTestId('dataset-title')).toContainText('ready', { timeout: 60_000 })
  await expect(page.getByTestId('thumb').first()).toBeVisible({ timeout: 15_000 })
  const total = Number((await page.getByTestId('thumb-total').textContent())!.replace(/,/g, '').match(/^\d+/)![0])
  expect(total).toBeGreaterThan(1000)
  const rendered = await page.getByTestId('thumb').count()
  expect(rendered).toBeLessThan(200)
  // One Tab stop; arrow keys move by one and by a row, End reaches the last image by keyboard.
  const focused = (): Promise<string | null> =>
    page.evaluate(
      () =>
        (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document.activeElement?.getAttribute(
          'aria-label'
        ) ?? null
    )
  await page.getByTestId('thumb').first().focus()
  expect(await page.locator('[data-testid="thumb"][tabindex="0"]').count()).toBe(1)
  const cols = await page
    .getByTestId('thumb')
    .evaluateAll(
      (els) => els.filter((e) => (e as unknown as { offsetTop: number }).offsetTop === (els[0] as unknown as { offsetTop: number }).offsetTop).length
    )
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('ArrowDown')
  expect(await focused()).toMatch(new RegExp(`^Image ${2 + cols}:`))
  await page.keyboard.press('End')
  await expect.poll(focused, { timeout: 15_000 }).toMatch(new RegExp(`^Image ${total}:`))
  await page.keyboard.press('Home')
  await expect.poll(focused, { timeout: 15_000 }).toMatch(/^Image 1:/)
  const viewport = page.getByTestId('thumb-viewport')
  await viewport.evaluate((el) => (el.scrollTop = el.scrollHeight))
  await expect(page.getByTestId('thumb-total')).toContainText(`–${total.toLocaleString('en-US')}`)
  await expect(page.getByTestId('thumb').last()).toHaveAttribute('aria-label', new RegExp(`^Image ${total}:`), { timeout: 15_000 })
  expect(await page.getByTestId('thumb').count()).toBeLessThan(200)
  await page.screenshot({ path: info.outputPath('sample-thumbnails.png') })
  expect(problems).toEqual([])
})
