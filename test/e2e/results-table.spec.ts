// The Compare results table in Debian's Chromium against the web host, on finished runs written
// into the workspace: eight evaluation columns (four protocols on the pretraining dataset, two
// on each of two transfer datasets) fit a 1280 px window under a dataset header row; a group of
// three seeds is one row with mean ± sd, expandable to its runs; every accuracy carries its 95 %
// Wilson interval; a difference inside the noise is marked ≈ and the legend states the rule; the
// baseline difference reads as relative % or points; the LaTeX export has booktabs rules and the
// best value in bold. The New-run form's Seeds field reads a list or a count.
import { test, expect } from '@playwright/test'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startServe, type RunningHost } from './web-host'
import { collectProblems, horizontalOverflow } from './ui-helpers'
import { RunConfigSchema } from '../../src-shared/config/run'
import { runStatus } from '../helpers/run-status'

let host: RunningHost | null = null
test.afterEach(async () => {
  await host?.stop()
  host = null
})

const PRETRAIN = 'sample (10 classes, 64px, seed 1)'
const CIFAR = 'cifar-10 (10 classes, 32px, test split)'
const PLACES = 'miniplaces (100 classes, 64px, val split)'
const COLUMNS: [string, string, boolean][] = [
  ['finetune', PRETRAIN, false],
  ['linear', PRETRAIN, false],
  ['nonlinear', PRETRAIN, false],
  ['knn', PRETRAIN, false],
  ['linear', CIFAR, true],
  ['knn', CIFAR, true],
  ['linear', PLACES, true],
  ['knn', PLACES, true]
]

interface Fake {
  id: string
  name: string
  seed: number
  group?: string
  /** Accuracy per column, in COLUMNS order. */
  acc: number[]
}

/** A finished run folder as the runs service loads it: run.json, status.json, results.json. */
function writeRun(ws: string, r: Fake, i: number): void {
  const dir = path.join(ws, 'runs', r.id)
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true })
  mkdirSync(path.join(dir, 'checkpoints'), { recursive: true })
  const created = new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString()
  const config = RunConfigSchema.parse({ name: r.name, seed: r.seed, dataset: { kind: 'sample', size: 64 }, backbone: { arch: 'alexnet64', width: 0.25 } })
  const run = {
    id: r.id,
    name: r.name,
    preset: null,
    createdAt: created,
    config,
    configHash: `hash${i}`,
    seed: r.seed,
    versions: { app: 'test' },
    datasets: [],
    ...(r.group ? { group: r.group } : {})
  }
  writeFileSync(path.join(dir, 'run.json'), JSON.stringify(run))
  const status = runStatus({ stage: 'evaluate', epoch: 1, epochs: 1, step: 10, steps: 10, createdAt: created, startedAt: created, endedAt: created })
  writeFileSync(path.join(dir, 'status.json'), JSON.stringify(status))
  const classes = Array.from({ length: 10 }, (_, k) => `class ${k}`)
  const evaluations = COLUMNS.map(([protocol, dataset, transfer], k) => ({
    id: `${protocol}:${dataset}`,
    protocol,
    dataset,
    transfer,
    layer: 'conv5',
    accuracy: r.acc[k]!,
    perClass: classes.map(() => r.acc[k]!),
    confusion: classes.map((_, a) => classes.map((_, b) => (a === b ? 50 : 0))),
    classNames: classes,
    trainImages: 2000,
    testImages: 500
  }))
  writeFileSync(path.join(dir, 'artifacts', 'results.json'), JSON.stringify({ evaluations }))
  writeFileSync(path.join(dir, 'metrics.jsonl'), '')
}

const base = [0.3, 0.5, 0.52, 0.45, 0.35, 0.3, 0.2, 0.15]
const RUNS: Fake[] = [
  { id: '20250101-000001-random-init-aaaa', name: 'random init (no pretraining, probes only)', seed: 1, acc: base },
  // One point above random init on 500 test images: inside the noise.
  { id: '20250101-000002-rfd-base-bbbb', name: 'RFD base with NCE and re-estimated Z', seed: 1, acc: base.map((a) => a + 0.01) },
  ...[0, 1, 2].map((s) => ({
    id: `20250101-00001${s}-rotnet-s${s}-cccc`,
    name: 'RotNet',
    seed: s,
    group: 'g-20250101-rotnet',
    acc: base.map((a) => a + 0.12 + 0.01 * s)
  }))
]

test('Compare: eight evaluation columns fit 1280 px; a group of seeds is one row with mean ± sd; intervals, ≈, rel./pts and a booktabs LaTeX table', async ({
  page
}, info) => {
  test.setTimeout(60_000)
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-results-'))
  const ws = path.join(root, 'ws')
  RUNS.forEach((r, i) => writeRun(ws, r, i))
  host = await startServe(path.join(root, 'cfg'), ws)
  const problems = collectProblems(page)
  await page.setViewportSize({ width: 1280, height: 800 })
  await page.goto(host.url + '#/compare')
  const table = page.getByTestId('results-table')
  // Five runs, three of them one group: three rows.
  await expect(table.locator('tbody tr')).toHaveCount(3, { timeout: 20_000 })
  await expect(table.locator('thead button.sort[data-testid^="sort-"]')).toHaveCount(8)

  // Grouped header: one cell per dataset, abbreviated, the full label in its tooltip.
  const heads = page.getByTestId('dataset-head')
  await expect(heads).toHaveCount(3)
  await expect(heads.nth(0)).toHaveAttribute('title', PRETRAIN)
  await expect(heads.nth(0)).toContainText('sample')
  await expect(heads.nth(0)).not.toContainText('10 classes')
  await expect(heads.nth(0)).toHaveAttribute('colspan', '4')

  // The table fits: no sideways scrolling in its box or the page.
  const fit = await page.getByTestId('results-scroll').evaluate((el) => {
    const e = el as unknown as { scrollWidth: number; clientWidth: number }
    return { scroll: e.scrollWidth, client: e.clientWidth }
  })
  expect(fit.scroll, `results table ${fit.scroll} px wide in a ${fit.client} px box`).toBeLessThanOrEqual(fit.client)
  expect(await horizontalOverflow(page)).toBeLessThanOrEqual(0)

  // The group: mean ± sd over three seeds, expandable to its runs.
  const group = page.getByTestId('result-row-g-20250101-rotnet')
  await expect(group.getByTestId('group-seeds')).toHaveText('· 3 seeds')
  const key = `linear:${PRETRAIN}`
  await expect(page.getByTestId(`cell-g-20250101-rotnet-${key}`).locator('.strong')).toHaveText('63.0')
  await expect(page.getByTestId(`ci-g-20250101-rotnet-${key}`)).toHaveText('± 1.0')
  await page.getByTestId('expand-g-20250101-rotnet').click()
  await expect(page.locator('[data-testid^="member-row-"]')).toHaveCount(3)
  await expect(page.getByTestId('member-row-20250101-000011-rotnet-s1-cccc')).toContainText('seed 1')

  // A single run: its Wilson interval (50 % of 500: [45.6, 54.4]) and n in the tooltip.
  const randomId = RUNS[0]!.id
  await expect(page.getByTestId(`ci-${randomId}-${key}`)).toHaveText('[45.6, 54.4]')
  await expect(page.getByTestId(`cell-${randomId}-${key}`)).toHaveAttribute('title', /of 500 test images; 95 % Wilson interval 45\.6\d–54\.3\d %/)
  await expect(page.getByTestId('results-legend')).toContainText('Wilson intervals overlap')
  await expect(page.getByTestId('results-legend')).toContainText('Welch t-test gives p > 0.05')

  // Pin random init: RFD's one-point gain is inside the noise, RotNet's is not.
  await page.getByTestId(`pin-${randomId}`).click()
  const rfd = page.getByTestId(`cell-${RUNS[1]!.id}-${key}`)
  await expect(rfd).toHaveClass(/noise/)
  await expect(rfd).toContainText('≈')
  await expect(page.getByTestId(`rel-${RUNS[1]!.id}-${key}`)).toHaveText('+2.0 % rel.')
  await expect(page.getByTestId(`cell-g-20250101-rotnet-${key}`)).not.toHaveClass(/noise/)
  await expect(page.getByTestId(`cell-g-20250101-rotnet-${key}`)).toHaveClass(/best/)
  await page.getByTestId('diff-pts').click()
  await expect(page.getByTestId(`rel-${RUNS[1]!.id}-${key}`)).toHaveText('+1.0 pts')

  await page.getByTestId('format-latex').click()
  const tex = (await page.getByTestId('export-text').textContent())!
  for (const rule of ['\\toprule', '\\midrule', '\\bottomrule', '\\cmidrule(lr){2-5}', '\\multicolumn{4}{c}{sample}']) expect(tex).toContain(rule)
  expect(tex).toMatch(/RotNet \(3 seeds\) & \\textbf\{43\.0\} \$\\pm\$ 1\.0 \(\+13\.0 pts\)/)
  expect(tex).not.toContain('\\hline')
  await page.getByTestId('format-markdown').click()
  await expect(page.getByTestId('export-text')).toContainText('| RotNet (3 seeds) | **43.0** ± 1.0 (+13.0 pts) |')
  await page.screenshot({ path: info.outputPath('compare-results.png'), fullPage: true })
  expect(problems).toEqual([])
})

test('New run: the Seeds field reads a list or a count and blocks launching on a bad one', async ({ page }) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-seeds-'))
  host = await startServe(path.join(root, 'cfg'), path.join(root, 'ws'))
  await page.goto(host.url + '#/new')
  const seeds = page.getByTestId('run-seeds')
  await seeds.fill('0,1,2')
  await expect(page.getByTestId('run-seeds-help')).toContainText('3 runs, seeds 0, 1, 2')
  await expect(page.getByTestId('launch')).toHaveText('Launch 3 runs')
  await seeds.fill('4')
  await expect(page.getByTestId('run-seeds-help')).toContainText('seeds 0, 1, 2, 3')
  await seeds.fill('1,1')
  await expect(page.getByTestId('run-seeds-help')).toHaveText('Seeds: 1 appears twice.')
  await expect(page.getByTestId('launch')).toBeDisabled()
})
