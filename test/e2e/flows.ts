// The researcher's flows, written once and driven both in Debian's Chromium against the web host
// (runs.spec.ts, datasets.spec.ts) and in the Electron app where its binary exists
// (electron-ui.spec.ts). `go(hash)` opens a route: a URL with the token in the browser, the hash
// in the app. Each flow saves screenshots of what it shows as test artifacts.
import { expect, type Page, type TestInfo } from '@playwright/test'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { makeImageFolder } from '../helpers/datasets'
import { chartPoints, expectNoLongTasks, fillTinyRun, horizontalOverflow, parseCsv, runIdByName, setField, setTheme } from './ui-helpers'

export type Go = (hash: string) => Promise<void>

async function shoot(page: Page, info: TestInfo, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: info.outputPath(`${name}.png`), fullPage })
}
async function fitsTheWindow(page: Page): Promise<void> {
  expect(await horizontalOverflow(page), 'the page scrolls sideways at 1280x800').toBeLessThanOrEqual(0)
}

/**
 * New run: an invalid value shows the schema's message with its field path and blocks Launch;
 * fixed, the run launches; its live charts fill with no long task; it pauses (from the keyboard)
 * and resumes from its checkpoint, and finishes. Returns the run id.
 */
export async function launchWatchPauseResume(page: Page, go: Go, info: TestInfo, name: string): Promise<string> {
  await go('#/new')
  await expect(page.getByTestId('field-pretrain.batchSize')).toHaveValue('64')
  await fillTinyRun(page, { name, epochs: 8 })

  await setField(page, 'pretrain.batchSize', '1')
  await expect(page.getByTestId('error-pretrain.batchSize')).toHaveText('Pretraining › Batch size: batch size must be at least 2')
  await expect(page.getByTestId('form-issues')).toContainText('Pretraining › Batch size: batch size must be at least 2')
  await expect(page.getByTestId('launch')).toBeDisabled()
  await setField(page, 'backbone.width', '3')
  await expect(page.getByTestId('error-backbone.width')).toContainText('width must be at most 2')
  await shoot(page, info, 'new-run-invalid')
  await fitsTheWindow(page)
  await setField(page, 'backbone.width', '0.0625')
  await setField(page, 'pretrain.batchSize', '10')
  await expect(page.getByTestId('error-pretrain.batchSize')).toHaveCount(0)
  await expect(page.getByTestId('form-issues')).toHaveCount(0)
  await expect(page.getByTestId('plan')).toContainText('8 epochs × 4 steps = 32 steps')
  // The time estimate: training steps of this network timed on this machine, then per stage.
  await page.getByTestId('estimate-measure').click()
  await expect(page.getByTestId('estimate-total')).toContainText(/≈ [\d.]+ (ms|s|min)/, { timeout: 30_000 })
  await expect(page.getByTestId('estimate')).toContainText('pretraining')
  await expect(page.getByTestId('estimate')).toContainText(/Timed on (wasm|cpu|tensorflow)/)
  await expect(page.getByTestId('estimate-measure')).toHaveText('Time it again')
  await shoot(page, info, 'new-run-valid')

  await page.getByTestId('launch').click()
  await expect(page).toHaveURL(/#\/runs\?run=/)
  const id = await runIdByName(page, name)
  await expect(page.getByTestId('selected-run')).toContainText(name)

  // The charts appear with the first points, then fill while the page stays responsive.
  await expect.poll(() => chartPoints(page, 'chart-loss'), { timeout: 45_000 }).toBeGreaterThan(0)
  for (const c of ['chart-accuracy', 'chart-lr', 'chart-throughput']) await expect.poll(() => chartPoints(page, c)).toBeGreaterThan(0)
  await expect(page.getByTestId('chart-accuracy')).toContainText('90°')
  await expect(page.getByTestId('run-log')).toContainText('Stage 1 of 2: pretrain')
  await expectNoLongTasks(page, 'streaming a run', async () => {
    const first = await chartPoints(page, 'chart-loss')
    await expect.poll(() => chartPoints(page, 'chart-loss'), { timeout: 30_000 }).toBeGreaterThan(first + 3 * 2)
  })
  await shoot(page, info, 'runs-streaming')

  const row = page.getByTestId(`run-row-${id}`)
  await page.getByTestId(`pause-${id}`).focus()
  await page.keyboard.press('Enter')
  await expect(row.getByTestId('state')).toHaveText('paused', { timeout: 30_000 })
  await shoot(page, info, 'runs-paused')
  await fitsTheWindow(page)
  const atPause = await chartPoints(page, 'chart-loss')

  await page.getByTestId(`resume-${id}`).click()
  await expect(row.getByTestId('state')).toHaveText(/queued|running/)
  await expect.poll(() => chartPoints(page, 'chart-loss'), { timeout: 30_000 }).toBeGreaterThan(atPause)
  await expect(page.getByTestId('run-log')).toContainText('Resuming from checkpoint')
  await expect(row.getByTestId('state')).toHaveText('done', { timeout: 90_000 })
  await setTheme(page, 'dark')
  await shoot(page, info, 'runs-done-dark')
  await setTheme(page, 'light')
  return id
}

/** Run detail: curves, evaluations with per-class accuracy and confusion, previews, checkpoints, config. */
export async function runDetail(page: Page, go: Go, info: TestInfo, id: string, name: string): Promise<void> {
  await go(`#/runs/${id}`)
  await expect(page.getByTestId('run-title')).toContainText(name)
  await expect.poll(() => chartPoints(page, 'chart-loss')).toBeGreaterThan(20)
  await shoot(page, info, 'run-detail-curves')

  await page.getByTestId('tab-evaluations').click()
  const evals = page.getByTestId('evaluations')
  await expect(evals).toContainText('linear')
  await expect(evals).toContainText('knn')
  await expect(page.getByTestId('per-class').locator('li')).toHaveCount(10)
  await expect(page.getByTestId('confusion').locator('tbody tr')).toHaveCount(10)
  await shoot(page, info, 'run-detail-evaluations')
  await fitsTheWindow(page)

  // Rotation previews: four views per image, probabilities summing to 1, right or wrong marked.
  await page.getByTestId('tab-previews').click()
  await page.getByTestId('preview-count').fill('3')
  await page.getByTestId('preview-show').click()
  await expect(page.getByTestId('preview-image')).toHaveCount(3, { timeout: 30_000 })
  for (const im of await page.getByTestId('preview-image').all()) {
    const views = im.getByTestId('preview-view')
    await expect(views).toHaveCount(4)
    const rotations: number[] = []
    for (const v of await views.all()) {
      const probs = ((await v.getAttribute('data-probs')) ?? '').split(',').map(Number)
      expect(probs).toHaveLength(4)
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4)
      rotations.push(Number(await v.getAttribute('data-rotation')))
      await expect(v).toContainText(/✓ correct|✗ says/)
    }
    expect(rotations).toEqual([0, 1, 2, 3])
  }
  await expect(page.getByTestId('preview-summary')).toContainText('views get the right rotation')
  await shoot(page, info, 'run-detail-previews')

  // At an earlier checkpoint, on two images picked with the keyboard (arrow keys, Space).
  const ck = page.getByTestId('preview-checkpoint')
  const options = await ck.locator('option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))
  const numbered = options.filter((v) => /^\d+$/.test(v))
  expect(numbered.length).toBeGreaterThan(0)
  await ck.selectOption(numbered.at(-1)!)
  await page.getByTestId('preview-mode-picked').check()
  const cells = page.getByTestId('picker-cell')
  await expect(cells.first()).toBeVisible()
  await cells.first().focus()
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('Space')
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('Enter')
  await expect(page.getByTestId('picker-count')).toHaveText('2 of at most 16 picked')
  const pickedIdx = await page.locator('[data-testid="picker-cell"][aria-selected="true"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-index')))
  await page.getByTestId('preview-show').click()
  await expect(page.getByTestId('preview-summary')).toContainText(`Predictions at checkpoint ${numbered.at(-1)}`)
  await expect(page.getByTestId('preview-image')).toHaveCount(2)
  await expect(page.getByTestId('preview-image').first()).toContainText(`#${pickedIdx[0]}`)
  await expect(page.getByTestId('preview-view')).toHaveCount(8)

  // Training views: the method's own flips/crops, as many as asked.
  await page.getByTestId('augment-views').fill('5')
  await page.getByTestId('augment-show').click()
  await expect(page.getByTestId('augment-image').first()).toBeVisible({ timeout: 30_000 })
  await expect(page.getByTestId('augment-image').first().getByTestId('augment-view')).toHaveCount(5)
  await expect(page.getByTestId('augment-summary')).toContainText('rotnet')
  await shoot(page, info, 'run-detail-previews-picked', true)

  await page.getByTestId('tab-checkpoints').click()
  await expect(page.getByTestId('checkpoints').locator('tbody tr').first()).toBeVisible()
  await shoot(page, info, 'run-detail-checkpoints')
  await page.getByTestId('tab-config').click()
  await expect(page.getByTestId('config')).toContainText('alexnet32')
  await shoot(page, info, 'run-detail-config')
  await page.getByTestId('tab-log').click()
  await expect(page.getByTestId('run-log')).toContainText('linear on sample')
  await setTheme(page, 'dark')
  await page.getByTestId('tab-evaluations').click()
  await shoot(page, info, 'run-detail-evaluations-dark')
  await setTheme(page, 'light')
}

/** A second, shorter run made from the first one's config in the form. Returns its id. */
export async function runFromTemplate(page: Page, go: Go, from: string, fromName: string, name: string): Promise<string> {
  await go(`#/runs/${from}`)
  await page.getByTestId('tab-config').click()
  await page.getByTestId('use-template').click()
  await expect(page.getByTestId('field-name')).toHaveValue(`${fromName} (copy)`)
  await setField(page, 'name', name)
  await setField(page, 'seed', '2')
  await setField(page, 'pretrain.epochs', '1')
  await page.getByTestId('launch').click()
  await expect(page).toHaveURL(/#\/runs\?run=/)
  const id = await runIdByName(page, name)
  await expect(page.getByTestId(`run-row-${id}`).getByTestId('state')).toHaveText('done', { timeout: 60_000 })
  return id
}

/**
 * Compare: pin `a` as the baseline (keyboard) and read `b`'s relative improvement in every
 * column; sort and filter keep the baseline on top; the config diff shows only what differs; the
 * CSV (downloaded where the shell allows, else the text shown) matches the table cell for cell.
 */
export async function compare(page: Page, go: Go, info: TestInfo, a: string, aName: string, b: string, download: boolean): Promise<void> {
  await go('#/compare')
  const table = page.getByTestId('results-table')
  await expect(table.locator('tbody tr')).toHaveCount(2)
  await page.getByTestId(`pin-${a}`).focus()
  await page.keyboard.press('Enter')
  await expect(page.getByTestId(`pin-${a}`)).toHaveAttribute('aria-pressed', 'true')
  await expect(table.locator('tbody tr').first()).toHaveAttribute('data-testid', `result-row-${a}`)

  const cols = await table.locator('thead button.sort[data-testid^="sort-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!.slice(5)))
  expect(cols.length).toBeGreaterThanOrEqual(2)
  // The cell shows one decimal; its tooltip has the exported two ("50.00 % of 20 test images; …").
  const value = async (id: string, key: string): Promise<string> =>
    /(\d+\.\d\d) %/.exec((await page.getByTestId(`cell-${id}-${key}`).getAttribute('title'))!)![1]!
  let checked = 0
  for (const key of cols) {
    const va = Number(await value(a, key))
    const vb = Number(await value(b, key))
    if (!(va > 0)) continue
    const rel = ((vb - va) / va) * 100
    await expect(page.getByTestId(`rel-${b}-${key}`)).toHaveText(`${rel >= 0 ? '+' : '-'}${Math.abs(rel).toFixed(1)} % rel.`)
    checked++
  }
  expect(checked, 'a column where the baseline is above 0').toBeGreaterThan(0)
  await expect(page.getByTestId(`rel-${a}-${cols[0]}`)).toHaveCount(0)

  await page.getByTestId(`sort-${cols[0]}`).click()
  await expect(table.locator('thead th[aria-sort="descending"]')).toHaveCount(1)
  await expect(table.locator('tbody tr').first()).toHaveAttribute('data-testid', `result-row-${a}`)
  await page.getByTestId('compare-filter').fill('no such run')
  await expect(table.locator('tbody tr')).toHaveCount(1)
  await page.getByTestId('compare-filter').fill('')
  await expect(table.locator('tbody tr')).toHaveCount(2)

  const diff = page.getByTestId('config-diff')
  await expect(diff).toContainText('pretrain.epochs')
  await expect(diff).toContainText('seed')
  await expect(diff).not.toContainText('backbone.arch')
  await expect(page.getByTestId('summaries').locator('tbody tr')).toHaveCount(2)

  await page.getByTestId('format-csv').click()
  const shown = (await page.getByTestId('export-text').textContent())!
  let csv = shown
  if (download) {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-download').click()])
    expect(file.suggestedFilename()).toBe('quarterturn-results.csv')
    csv = readFileSync((await file.path())!, 'utf8')
    expect(csv).toBe(shown)
    await expect(page.getByTestId('export-status')).toContainText('Downloaded')
  }
  const rows = parseCsv(csv)
  expect(rows).toHaveLength(3)
  expect(rows[1]![0]).toBe(`${aName} (baseline)`)
  const header = rows[0]!
  for (const [i, id] of [a, b].entries()) {
    for (const key of cols) {
      const label = (await page.getByTestId(`sort-${key}`).getAttribute('data-label'))!
      const at = header.indexOf(label)
      expect(at, `CSV column ${label}`).toBeGreaterThan(1)
      expect(rows[i + 1]![at]).toBe(await value(id, key))
      const relCell = page.getByTestId(`rel-${id}-${key}`)
      // Columns per evaluation: value, n, ci_low, ci_high, sd, seeds, relative %, delta pts, within noise.
      if (await relCell.count())
        expect(Math.abs(Number(rows[i + 1]![at + 6]) - Number((await relCell.textContent())!.replace(/[+%]|rel\./g, '')))).toBeLessThanOrEqual(0.051)
      else expect(rows[i + 1]![at + 6]).toBe('')
    }
  }
  await page.getByTestId('format-latex').click()
  await expect(page.getByTestId('export-text')).toContainText('\\begin{tabular}')
  await page.getByTestId('format-markdown').click()
  await expect(page.getByTestId('export-text')).toContainText('| model |')
  await shoot(page, info, 'compare', true)
  await fitsTheWindow(page)
  if (download) {
    // The host writes the full report (HTML, Markdown, CSV) under workspace/reports/.
    await page.getByTestId('write-report').click()
    await expect(page.getByTestId('report-status')).toContainText('Report written to', { timeout: 60_000 })
  }
  await setTheme(page, 'dark')
  await shoot(page, info, 'compare-dark')
  await setTheme(page, 'light')
}

/**
 * Datasets: a relative path is refused as you type; the folder is inspected (layout, classes,
 * the planted corrupt file), added and indexed; the detail shows layout and evidence, class
 * balance, thumbnails per class, an image's detail, the classes, the problem, and a subset.
 */
export async function addFolder(page: Page, go: Go, info: TestInfo, folder: string, id: string, brokenFile: string): Promise<void> {
  await go('#/datasets')
  const input = page.getByTestId('dataset-path')
  await input.fill(id)
  await input.blur()
  await expect(page.getByTestId('dataset-path-error')).toHaveText('give the full (absolute) folder path')
  await expect(page.getByTestId('dataset-add')).toBeDisabled()
  await input.fill(folder)
  await expect(page.getByTestId('dataset-path-error')).toHaveText('')

  await page.getByTestId('dataset-inspect').click()
  const inspection = page.getByTestId('inspection')
  await expect(page.getByTestId('inspect-layout')).toHaveText('imagefolder', { timeout: 30_000 })
  await expect(inspection).toContainText('3 classes')
  await expect(inspection).toContainText(brokenFile)
  await shoot(page, info, 'datasets-inspect', true)

  await page.getByTestId('dataset-add').click()
  await expect(page).toHaveURL(new RegExp(`#/datasets/${id}`))
  await expect(page.getByTestId('dataset-title')).toContainText('ready', { timeout: 30_000 })
  await expect(page.getByTestId('dataset-layout')).toHaveText('imagefolder')
  await expect(page.getByTestId('evidence')).not.toBeEmpty()
  await expect(page.getByTestId('class-balance')).toBeVisible()
  // Splits in plain words: "Training: 13 images — 80% of each class, picked at random here (seed 0)".
  await expect(page.getByTestId('split-line').first()).toContainText(/^Training: \d+ images — /)
  for (const l of await page.getByTestId('split-line').all()) await expect(l).not.toContainText(/made here|<class>|test share/)

  await expect(page.getByTestId('thumb').first()).toBeVisible({ timeout: 15_000 })
  const total = Number((await page.getByTestId('thumb-total').textContent())!.replace(/,/g, '').match(/^\d+/)![0])
  expect(total).toBeGreaterThan(0)
  await expect(page.getByTestId('thumb')).toHaveCount(total)
  const first = (await page.getByTestId('thumb-class').locator('option').nth(1).textContent())!
  const cls = first.replace(/ \(\d+\)$/, '')
  await page.getByTestId('thumb-class').selectOption({ label: first })
  await expect(page.getByTestId('thumb').first()).toHaveAttribute('aria-label', new RegExp(cls))
  for (const t of await page.getByTestId('thumb').all()) await expect(t).toHaveAttribute('aria-label', new RegExp(cls))
  await shoot(page, info, 'dataset-detail', true)
  await fitsTheWindow(page)
  await page.getByTestId('thumb').first().focus()
  await page.keyboard.press('Enter')
  const dialog = page.getByTestId('image-dialog')
  await expect(dialog).toBeVisible()
  await expect(dialog).toContainText(`${cls}/`)
  await expect(dialog.locator('img')).toBeVisible()
  await shoot(page, info, 'dataset-image')
  // Previous/next and the arrow keys step through the grid's images; an outside click closes.
  await expect(page.getByTestId('image-prev')).toBeDisabled()
  if ((await page.getByTestId('thumb').count()) > 1) {
    const firstPath = (await dialog.locator('code').textContent())!
    await expect(page.getByTestId('image-next')).toBeEnabled()
    await page.keyboard.press('ArrowRight')
    await expect(dialog.locator('code')).not.toHaveText(firstPath)
    await expect(page.getByTestId('image-prev')).toBeEnabled()
    await page.getByTestId('image-prev').click()
    await expect(dialog.locator('code')).toHaveText(firstPath)
  }
  await page.keyboard.press('Escape')
  await expect(dialog).toBeHidden()
  await page.getByTestId('thumb').first().click()
  await expect(dialog).toBeVisible()
  await page.mouse.click(5, 5)
  await expect(dialog).toBeHidden()

  await page.getByTestId('dtab-classes').click()
  await expect(page.getByTestId('classes').locator('tbody tr')).toHaveCount(3)
  await page.getByTestId('dtab-problems').click()
  const list = page.getByTestId('problems')
  await expect(list).toContainText(brokenFile)
  await expect(list).toContainText(/corrupt|truncated|not-an-image/)
  await setTheme(page, 'dark')
  await shoot(page, info, 'dataset-problems-dark', true)
  await setTheme(page, 'light')

  await page.getByTestId('dtab-subsets').click()
  await page.getByTestId('subset-form').getByRole('button', { name: 'Create' }).click()
  await expect(page.getByTestId('subsets').locator('tbody tr')).toHaveCount(1)
  await shoot(page, info, 'dataset-subsets')

  await page.getByTestId('nav-datasets').click()
  await expect(page.getByTestId(`dataset-row-${id}`)).toContainText('imagefolder')
  await expect(page.getByTestId(`dataset-row-${id}`)).toContainText('ready')
  await shoot(page, info, 'datasets-list', true)
}

/** Three classes of small PNGs and, planted among them, a corrupt one (square/broken.png). */
export function makeShapes(root: string): string {
  const folder = path.join(root, 'shapes')
  makeImageFolder(folder, { circle: 6, square: 6, triangle: 5 })
  // A PNG signature, then nonsense: the decoder must reject it.
  writeFileSync(
    path.join(folder, 'square', 'broken.png'),
    Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not really a png at all')])
  )
  return folder
}
