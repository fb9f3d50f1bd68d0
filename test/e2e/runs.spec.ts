// The researcher's run flows in Debian's Chromium against the real web host, with real tiny runs
// (the training worker runs on the host): fill the New-run form with an invalid value and read
// the message, launch, watch the live charts receive points with no long task on the main
// thread, pause and resume, read evaluations and rotation previews, then compare two runs against
// a pinned baseline and export the table as CSV. The flows themselves are in flows.ts.
import { test, expect } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startServe, type RunningHost } from './web-host'
import { compare, launchWatchPauseResume, runDetail, runFromTemplate, type Go } from './flows'
import { chartPoints, collectProblems, runIdByName, setField, sidewaysOverflow } from './ui-helpers'

test.describe.configure({ mode: 'serial' })

let host: RunningHost
let runA = ''
let runB = ''

test.beforeAll(async () => {
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-'))
  const workspace = path.join(mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-ws-')), 'Quarterturn')
  host = await startServe(configDir, workspace)
})
test.afterAll(async () => {
  await host?.stop()
})

test('new run: an invalid value shows its message; launch streams points without long tasks; pause and resume', async ({ page }, info) => {
  test.setTimeout(150_000)
  const problems = collectProblems(page)
  const go: Go = (hash) => page.goto(host.url + hash).then(() => {})
  runA = await launchWatchPauseResume(page, go, info, 'tiny A')
  expect(problems).toEqual([])
})

test('run detail: curves, evaluations with per-class accuracy and confusion, rotation previews, checkpoints', async ({ page }, info) => {
  test.setTimeout(60_000)
  const problems = collectProblems(page)
  const go: Go = (hash) => page.goto(host.url + hash).then(() => {})
  await runDetail(page, go, info, runA, 'tiny A')
  expect(problems).toEqual([])
})

test('compare: pin a baseline, read the relative improvement, sort, filter, diff configs, export CSV', async ({ page }, info) => {
  test.setTimeout(90_000)
  const problems = collectProblems(page)
  const go: Go = (hash) => page.goto(host.url + hash).then(() => {})
  runB = await runFromTemplate(page, go, runA, 'tiny A', 'tiny B')
  await compare(page, go, info, runA, 'tiny A', runB, true)
  expect(problems).toEqual([])
})

test('a run whose worker is killed is interrupted, and resumes from its checkpoint', async ({ page }, info) => {
  test.setTimeout(90_000)
  const go: Go = (hash) => page.goto(host.url + hash).then(() => {})
  await go(`#/runs/${runA}`)
  await page.getByTestId('tab-config').click()
  await page.getByTestId('use-template').click()
  await setField(page, 'name', 'tiny C')
  await setField(page, 'pretrain.epochs', '4')
  await page.getByTestId('launch').click()
  const id = await runIdByName(page, 'tiny C')
  const row = page.getByTestId(`run-row-${id}`)
  // Past the first epoch (4 steps, checkpointed), kill the training process: as if it ran out of memory.
  await expect.poll(() => chartPoints(page, 'chart-loss'), { timeout: 45_000 }).toBeGreaterThanOrEqual(2 * 6)
  const workers = execFileSync('pgrep', ['-P', String(host.proc.pid)], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .filter(Boolean)
  expect(workers.length).toBeGreaterThan(0)
  for (const pid of workers) process.kill(Number(pid), 'SIGKILL')
  await expect(row.getByTestId('state')).toHaveText('interrupted', { timeout: 20_000 })
  await expect(row).toContainText('stopped unexpectedly')
  await expect(page.getByTestId('selected-error')).toContainText('Resume continues from the last checkpoint')
  await page.screenshot({ path: info.outputPath('runs-interrupted.png') })
  expect(await sidewaysOverflow(page, 'runs-table'), 'the runs table fits 1280x800').toBeLessThanOrEqual(0)
  await page.getByTestId(`resume-${id}`).click()
  await expect(page.getByTestId('run-log')).toContainText('Resuming from checkpoint', { timeout: 30_000 })
  await expect(row.getByTestId('state')).toHaveText('done', { timeout: 60_000 })
})
