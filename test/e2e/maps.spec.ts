// Embedding maps in Debian's Chromium against the real web host, on two real tiny runs made by
// the CLI: PCA, t-SNE and UMAP maps computed from the form (refused values first), the canvas and
// its legend, a thumbnail tooltip under the keyboard and under the mouse, a highlighted class,
// wheel zoom, drag and reset, SVG and PNG exports, two runs side by side, a long t-SNE's live
// layout and its Cancel. Then a 20 000-point map (written where the host stores maps) is hovered,
// zoomed and panned with no long task.
import { test, expect, type Page, type TestInfo } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { SAMPLE_CLASSES } from '../../src-shared/sample-dataset'
import { startServe, type RunningHost } from './web-host'
import { collectProblems, expectNoLongTasks, horizontalOverflow, setTheme } from './ui-helpers'

test.describe.configure({ mode: 'serial' })

let host: RunningHost
let workspace = ''
let runA = ''
let runB = ''

test.beforeAll(async () => {
  test.setTimeout(90_000)
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-maps-'))
  workspace = path.join(root, 'ws')
  const configDir = path.join(root, 'cfg')
  const env = { ...process.env, QUARTERTURN_WORKSPACE: workspace }
  const tiny = (name: string, seed: number, testPerClass: number): string => {
    const file = path.join(root, `${seed}.json`)
    writeFileSync(
      file,
      JSON.stringify({
        name,
        seed,
        backend: 'wasm',
        dataset: { kind: 'sample', perClass: 3, testPerClass, size: 32 },
        backbone: { arch: 'alexnet32', width: 0.0625 },
        pretrain: { method: { method: 'rotnet' }, epochs: 2, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } },
        evaluation: { linear: { epochs: 2 }, knn: { k: 3 } }
      })
    )
    const out = execFileSync(process.execPath, [path.resolve('bin/quarterturn.js'), 'run', file, '--json', '--config-dir', configDir], {
      env,
      encoding: 'utf8'
    })
    const run = JSON.parse(out.trim().split('\n').at(-1)!) as { id: string; state: string }
    expect(run.state).toBe('done')
    return run.id
  }
  runA = tiny('RotNet map A', 1, 2)
  // 1 500 test images: a t-SNE of them runs long enough to watch, and to cancel.
  runB = tiny('RotNet map B', 2, 150)
  host = await startServe(configDir, workspace)
})
test.afterAll(async () => {
  await host?.stop()
})

const shoot = (page: Page, info: TestInfo, name: string): Promise<Buffer> => page.screenshot({ path: info.outputPath(`${name}.png`) })
const attr = async (page: Page, panel: string, name: string): Promise<string> =>
  (await page.getByTestId(`map-panel-${panel}`).getByTestId('map-canvas').getAttribute(name)) ?? ''

/** Choose the parameters in a panel's form and compute; wait for the map to be shown. */
async function computeMap(page: Page, panel: string, method: 'pca' | 'tsne' | 'umap', extra: Record<string, string> = {}): Promise<void> {
  const p = page.getByTestId(`map-panel-${panel}`)
  const form = p.getByTestId('map-form')
  if (!(await form.isVisible())) await p.locator('.map-params > summary').click()
  await form.getByTestId('map-field-method').selectOption(method)
  for (const [k, v] of Object.entries(extra)) await form.getByTestId(`map-field-${k}`).fill(v)
  await form.getByTestId('map-compute').click()
}

test('maps: compute PCA, t-SNE and UMAP, hover a point, highlight a class, zoom, export, compare two runs, cancel', async ({ page }, info) => {
  test.setTimeout(120_000)
  const problems = collectProblems(page)
  await page.goto(host.url + `#/maps?run=${runA}`)
  const left = page.getByTestId('map-panel-left')
  await expect(left).toHaveAttribute('data-run', runA)
  await expect(left.getByTestId('map-stored')).toContainText('none stored yet')

  // A new map starts at the layer the evaluations read (conv5), and offers only the layers a
  // RotNet network has: no projection head, no RFD halves.
  if (!(await left.getByTestId('map-form').isVisible())) await left.locator('.map-params > summary').click()
  const layer = left.getByTestId('map-field-layer')
  await expect(layer).toHaveValue('conv5')
  await expect(layer.locator('option')).toHaveText(['conv5', 'pool5', 'fc'])

  // PCA: instant once the worker is up.
  await computeMap(page, 'left', 'pca')
  const canvas = left.getByTestId('map-canvas')
  await expect(canvas).toBeVisible({ timeout: 60_000 })
  await expect(canvas).toHaveAttribute('data-points', '20')
  await expect(left.getByTestId('map-facts')).toContainText('PCA')
  // Beside the neighbour preservation: the share of each point's 10 map neighbours of its class.
  await expect(left.getByTestId('map-separation')).toHaveText(/^\d+(\.\d)?%$/)
  await expect.poll(() => attr(page, 'left', 'data-draws')).not.toBe('')
  await expect(left.getByTestId('map-legend-item')).toHaveCount(10)
  for (const [i, name] of SAMPLE_CLASSES.entries()) await expect(left.getByTestId('map-legend-item').nth(i)).toContainText(name)
  await expect(canvas).toHaveAttribute('aria-label', /PCA map of 20 points .*10 classes: house, tree/)

  // t-SNE: a refused perplexity says why and keeps Compute off; fixed, it computes with progress.
  const form = left.getByTestId('map-form')
  if (!(await form.isVisible())) await left.locator('.map-params > summary').click()
  await form.getByTestId('map-field-method').selectOption('tsne')
  await form.getByTestId('map-field-perplexity').fill('1')
  await expect(form.getByTestId('map-error-perplexity')).toHaveText('perplexity must be at least 2')
  await expect(form.getByTestId('map-compute')).toBeDisabled()
  await form.getByTestId('map-field-iterations').fill('')
  await expect(form.getByTestId('map-error-iterations')).toHaveText('iterations: a number is required')
  await shoot(page, info, 'maps-form-invalid')
  await computeMap(page, 'left', 'tsne', { perplexity: '5', iterations: '250' })
  await expect(form.getByTestId('map-error-perplexity')).toHaveCount(0)
  await expect(left.getByTestId('map-progress')).toBeVisible()
  await expect(left.getByTestId('map-facts')).toContainText('t-SNE', { timeout: 60_000 })
  await expect(left.getByTestId('map-progress')).toHaveCount(0)
  await expect(left.getByTestId('map-stored').locator('option')).toHaveCount(2)
  await expect(left.getByTestId('map-stored').locator('option').first()).toContainText('t-SNE · conv5 · test · 20 points · perplexity 5 · 250 iterations')
  const knn = Number((await left.getByTestId('map-knn').textContent())!.replace('%', ''))
  expect(knn).toBeGreaterThanOrEqual(0)
  expect(knn).toBeLessThanOrEqual(100)

  // Hover from the keyboard: ] steps to a point; its tooltip has the image and the class.
  await canvas.focus()
  await page.keyboard.press(']')
  const tip = left.getByTestId('map-tooltip')
  await expect(tip).toBeVisible()
  await expect(tip.getByTestId('map-thumb')).toHaveAttribute('src', /^data:image\/png;base64,/)
  const className = (await tip.getByTestId('map-tip-class').textContent())!.trim()
  expect(SAMPLE_CLASSES as readonly string[]).toContain(className)
  await expect(tip).toContainText(/#\d+ · test/)
  const index = await attr(page, 'left', 'data-hover')
  expect(index).toBe('0')
  // The same point under the mouse: the ring marks where it is drawn.
  const ring = (await left.locator('.map-ring').boundingBox())!
  await page.keyboard.press('Escape')
  await expect(tip).toHaveCount(0)
  await page.mouse.move(ring.x + ring.width / 2, ring.y + ring.height / 2)
  await expect(tip).toBeVisible()
  await expect(tip.getByTestId('map-tip-class')).toHaveText(className)
  await expect(tip.getByTestId('map-thumb')).toBeVisible()
  expect(await attr(page, 'left', 'data-hover')).toBe(index)
  await shoot(page, info, 'maps-hover')

  // Highlight a class from the legend: pressed, the others dimmed, the select follows.
  const legend = left.getByTestId('map-legend-item')
  await legend.nth(3).click()
  await expect(legend.nth(3)).toHaveAttribute('aria-pressed', 'true')
  await expect(canvas).toHaveAttribute('data-highlight', '3')
  await expect(legend.nth(0)).toHaveClass(/dim/)
  await expect(legend.nth(3)).not.toHaveClass(/dim/)
  await expect(left.getByTestId('map-highlight')).toHaveValue('3')
  await shoot(page, info, 'maps-highlight')
  await legend.nth(3).click()
  await expect(legend.nth(3)).toHaveAttribute('aria-pressed', 'false')
  await expect(canvas).toHaveAttribute('data-highlight', '')
  await left.getByTestId('map-highlight').selectOption({ label: SAMPLE_CLASSES[5] })
  await expect(legend.nth(5)).toHaveAttribute('aria-pressed', 'true')
  await left.getByTestId('map-highlight').selectOption({ label: 'all classes' })

  // Zoom with the wheel about the cursor, pan by dragging and from the keyboard, reset with 0.
  const box = (await canvas.boundingBox())!
  expect(await attr(page, 'left', 'data-scale')).toBe('1.0000')
  const tx0 = Number(await attr(page, 'left', 'data-tx'))
  await page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.4)
  await page.mouse.wheel(0, -400)
  await expect.poll(async () => Number(await attr(page, 'left', 'data-scale'))).toBeGreaterThan(1.5)
  expect(Number(await attr(page, 'left', 'data-tx'))).not.toBe(tx0)
  const txZoomed = Number(await attr(page, 'left', 'data-tx'))
  await page.mouse.down()
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.5, { steps: 4 })
  await page.mouse.up()
  await expect.poll(async () => Number(await attr(page, 'left', 'data-tx'))).toBeGreaterThan(txZoomed + 50)
  await canvas.focus()
  await page.keyboard.press('ArrowLeft')
  await page.keyboard.press('+')
  await shoot(page, info, 'maps-zoomed')
  await page.keyboard.press('0')
  await expect.poll(() => attr(page, 'left', 'data-scale')).toBe('1.0000')
  expect(Number(await attr(page, 'left', 'data-tx'))).toBeCloseTo(tx0, 1)

  // Exports hold the whole map whatever the zoom: zoom in first (most points leave the view).
  for (let i = 0; i < 6; i++) await page.keyboard.press('+')
  await expect.poll(async () => Number(await attr(page, 'left', 'data-scale'))).toBeGreaterThan(3)

  // SVG export: a valid SVG with one circle per point and a legend entry per class.
  const [svgFile] = await Promise.all([page.waitForEvent('download'), left.getByTestId('map-export-svg').click()])
  expect(svgFile.suggestedFilename()).toMatch(/^rotnet-map-a-tsne-conv5-test\.svg$/)
  const svg = readFileSync((await svgFile.path())!, 'utf8')
  const parsed = await page.evaluate((text) => {
    const g = globalThis as unknown as {
      DOMParser: new () => { parseFromString(t: string, m: string): { querySelectorAll(s: string): { length: number }; documentElement: { nodeName: string } } }
    }
    const doc = new g.DOMParser().parseFromString(text, 'image/svg+xml')
    return {
      root: doc.documentElement.nodeName,
      errors: doc.querySelectorAll('parsererror').length,
      circles: doc.querySelectorAll('circle').length,
      entries: doc.querySelectorAll('.legend-entry').length
    }
  }, svg)
  expect(parsed).toEqual({ root: 'svg', errors: 0, circles: 20, entries: 10 })
  expect(svg).toContain('RotNet map A: t-SNE of conv5')
  writeFileSync(info.outputPath('map.svg'), svg)

  // PNG export: the PNG signature, twice the on-screen size plus the legend.
  const [pngFile] = await Promise.all([page.waitForEvent('download'), left.getByTestId('map-export-png').click()])
  expect(pngFile.suggestedFilename()).toBe('rotnet-map-a-tsne-conv5-test.png')
  const png = readFileSync((await pngFile.path())!)
  expect([...png.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  expect(png.readUInt32BE(16)).toBe(2 * (12 + Math.round(box.width) + 170))
  writeFileSync(info.outputPath('map-export.png'), png)
  await expect(left.getByTestId('map-status')).toContainText('Saved rotnet-map-a-tsne-conv5-test.png (the whole map)')
  await canvas.focus()
  await page.keyboard.press('0')
  await expect.poll(() => attr(page, 'left', 'data-scale')).toBe('1.0000')
  expect(await horizontalOverflow(page), 'the page scrolls sideways at 1280x800').toBeLessThanOrEqual(0)
  await shoot(page, info, 'maps-one')

  // A second run beside the first.
  await page.getByTestId('map-compare-toggle').click()
  const right = page.getByTestId('map-panel-right')
  await expect(right).toHaveAttribute('data-run', runB)
  await expect(page).toHaveURL(new RegExp(`with=${runB}`))
  await computeMap(page, 'right', 'pca')
  await expect(right.getByTestId('map-canvas')).toBeVisible({ timeout: 60_000 })
  await expect(right.getByTestId('map-canvas')).toHaveAttribute('data-points', '1500')
  await expect(right.getByTestId('map-legend-item')).toHaveCount(10)
  await expect(right.getByTestId('map-legend-item').first()).toContainText('house 150')
  const a = (await canvas.boundingBox())!
  const b = (await right.getByTestId('map-canvas').boundingBox())!
  expect(b.x).toBeGreaterThan(a.x + a.width - 1)
  expect(Math.abs(b.y - a.y)).toBeLessThan(40)
  expect(await horizontalOverflow(page), 'two maps fit 1280x800').toBeLessThanOrEqual(0)
  await shoot(page, info, 'maps-two')
  // Linked highlighting: a class highlighted in one map is highlighted in the other, by name.
  await right.getByTestId('map-legend-item').nth(2).click()
  await expect(right.getByTestId('map-legend-item').nth(2)).toHaveAttribute('aria-pressed', 'true')
  await expect(legend.nth(2)).toHaveAttribute('aria-pressed', 'true')
  await expect(left.getByTestId('map-highlight')).toHaveValue('2')
  await legend.nth(2).click()
  await expect(right.getByTestId('map-legend-item').nth(2)).toHaveAttribute('aria-pressed', 'false')
  await setTheme(page, 'dark')
  await right.getByTestId('map-legend-item').nth(1).click()
  await expect(legend.nth(1)).toHaveAttribute('aria-pressed', 'true')
  await shoot(page, info, 'maps-two-dark')
  await setTheme(page, 'light')

  // A long t-SNE: its layout is drawn as it settles, and Cancel stops it.
  await computeMap(page, 'right', 'tsne', { perplexity: '30', iterations: '5000' })
  await expect(right.getByTestId('map-progress')).toBeVisible()
  await expect(right.getByTestId('map-compute')).toBeDisabled()
  const preview = right.getByTestId('map-preview')
  await expect(preview).toBeVisible({ timeout: 60_000 })
  await expect.poll(async () => Number(await preview.getAttribute('data-frames')), { timeout: 30_000 }).toBeGreaterThan(2)
  await expect(right.getByTestId('map-phase')).toContainText('optimising the layout')
  await expect(preview).toHaveAttribute('aria-label', 'Layout so far: 1500 points')
  // Coloured by class: the classes came with the first preview.
  await expect(preview).toHaveAttribute('data-coloured', 'true')
  await shoot(page, info, 'maps-tsne-preview')
  await right.getByTestId('map-cancel').click()
  await expect(right.getByTestId('map-notice')).toHaveText('Cancelled.', { timeout: 30_000 })
  await expect(right.getByTestId('map-progress')).toHaveCount(0)
  // The map shown before is back, and nothing was stored.
  await expect(right.getByTestId('map-facts')).toContainText('PCA')
  await expect(right.getByTestId('map-stored').locator('option')).toHaveCount(1)

  // Reloaded, the address brings both maps back.
  await page.reload()
  await expect(page.getByTestId('map-panel-right')).toHaveAttribute('data-run', runB)
  await expect(page.getByTestId('map-panel-left').getByTestId('map-facts')).toContainText('t-SNE')
  await expect(page.getByTestId('map-panel-right').getByTestId('map-facts')).toContainText('PCA')

  // UMAP, with its own setting checked like the others.
  const leftForm = page.getByTestId('map-panel-left').getByTestId('map-form')
  await page.getByTestId('map-panel-left').locator('.map-params > summary').click()
  await leftForm.getByTestId('map-field-method').selectOption('umap')
  await leftForm.getByTestId('map-field-neighbors').fill('1')
  await expect(leftForm.getByTestId('map-error-neighbors')).toHaveText('neighbours: at least 2')
  await computeMap(page, 'left', 'umap', { neighbors: '5' })
  await expect(page.getByTestId('map-panel-left').getByTestId('map-facts')).toContainText('UMAP', { timeout: 60_000 })
  await expect(page.getByTestId('map-panel-left').getByTestId('map-stored').locator('option').first()).toContainText(
    'UMAP · conv5 · test · 20 points · 5 neighbours'
  )

  // The run's page links here.
  await page.goto(host.url + `#/runs/${runB}`)
  await page.getByTestId('run-maps-link').click()
  await expect(page).toHaveURL(new RegExp(`#/maps\\?run=${runB}$`))
  await expect(page.getByTestId('map-panel-left').getByTestId('map-facts')).toContainText('PCA')
  expect(problems).toEqual([])
})

test('a 20 000-point map stays smooth under hover, zoom and pan', async ({ page }, info) => {
  test.setTimeout(90_000)
  const n = 20_000
  // Ten noisy spirals, one per class: dense and overlapping like a real t-SNE of many images.
  const xy: number[] = []
  const labels: number[] = []
  const indices: number[] = []
  let s = 7
  const rand = (): number => ((s = (s * 1103515245 + 12345) % 2147483648), s / 2147483648)
  for (let i = 0; i < n; i++) {
    const c = i % 10
    const t = rand() * 6
    xy.push(+(Math.cos(t + c * 0.63) * (5 + t * 6) + rand() * 3).toFixed(3), +(Math.sin(t + c * 0.63) * (5 + t * 6) + rand() * 3).toFixed(3))
    labels.push(c)
    indices.push(i % 20)
  }
  const key = 'fc-test-latest-tsne-p30-i1000-s0-n20000'
  const dir = path.join(workspace, 'runs', runA, 'artifacts', 'maps')
  mkdirSync(dir, { recursive: true })
  const spec = {
    method: 'tsne',
    layer: 'fc',
    split: 'test',
    source: 'latest',
    maxPoints: 20000,
    seed: 0,
    perplexity: 30,
    iterations: 1000,
    learningRate: null,
    earlyExaggeration: 12,
    pcaDims: 50
  }
  writeFileSync(
    path.join(dir, `${key}.json`),
    JSON.stringify({ key, spec, n, xy, labels, indices, classNames: [...SAMPLE_CLASSES], knnPreservation: 0.42, seconds: 61.5 })
  )

  const problems = collectProblems(page)
  await page.goto(host.url + `#/maps?run=${runA}`)
  const left = page.getByTestId('map-panel-left')
  // The newest stored map is shown first.
  await expect(left.getByTestId('map-canvas')).toHaveAttribute('data-points', String(n), { timeout: 30_000 })
  await expect.poll(() => attr(page, 'left', 'data-draws')).not.toBe('')
  await page.waitForTimeout(300)
  const canvas = left.getByTestId('map-canvas')
  const box = (await canvas.boundingBox())!
  await expectNoLongTasks(page, '20 000-point map', async () => {
    for (let i = 0; i <= 30; i++) await page.mouse.move(box.x + (box.width * i) / 30, box.y + box.height * (0.3 + (0.4 * i) / 30))
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    for (let i = 0; i < 6; i++) await page.mouse.wheel(0, -120)
    await page.mouse.down()
    await page.mouse.move(box.x + box.width / 2 - 120, box.y + box.height / 2 + 60, { steps: 8 })
    await page.mouse.up()
    for (let i = 0; i < 3; i++) await legendClick(page, i)
    await page.waitForTimeout(300)
  })
  expect(Number(await attr(page, 'left', 'data-scale'))).toBeGreaterThan(1.5)
  console.log(`20 000-point map: ${await attr(page, 'left', 'data-draws')} frames drawn, the last in ${await attr(page, 'left', 'data-draw-ms')} ms`)
  await shoot(page, info, 'maps-20k')
  // Back to every class and the whole map; then the mouse on a point the keyboard found.
  await legendClick(page, 2, 'false')
  await canvas.focus()
  await page.keyboard.press('0')
  await expect.poll(() => attr(page, 'left', 'data-scale')).toBe('1.0000')
  for (let i = 0; i < 5; i++) await page.keyboard.press(']')
  const ring = (await left.locator('.map-ring').boundingBox())!
  await page.keyboard.press('Escape')
  await page.mouse.move(ring.x + ring.width / 2, ring.y + ring.height / 2)
  await expect(left.getByTestId('map-tooltip')).toBeVisible()
  await expect(left.getByTestId('map-thumb')).toBeVisible()
  await shoot(page, info, 'maps-20k-hover')
  expect(problems).toEqual([])
})

async function legendClick(page: Page, i: number, pressed = 'true'): Promise<void> {
  const item = page.getByTestId('map-panel-left').getByTestId('map-legend-item').nth(i)
  await item.click()
  await expect(item).toHaveAttribute('aria-pressed', pressed)
}
