// The exported report opened in Debian's Chromium: it makes no network request at all, it
// prints to a PDF whose pages pdftoppm renders, and a rendered page is kept as an artifact.
import { test, expect } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'

test('the report is self-contained and prints to PDF', async ({ page }, info) => {
  test.setTimeout(120_000)
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-report-'))
  const env = { ...process.env, QUARTERTURN_WORKSPACE: path.join(root, 'ws') }
  const cli = (args: string[]): string =>
    execFileSync(process.execPath, [path.resolve('bin/quarterturn.js'), ...args, '--config-dir', path.join(root, 'cfg')], { env, encoding: 'utf8' })
  const config = path.join(root, 'tiny.json')
  writeFileSync(
    config,
    JSON.stringify({
      name: 'RotNet tiny',
      backend: 'wasm',
      dataset: { kind: 'sample', perClass: 3, testPerClass: 2, size: 32 },
      backbone: { arch: 'alexnet32', width: 0.0625 },
      pretrain: { method: { method: 'rotnet' }, epochs: 2, batchSize: 10, schedule: { kind: 'constant', lr: 0.05 } },
      evaluation: { linear: { epochs: 2 }, knn: { k: 3 } }
    })
  )
  const run = JSON.parse(cli(['run', config, '--json']).trim().split('\n').at(-1)!)
  expect(run.state).toBe('done')
  const out = cli(['export', run.id, '--report', '--title', 'Tiny report'])
  const dir = /Report written to (.+)/.exec(out)![1]!.trim()

  const requests: string[] = []
  page.on('request', (r) => requests.push(r.url()))
  const reportUrl = pathToFileURL(path.join(dir, 'report.html')).href
  await page.goto(reportUrl)
  await expect(page.locator('h1')).toHaveText('Tiny report')
  await expect(page.locator('table.results')).toContainText('RotNet tiny')
  expect(await page.locator('.previews figure').count()).toBe(16)
  // Only the document itself: images are data URLs, charts inline SVG, no fonts or scripts.
  expect(requests.filter((u) => u !== reportUrl && !u.startsWith('data:'))).toEqual([])
  await page.screenshot({ path: info.outputPath('report.png'), fullPage: true })

  const pdf = path.join(root, 'report.pdf')
  await page.pdf({ path: pdf, format: 'A4', printBackground: true })
  execFileSync('pdftoppm', ['-png', '-r', '50', pdf, path.join(root, 'page')])
  const pages = readdirSync(root).filter((f) => /^page-\d+\.png$/.test(f))
  expect(pages.length).toBeGreaterThanOrEqual(2)
})
