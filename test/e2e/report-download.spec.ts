// Reports from the browser: Compare's report panel takes a title and downloads the report as
// self-contained HTML and as a zip of the report folder (Markdown with its images, CSV, JSON,
// HTML), so a browser on another machine gets the report without reaching the host's disk; the
// report's body names only the settings that differ, the full configs are in an appendix.
import { test, expect } from '@playwright/test'
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { strFromU8, unzipSync } from 'fflate'
import { startServe, type RunningHost } from './web-host'
import { collectProblems } from './ui-helpers'
import { RunConfigSchema } from '../../src-shared/config/run'
import { runStatus } from '../helpers/run-status'

let host: RunningHost | null = null
test.afterEach(async () => {
  await host?.stop()
  host = null
})

/** A finished run folder as the runs service loads it: run.json, status.json, results.json. */
function writeRun(ws: string, id: string, name: string, seed: number, accuracy: number, i: number): void {
  const dir = path.join(ws, 'runs', id)
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true })
  mkdirSync(path.join(dir, 'checkpoints'), { recursive: true })
  const created = new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString()
  const config = RunConfigSchema.parse({ name, seed, dataset: { kind: 'sample', size: 64 }, backbone: { arch: 'alexnet64', width: 0.25 } })
  writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({ id, name, preset: null, createdAt: created, config, configHash: `hash${i}`, seed, versions: { app: 'test' }, datasets: [] })
  )
  const status = runStatus({ stage: 'evaluate', epoch: 1, epochs: 1, step: 10, steps: 10, createdAt: created, startedAt: created, endedAt: created })
  writeFileSync(path.join(dir, 'status.json'), JSON.stringify(status))
  const classes = Array.from({ length: 10 }, (_, k) => `class ${k}`)
  const dataset = 'sample (10 classes, 64px, seed 1)'
  const evaluations = [
    {
      id: `linear:${dataset}`,
      protocol: 'linear',
      dataset,
      transfer: false,
      layer: 'conv5',
      accuracy,
      perClass: classes.map(() => accuracy),
      confusion: classes.map((_, a) => classes.map((_, b) => (a === b ? 50 : 0))),
      classNames: classes,
      trainImages: 2000,
      testImages: 500
    }
  ]
  writeFileSync(path.join(dir, 'artifacts', 'results.json'), JSON.stringify({ evaluations }))
  writeFileSync(path.join(dir, 'metrics.jsonl'), '')
}

test('Compare downloads the report with its title as HTML and as a zip', async ({ page }, info) => {
  test.setTimeout(60_000)
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-report-dl-'))
  const ws = path.join(root, 'ws')
  writeRun(ws, '20250101-000001-seed-one-aaaa', 'seed one', 1, 0.4, 0)
  writeRun(ws, '20250101-000002-seed-two-bbbb', 'seed two', 2, 0.45, 1)
  host = await startServe(path.join(root, 'cfg'), ws)
  const problems = collectProblems(page)
  await page.goto(host.url + '#/compare')
  await expect(page.getByTestId('results-table').locator('tbody tr')).toHaveCount(2, { timeout: 20_000 })

  await page.getByTestId('report-title').fill('Seed ablation: 1 vs 2')
  const [html] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-download-html').click()])
  expect(html.suggestedFilename()).toBe('seed-ablation-1-vs-2.html')
  const text = readFileSync((await html.path())!, 'utf8')
  expect(text).toContain('<title>Seed ablation: 1 vs 2</title>')
  const body = text.slice(text.indexOf('<h2>Configuration differences</h2>'), text.indexOf('<h2>Appendix: full configurations</h2>'))
  expect(body).toMatch(/<tr><td><code>seed<\/code><\/td><td>1<\/td><td>2<\/td><\/tr>/)
  expect(body).not.toContain('backbone.arch')
  await expect(page.getByTestId('report-status')).toContainText('Downloaded seed-ablation-1-vs-2.html')

  const [zip] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-download-zip').click()])
  expect(zip.suggestedFilename()).toBe('seed-ablation-1-vs-2.zip')
  const entries = unzipSync(new Uint8Array(readFileSync((await zip.path())!)))
  const names = Object.keys(entries).map((n) => n.slice(n.indexOf('/') + 1))
  for (const f of ['report.html', 'report.md', 'results.csv', 'results.json']) expect(names).toContain(f)
  const md = strFromU8(entries[Object.keys(entries).find((n) => n.endsWith('/report.md'))!]!)
  expect(md).toMatch(/^# Seed ablation: 1 vs 2/)
  expect(md.indexOf('## Configuration differences')).toBeLessThan(md.indexOf('## Appendix: full configurations'))
  await page.getByTestId('report-panel').screenshot({ path: info.outputPath('report-panel.png') })
  expect(problems).toEqual([])
})

test('the report prints from the browser (Save as PDF), from Compare and from the Runs page', async ({ page }) => {
  test.setTimeout(60_000)
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-report-print-'))
  const ws = path.join(root, 'ws')
  writeRun(ws, '20250101-000001-seed-one-aaaa', 'seed one', 1, 0.4, 0)
  writeRun(ws, '20250101-000002-seed-two-bbbb', 'seed two', 2, 0.45, 1)
  host = await startServe(path.join(root, 'cfg'), ws)
  // The print dialog cannot be driven here: every frame's print() records which document it was
  // asked to print (its title and whether the report's styles apply) instead of opening it.
  await page.addInitScript({
    content: `window.print = function () {
      const top = window.top
      const styled = document.adoptedStyleSheets.length > 0 && !!document.querySelector('h1')
      ;(top.printed ??= []).push({ title: document.title, styled })
    }`
  })
  const problems = collectProblems(page)
  await page.goto(host.url + '#/compare')
  await expect(page.getByTestId('results-table').locator('tbody tr')).toHaveCount(2, { timeout: 20_000 })
  await page.getByTestId('report-title').fill('Printed seeds')
  await page.getByTestId('report-print').click()
  await expect(page.getByTestId('report-status')).toContainText('Save as PDF')
  const printed = async (): Promise<{ title: string; styled: boolean }[]> =>
    (await page.evaluate('window.printed ?? []')) as { title: string; styled: boolean }[]
  expect(await printed()).toEqual([{ title: 'Printed seeds', styled: true }])
  const frame = page.frameLocator('[data-testid="report-print-frame"]')
  await expect(frame.locator('h2', { hasText: 'Configuration differences' })).toHaveCount(1)

  // The Runs page: "Write report" for the selected runs offers the same panel.
  await page.goto(host.url + '#/runs')
  await page.getByTestId('pick-all').check()
  await page.getByTestId('report-selected').click()
  await expect(page.getByTestId('report-panel')).toBeVisible()
  await page.getByTestId('report-title').fill('From the runs page')
  const [html] = await Promise.all([page.waitForEvent('download'), page.getByTestId('report-download-html').click()])
  expect(html.suggestedFilename()).toBe('from-the-runs-page.html')
  const text = readFileSync((await html.path())!, 'utf8')
  expect(text).toContain('seed one')
  expect(text).toContain('seed two')
  await page.evaluate('window.printed = []')
  await page.getByTestId('report-print').click()
  await expect.poll(async () => (await printed()).map((p) => p.title)).toEqual(['From the runs page'])
  expect(problems).toEqual([])
})
