// The runs table in Debian's Chromium against the real web host: a run another process writes
// into the workspace appears in the open Runs page, and its state changes follow, without a
// reload; then the table: sort by an evaluation column, filter by text, method and tag, edit a
// run's tags and notes, select two runs and compare them, delete one.
import { test, expect, type Page } from '@playwright/test'
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { RunConfigSchema } from '../../src-shared/config/run'
import { createServer } from 'node:net'
import { startServe, type RunningHost } from './web-host'
import { collectProblems, sidewaysOverflow } from './ui-helpers'

test.describe.configure({ mode: 'serial' })

const LABEL = 'sample (10 classes, 32px, seed 1)'
let host: RunningHost
let workspace = ''

interface Made {
  id: string
  name: string
  method: 'rotnet' | 'simclr'
  linear: number
  state?: 'done' | 'running'
  tags?: string[]
}

/** A run folder as a training process leaves it (run.json, status.json, results), written from this process. */
function writeRun(r: Made): void {
  const dir = path.join(workspace, 'runs', r.id)
  mkdirSync(path.join(dir, 'checkpoints'), { recursive: true })
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true })
  const config = RunConfigSchema.parse({
    name: r.name,
    seed: 1,
    dataset: { kind: 'sample', size: 32, seed: 1 },
    backbone: { arch: 'alexnet32', width: 0.25 },
    pretrain: { method: { method: r.method }, epochs: 2, batchSize: 64 }
  })
  const createdAt = new Date().toISOString()
  writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({
      id: r.id,
      name: r.name,
      preset: null,
      createdAt,
      config,
      configHash: createHash('sha256').update(r.id).digest('hex').slice(0, 16),
      seed: 1,
      versions: { app: 'test' },
      datasets: []
    })
  )
  writeStatus(r.id, r.state ?? 'done')
  const evaluation = (protocol: 'linear' | 'knn', accuracy: number): Record<string, unknown> => ({
    id: `${protocol}:${LABEL}`,
    protocol,
    dataset: LABEL,
    transfer: false,
    layer: 'conv5',
    accuracy,
    perClass: [accuracy],
    confusion: [[1]],
    classNames: ['a'],
    trainImages: 100,
    testImages: 50
  })
  writeFileSync(
    path.join(dir, 'artifacts', 'results.json'),
    JSON.stringify({ evaluations: [evaluation('linear', r.linear), evaluation('knn', r.linear - 0.05)] })
  )
  if (r.tags) writeFileSync(path.join(dir, 'notes.json'), JSON.stringify({ tags: r.tags, notes: '' }))
}

function writeStatus(id: string, state: 'done' | 'running'): void {
  const now = new Date().toISOString()
  const status = {
    state,
    stage: state === 'done' ? 'evaluate' : 'pretrain',
    epoch: 1,
    epochs: 2,
    step: state === 'done' ? 20 : 7,
    steps: 20,
    etaSec: state === 'done' ? null : 30,
    backend: 'wasm',
    error: null,
    errorStage: null,
    createdAt: now,
    startedAt: now,
    endedAt: state === 'done' ? now : null,
    wallMs: 61_000
  }
  writeFileSync(path.join(workspace, 'runs', path.basename(id), 'status.json'), JSON.stringify(status))
}

const names = (page: Page): Promise<string[]> =>
  page.locator('[data-testid="runs-table"] tbody tr[data-name]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')!))

test.beforeAll(async () => {
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-'))
  workspace = path.join(mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-ws-')), 'Quarterturn')
  writeRun({ id: '20260101-000000-alpha-0001', name: 'alpha', method: 'rotnet', linear: 0.42, tags: ['baseline'] })
  writeRun({ id: '20260101-000000-bravo-0002', name: 'bravo', method: 'simclr', linear: 0.61 })
  writeRun({ id: '20260101-000000-charlie-0003', name: 'charlie', method: 'rotnet', linear: 0.55, tags: ['sweep'] })
  host = await startServe(configDir, workspace)
})
test.afterAll(async () => {
  await host?.stop()
})

test('a run another process creates appears in the open Runs page, and its state follows, without a reload', async ({ page }, info) => {
  const problems = collectProblems(page)
  await page.goto(host.url + '#/runs')
  await expect(page.locator('[data-testid="runs-table"] tbody tr[data-name]')).toHaveCount(3)
  // Marks this page load: a reload would lose it.
  await page.evaluate(() => ((globalThis as unknown as { loadMark: number }).loadMark = 1))
  const id = '20260101-000000-delta-0004'
  // Trained by this process, as far as the host can tell: it holds the run's lock.
  mkdirSync(path.join(workspace, 'runs', id), { recursive: true })
  const lock = path.join(workspace, 'runs', id, 'lock.json')
  writeFileSync(
    lock,
    JSON.stringify({ pid: process.pid, host: os.hostname(), owner: 'e2e', purpose: 'training', since: new Date().toISOString(), heartbeat: Date.now() })
  )
  writeRun({ id, name: 'delta', method: 'simclr', linear: 0.3, state: 'running' })
  const row = page.getByTestId(`run-row-${id}`)
  await expect(row).toBeVisible({ timeout: 10_000 })
  await expect(row.getByTestId('state')).toHaveText('running')
  // Running runs sit on top.
  expect((await names(page))[0]).toBe('delta')
  expect(await sidewaysOverflow(page, 'runs-table'), 'the runs table fits 1280x800').toBeLessThanOrEqual(0)
  writeStatus(id, 'done')
  rmSync(lock)
  await expect(row.getByTestId('state')).toHaveText('done', { timeout: 10_000 })
  expect(await page.evaluate(() => (globalThis as unknown as { loadMark?: number }).loadMark)).toBe(1)
  await page.screenshot({ path: info.outputPath('runs-live.png') })
  expect(problems).toEqual([])
})

test('runs table: sort by an evaluation, filter, tags and notes, select two and compare, delete', async ({ page }, info) => {
  const problems = collectProblems(page)
  await page.goto(host.url + '#/runs')
  await expect(page.locator('[data-testid="runs-table"] tbody tr[data-name]')).toHaveCount(4)
  const linear = `runs-sort-eval:linear:${LABEL}`
  await expect(page.getByTestId(linear)).toHaveText('linear · sample')
  await page.getByTestId(linear).click()
  expect(await names(page)).toEqual(['bravo', 'charlie', 'alpha', 'delta'])
  await page.getByTestId(linear).click()
  expect(await names(page)).toEqual(['delta', 'alpha', 'charlie', 'bravo'])
  await expect(page.getByTestId('run-row-20260101-000000-bravo-0002').getByTestId(`cell-eval:linear:${LABEL}`)).toHaveText('61.0 %')

  await page.getByTestId('filter-method').selectOption('rotnet')
  expect(await names(page)).toEqual(['alpha', 'charlie'])
  await page.getByTestId('filter-method').selectOption('')
  await page.getByTestId('filter-tag').selectOption('sweep')
  expect(await names(page)).toEqual(['charlie'])
  await page.getByTestId('filter-tag').selectOption('')
  await page.getByTestId('runs-filter').fill('brav')
  expect(await names(page)).toEqual(['bravo'])
  await page.getByTestId('runs-filter').fill('')

  // Tags and notes, kept in the run's folder.
  const bravo = '20260101-000000-bravo-0002'
  await page.getByTestId(`annotate-${bravo}`).click()
  await page.getByTestId('notes-tags').fill('contrastive, best')
  await page.getByTestId('notes-text').fill('Highest linear accuracy so far.')
  await page.getByTestId('notes-save').click()
  await expect(page.getByTestId(`run-row-${bravo}`).getByTestId('tag-best')).toBeVisible()
  // Selecting a run (which fetches its detail) keeps what the table shows of it.
  await page.getByTestId(`select-${bravo}`).click()
  await expect(page.getByTestId('selected-run')).toContainText('bravo')
  await expect(page.getByTestId(`run-row-${bravo}`).getByTestId('tag-best')).toBeVisible()
  await expect(page.getByTestId(`run-row-${bravo}`).getByTestId('cell-dataset')).toHaveText('sample')
  expect(JSON.parse(readFileSync(path.join(workspace, 'runs', bravo, 'notes.json'), 'utf8'))).toEqual({
    tags: ['contrastive', 'best'],
    notes: 'Highest linear accuracy so far.'
  })
  // The chosen columns are remembered.
  await page.getByTestId('columns-choice').locator('summary').click()
  await page.getByTestId('column-notes').check()
  await expect(page.getByTestId(`run-row-${bravo}`).getByTestId('cell-notes')).toHaveText('Highest linear accuracy so far.')
  await page.getByTestId('column-notes').uncheck()
  await page.getByTestId('column-backend').check()
  await page.reload()
  await expect(page.getByTestId(`run-row-${bravo}`).getByTestId('cell-backend')).toHaveText('wasm')
  await expect(page.getByTestId(`run-row-${bravo}`).getByTestId('cell-notes')).toHaveCount(0)
  await page.screenshot({ path: info.outputPath('runs-table.png') })

  // Two selected -> Compare shows exactly those.
  await page.getByTestId('pick-20260101-000000-alpha-0001').check()
  await page.getByTestId(`pick-${bravo}`).check()
  await expect(page.getByTestId('picked-count')).toHaveText('2 selected')
  await page.getByTestId('compare-selected').click()
  await expect(page).toHaveURL(/#\/compare/)
  const pickedIds = await page.evaluate(
    () =>
      JSON.parse((globalThis as unknown as { localStorage: { getItem(k: string): string | null } }).localStorage.getItem('compare.picked') ?? '[]') as string[]
  )
  expect(pickedIds.sort()).toEqual(['20260101-000000-alpha-0001', bravo])
  const results = page.getByTestId('results-table')
  await expect(results.getByTestId('result-row-20260101-000000-alpha-0001')).toBeVisible()
  await expect(results.getByTestId(`result-row-${bravo}`)).toBeVisible()
  await expect(results.locator('[data-testid^="result-row-"]')).toHaveCount(2)
  await page.screenshot({ path: info.outputPath('runs-compare-two.png') })

  // Delete, after the confirmation.
  await page.goto(host.url + '#/runs')
  const charlie = '20260101-000000-charlie-0003'
  await page.getByTestId(`pick-${charlie}`).check()
  page.once('dialog', (d) => void d.accept())
  await page.getByTestId('delete-selected').click()
  await expect(page.getByTestId(`run-row-${charlie}`)).toHaveCount(0)
  await expect(page.getByTestId('runs-notice')).toHaveText('Deleted 1 run.')
  expect(existsSync(path.join(workspace, 'runs', charlie))).toBe(false)
  expect(problems).toEqual([])
})

/** A port free right now (the restarted host must come back on the same one for the tab to reach it). */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

test('an open tab survives a host restart with the same token, and says what to do after --new-token', async ({ page }, info) => {
  test.setTimeout(90_000)
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-'))
  const port = String(await freePort())
  let served = await startServe(configDir, workspace, ['--port', port])
  try {
    await page.goto(served.url + '#/runs')
    await expect(page.locator('[data-testid="runs-table"] tbody tr[data-name]')).toHaveCount(3)
    await served.stop()
    await expect(page.getByTestId('connection')).toBeVisible()
    served = await startServe(configDir, workspace, ['--port', port])
    await expect(page.getByTestId('connection')).toHaveCount(0, { timeout: 15_000 })
    // Subscribed again: a run written now appears without a reload.
    writeRun({ id: '20260101-000000-echo-0005', name: 'echo', method: 'rotnet', linear: 0.5 })
    await expect(page.getByTestId('run-row-20260101-000000-echo-0005')).toBeVisible({ timeout: 10_000 })
    await served.stop()
    served = await startServe(configDir, workspace, ['--port', port, '--new-token'])
    await expect(page.getByTestId('connection')).toContainText('Open the URL that quarterturn serve printed', { timeout: 15_000 })
    await page.screenshot({ path: info.outputPath('runs-token-rotated.png') })
  } finally {
    await served.stop()
  }
})
