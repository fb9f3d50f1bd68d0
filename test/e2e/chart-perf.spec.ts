// A chart with 100 000 points stays interactive: a finished run with 100 000 metric records (as a
// long pretraining leaves on disk) is opened at full resolution; hovering for tooltips and
// toggling series must not block the main thread for 50 ms.
import { test, expect } from '@playwright/test'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { RunConfigSchema } from '../../src-shared/config/run'
import { startServe, type RunningHost } from './web-host'
import { chartPoints, collectProblems, expectNoLongTasks } from './ui-helpers'

const STEPS = 100_000

/** A run folder the runs service loads at boot: run.json, status.json, metrics.jsonl. */
function writeLongRun(workspace: string, id: string): void {
  const dir = path.join(workspace, 'runs', id)
  mkdirSync(path.join(dir, 'checkpoints'), { recursive: true })
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true })
  const config = RunConfigSchema.parse({ name: 'long run', pretrain: { epochs: 200 } })
  const created = new Date(Date.now() - 3_600_000).toISOString()
  writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({
      id,
      name: 'long run',
      preset: null,
      createdAt: created,
      config,
      configHash: '0123456789abcdef',
      seed: 1,
      versions: { app: 'test' },
      datasets: []
    })
  )
  writeFileSync(
    path.join(dir, 'status.json'),
    JSON.stringify({
      state: 'done',
      stage: 'pretrain',
      epoch: 200,
      epochs: 200,
      step: STEPS,
      steps: STEPS,
      etaSec: null,
      backend: 'wasm',
      error: null,
      errorStage: null,
      createdAt: created,
      startedAt: created,
      endedAt: new Date().toISOString(),
      wallMs: 3_500_000
    })
  )
  const lines: string[] = []
  let x = 1
  for (let s = 0; s < STEPS; s++) {
    // Noisy decreasing curves, deterministic.
    x = (x * 1103515245 + 12345) % 2147483648
    const noise = x / 2147483648 - 0.5
    const ce = 1.4 * Math.exp(-s / 20000) + 0.1 * noise
    const acc = Math.min(1, 0.25 + 0.7 * (1 - Math.exp(-s / 15000)) + 0.05 * noise)
    lines.push(
      JSON.stringify({
        stage: 'pretrain',
        epoch: Math.floor(s / 500),
        step: s,
        lr: s < 50000 ? 0.01 : 0.001,
        ms: 40,
        imagesPerSec: 1600 + 200 * noise,
        loss: ce,
        ce,
        acc_rot: acc,
        acc_r0: acc,
        acc_r1: acc * 0.98,
        acc_r2: acc * 0.97,
        acc_r3: acc * 0.99,
        t: 0
      })
    )
  }
  writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n')
}

let host: RunningHost | null = null
test.afterEach(async () => {
  await host?.stop()
  host = null
})

test('a chart with 100 000 points stays interactive', async ({ page }, info) => {
  test.setTimeout(90_000)
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-perf-'))
  const workspace = path.join(root, 'ws')
  const id = '20250101-000000-long-run-abcd'
  writeLongRun(workspace, id)
  host = await startServe(mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-')), workspace)
  const problems = collectProblems(page)

  await page.goto(host.url + `#/runs/${id}`)
  await expect(page.getByTestId('run-title')).toContainText('long run')
  await page.getByTestId('resolution').selectOption('200000')
  // loss + rotation CE: two series of 100 000 points each.
  await expect.poll(() => chartPoints(page, 'chart-loss'), { timeout: 45_000 }).toBe(2 * STEPS)
  await expect.poll(() => chartPoints(page, 'chart-accuracy'), { timeout: 10_000 }).toBe(5 * STEPS)
  await page.waitForTimeout(500)

  const chart = page.getByTestId('chart-loss').locator('canvas')
  const box = (await chart.boundingBox())!
  const legend = page.getByTestId('legend-acc_r1')
  await expectNoLongTasks(page, '100 000-point charts', async () => {
    // Sweep the pointer across the curve: tooltips follow it.
    for (let i = 0; i <= 30; i++) await page.mouse.move(box.x + (box.width * i) / 30, box.y + box.height / 2)
    // Hide and show a series, twice.
    for (let i = 0; i < 2; i++) {
      await legend.click()
      await expect(legend).toHaveAttribute('aria-pressed', 'false')
      await legend.click()
      await expect(legend).toHaveAttribute('aria-pressed', 'true')
    }
    await page.waitForTimeout(300)
  })
  await expect(page.getByTestId('chart-loss')).toHaveAttribute('data-drawn', /^\d+$/)
  expect(Number(await page.getByTestId('chart-loss').getAttribute('data-drawn'))).toBeLessThan(4000)
  await page.screenshot({ path: info.outputPath('chart-100k.png') })
  expect(problems).toEqual([])
})
