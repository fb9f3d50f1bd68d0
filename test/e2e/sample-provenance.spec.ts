// The sample and a run's provenance in Debian's Chromium against the web host. A run whose
// rotation accuracy saturated within its first epoch says so on its page (the pretext task may
// be solvable from a low-level cue); one that learnt over its epochs does not. A run's Provenance
// lists the fingerprint of every dataset and split it read, transfer datasets included. A fresh
// workspace's New-run form trains on the sample before it exists; a dataset's page opens the form
// with that dataset.
import { test, expect } from '@playwright/test'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { RunConfigSchema } from '../../src-shared/config/run'
import { SAMPLE_CLASSES } from '../../src-shared/sample-dataset'
import { startServe, type RunningHost } from './web-host'
import { collectProblems } from './ui-helpers'

const STEPS_PER_EPOCH = 20

/** A finished RotNet run on the sample with a transfer evaluation on cifar-10, written as the engine writes one. */
function writeRun(ws: string, id: string, name: string, accAt: (step: number) => number): void {
  const dir = path.join(ws, 'runs', id)
  mkdirSync(path.join(dir, 'checkpoints'), { recursive: true })
  mkdirSync(path.join(dir, 'artifacts'), { recursive: true })
  const config = RunConfigSchema.parse({
    name,
    dataset: { kind: 'dataset', id: 'sample' },
    pretrain: { epochs: 3 },
    evaluation: { transfer: [{ kind: 'dataset', id: 'cifar-10' }] }
  })
  const created = new Date(Date.now() - 600_000).toISOString()
  const fp = (label: string, split: string, images: number, c: string) => ({ label, split, images, sha256: c.repeat(64) })
  const dataFingerprints = [
    fp('sample', 'train', 2000, 'a'),
    fp('sample', 'test', 500, 'b'),
    fp('cifar-10', 'train', 50000, 'c'),
    fp('cifar-10', 'test', 10000, 'd')
  ]
  writeFileSync(
    path.join(dir, 'run.json'),
    JSON.stringify({
      id,
      name,
      preset: null,
      createdAt: created,
      config,
      configHash: id.slice(-16).padStart(16, '0'),
      seed: 1,
      versions: { app: 'test' },
      datasets: [],
      dataFingerprints
    })
  )
  writeFileSync(
    path.join(dir, 'status.json'),
    JSON.stringify({
      state: 'done',
      stage: 'evaluate',
      epoch: 3,
      epochs: 3,
      step: 60,
      steps: 60,
      etaSec: null,
      backend: 'wasm',
      error: null,
      errorStage: null,
      createdAt: created,
      startedAt: created,
      endedAt: created,
      wallMs: 60_000
    })
  )
  const lines = Array.from({ length: 3 * STEPS_PER_EPOCH }, (_, s) =>
    JSON.stringify({
      stage: 'pretrain',
      epoch: Math.floor(s / STEPS_PER_EPOCH),
      step: s + 1,
      lr: 0.03,
      ms: 40,
      imagesPerSec: 1000,
      loss: 1.4 * (1 - accAt(s)) + 0.01,
      ce: 1.4 * (1 - accAt(s)) + 0.01,
      acc_rot: accAt(s),
      t: Date.parse(created) + s * 1000
    })
  )
  writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n')
  const evaluation = (dataset: string, transfer: boolean) => ({
    id: `linear:${dataset}`,
    protocol: 'linear',
    dataset,
    transfer,
    layer: 'conv5',
    accuracy: 0.6,
    perClass: SAMPLE_CLASSES.map(() => 0.6),
    confusion: SAMPLE_CLASSES.map((_, i) => SAMPLE_CLASSES.map((_, j) => (i === j ? 30 : j === (i + 1) % 10 ? 20 : 0))),
    classNames: [...SAMPLE_CLASSES],
    trainImages: 2000,
    testImages: 500
  })
  writeFileSync(path.join(dir, 'artifacts', 'results.json'), JSON.stringify({ evaluations: [evaluation('sample', false), evaluation('cifar-10', true)] }))
}

let host: RunningHost | null = null
test.afterEach(async () => {
  await host?.stop()
  host = null
})

test('a run that solved rotation in its first epoch is flagged; Provenance lists every dataset and split, transfer included', async ({ page }, info) => {
  const ws = path.join(mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-ws-')), 'Quarterturn')
  writeRun(ws, '20260101-000000-on-a-cue-aa11', 'on a cue', (s) => (s < 2 ? 0.3 : 1))
  writeRun(ws, '20260101-000001-on-shapes-bb22', 'on shapes', (s) => Math.min(0.97, 0.25 + (0.72 * s) / (2 * STEPS_PER_EPOCH)))
  host = await startServe(mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-')), ws)
  const problems = collectProblems(page)

  await page.goto(`${host.url}#/runs/20260101-000000-on-a-cue-aa11`)
  await expect(page.getByTestId('saturation-warning')).toContainText('the pretext task may be solvable from a low-level cue')
  await expect(page.getByTestId('saturation-warning')).toContainText('Pretext accuracy (acc_rot) was already 100.0% in the first epoch (from step 3)')
  await page.screenshot({ path: info.outputPath('run-saturated.png') })
  await page.getByTestId('tab-config').click()
  await expect(page.getByTestId('data-fingerprint')).toHaveCount(4)
  const provenance = page.locator('dl.facts')
  for (const line of ['sample · train', 'sample · test', 'cifar-10 · train (transfer)', 'cifar-10 · test (transfer)'])
    await expect(provenance).toContainText(line)
  await expect(provenance).toContainText('50000 images')
  await page.screenshot({ path: info.outputPath('run-provenance.png'), fullPage: true })

  await page.goto(`${host.url}#/runs/20260101-000001-on-shapes-bb22`)
  await expect(page.getByTestId('run-title')).toContainText('on shapes')
  await expect(page.getByTestId('tab-curves')).toBeVisible()
  await expect(page.getByTestId('saturation-warning')).toHaveCount(0)
  expect(problems).toEqual([])
})

test('the New-run form trains on the sample before it exists; a dataset’s page opens the form with it', async ({ page }, info) => {
  test.setTimeout(120_000)
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-'))
  const ws = path.join(mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-ws-')), 'Quarterturn')
  host = await startServe(configDir, ws)
  const problems = collectProblems(page)
  await page.goto(`${host.url}#/new`)
  const id = page.getByTestId('field-dataset.id')
  await expect(id).toHaveValue('sample')
  await expect(id.locator('option:checked')).toContainText('Sample: ten drawn classes — 2500 images, drawn when the run is created')
  await expect(page.getByTestId('plan')).toContainText('the sample (train / test), drawn when the run is created')
  await expect(page.getByTestId('plan')).toContainText('5 epochs × 32 steps')
  await page.screenshot({ path: info.outputPath('new-run-sample.png') })
  // Leave the page first: a tab whose host went away keeps trying to reconnect (console errors).
  await page.goto('about:blank')
  await host.stop()

  // A small sample registered from the command line, then "Train on this dataset" on its page.
  execFileSync(process.execPath, [path.resolve('bin/quarterturn.js'), 'dataset', 'add', '--sample', '--per-class', '4', '--config-dir', configDir], {
    env: { ...process.env, QUARTERTURN_WORKSPACE: ws },
    stdio: 'ignore'
  })
  host = await startServe(configDir, ws)
  await page.goto(`${host.url}#/datasets/sample`)
  await expect(page.getByTestId('dataset-title')).toContainText('ready')
  await page.getByTestId('train-on-dataset').click()
  await expect(page).toHaveURL(/#\/new$/)
  await expect(id).toHaveValue('sample')
  await expect(page.getByTestId('field-dataset.trainSplit')).toHaveValue('train')
  await expect(page.getByTestId('field-dataset.testSplit')).toHaveValue('test')
  await expect(page.getByTestId('plan')).toContainText('Sample: ten drawn classes (train / test)')
  await page.screenshot({ path: info.outputPath('new-run-from-dataset.png') })
  expect(problems).toEqual([])
})
