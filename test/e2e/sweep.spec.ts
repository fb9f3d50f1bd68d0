// Sweeps in Debian's Chromium against the web host. The New-run form's Sweep section offers the
// config's numeric settings, counts the runs a grid makes with the seeds, and blocks launching on
// a value the run schema refuses, naming the grid point. The Runs view shows the selected run's
// sweep as one row per grid point with the mean ± sd over its finished seeds (a point still
// waiting on a seed says so), and each run's point beside its name.
import { test, expect } from '@playwright/test'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startServe, type RunningHost } from './web-host'
import { collectProblems } from './ui-helpers'
import { RunConfigSchema } from '../../src-shared/config/run'
import type { RunSweep } from '../../src-shared/sweep'
import { runStatus } from '../helpers/run-status'

let host: RunningHost | null = null
test.afterEach(async () => {
  await host?.stop()
  host = null
})

const DATASET = 'sample (10 classes, 64px, seed 1)'
const SWEEP = 's-20250101-000000-abcdef'
const LABEL = 'pretrain.method.lambdaMse ∈ {0.5, 2} × seeds 0, 1'

/** A sweep run's folder as the runs service loads it; accuracy null: paused before its evaluations. */
function writeRun(ws: string, i: number, lambda: number, seed: number, accuracy: number | null): string {
  const id = `20250101-00000${i}-rfd-sweep-${String(i).padStart(4, '0')}`
  const dir = path.join(ws, 'runs', id)
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true })
  mkdirSync(path.join(dir, 'checkpoints'), { recursive: true })
  const created = new Date(Date.UTC(2025, 0, 1, 0, i)).toISOString()
  const config = RunConfigSchema.parse({ name: 'rfd-sweep', seed, pretrain: { method: { method: 'rfd', lambdaMse: lambda } } })
  const index = lambda === 0.5 ? 1 : 2
  const sweep: RunSweep = { id: SWEEP, label: LABEL, index, points: 2, point: [{ path: 'pretrain.method.lambdaMse', value: lambda }] }
  const run = {
    id,
    name: 'rfd-sweep',
    preset: null,
    createdAt: created,
    config,
    configHash: `hash${i}`,
    seed,
    versions: { app: 'test' },
    datasets: [],
    group: `${SWEEP}-p${index}`,
    sweep
  }
  writeFileSync(path.join(dir, 'run.json'), JSON.stringify(run))
  const status = runStatus({ state: accuracy === null ? 'paused' : 'done', createdAt: created, startedAt: created, endedAt: created })
  writeFileSync(path.join(dir, 'status.json'), JSON.stringify(status))
  const classes = Array.from({ length: 10 }, (_, k) => `class ${k}`)
  const evaluations =
    accuracy === null
      ? []
      : [
          {
            id: `linear:${DATASET}`,
            protocol: 'linear',
            dataset: DATASET,
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
  return id
}

test('Sweeps: the form counts and checks the grid; the Runs view shows one row per point with mean ± sd', async ({ page }, info) => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-sweep-'))
  const ws = path.join(root, 'ws')
  const ids = [writeRun(ws, 1, 0.5, 0, 0.4), writeRun(ws, 2, 0.5, 1, 0.42), writeRun(ws, 3, 2, 0, 0.5), writeRun(ws, 4, 2, 1, null)]
  host = await startServe(path.join(root, 'cfg'), ws)
  const problems = collectProblems(page)

  await page.goto(`${host.url}#/runs?run=${ids[0]}`)
  const table = page.getByTestId('sweep-table')
  await expect(table).toContainText(`Sweep: ${LABEL}`, { timeout: 20_000 })
  await expect(table).toContainText('3 of 4 runs done')
  await expect(page.getByTestId('sweep-row-1')).toHaveText(/0\.5\s*2\/2\s*41\.00 ± 1\.41/)
  await expect(page.getByTestId('sweep-row-2')).toHaveText(/2\s*1\/2\s*50\.00/)
  await expect(page.getByTestId(`sweep-point-${ids[3]}`)).toHaveText('lambdaMse=2 · seed 1')
  await page.screenshot({ path: info.outputPath('sweep-runs.png'), fullPage: true })

  await page.goto(host.url + '#/new')
  await page.getByTestId('run-seeds').fill('0,1,2')
  await page.getByTestId('sweep-add').click()
  await page.getByTestId('sweep-path-0').selectOption('pretrain.batchSize')
  await page.getByTestId('sweep-values-0').fill('32,64')
  await expect(page.getByTestId('sweep-help')).toContainText('2 grid points × 3 seeds = 6 runs')
  await expect(page.getByTestId('launch')).toHaveText('Launch 6 runs (sweep)')
  await page.getByTestId('sweep-add').click()
  await page.getByTestId('sweep-path-1').selectOption('backbone.width')
  await page.getByTestId('sweep-values-1').fill('0.25, 0.5')
  await expect(page.getByTestId('sweep-help')).toContainText('4 grid points × 3 seeds = 12 runs')
  // Only two settings vary at once.
  await expect(page.getByTestId('sweep-add')).toHaveCount(0)
  await page.getByTestId('sweep').screenshot({ path: info.outputPath('sweep-form.png') })
  await page.getByTestId('sweep-values-0').fill('32,1')
  await expect(page.getByTestId('sweep-help')).toContainText('grid point 3 of 4 (pretrain.batchSize=1, backbone.width=0.25')
  await expect(page.getByTestId('launch')).toBeDisabled()
  await page.getByTestId('sweep-remove-1').click()
  await page.getByTestId('sweep-remove-0').click()
  await expect(page.getByTestId('launch')).toHaveText('Launch 3 runs')
  expect(problems).toEqual([])
})
