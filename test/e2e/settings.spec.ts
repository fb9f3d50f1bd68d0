// The built UI in Debian's Chromium against the real web host: a setting saved through the UI
// survives a restart of the host; requests without the token are refused.
import { test, expect, type Page } from '@playwright/test'
import { mkdtempSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { startServe, type RunningHost } from './web-host'

function collectProblems(page: Page): string[] {
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text())
  })
  page.on('pageerror', (e) => problems.push(e.message))
  return problems
}

let host: RunningHost | null = null
test.afterEach(async () => {
  await host?.stop()
  host = null
})

test('a setting saved in the UI survives a restart of the host', async ({ page }, info) => {
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-'))
  const workspace = path.join(mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-ws-')), 'Quarterturn')
  host = await startServe(configDir, workspace)
  const problems = collectProblems(page)

  await page.goto(host.url)
  await expect(page.getByTestId('workspace-path')).toHaveText(workspace)
  await expect(page.getByTestId('workspace-free')).toContainText('free of')
  await expect(page.getByTestId('backends')).toContainText('wasm')
  // The token is moved out of the address bar once read.
  expect(page.url()).not.toContain('token=')
  await page.screenshot({ path: info.outputPath('workspace.png') })

  await page.getByTestId('nav-settings').click()
  await page.getByTestId('setting-max-runs').fill('12')
  await expect(page.getByTestId('error-max-runs')).toContainText('1 to 8')
  await expect(page.getByTestId('settings-save')).toBeDisabled()
  await page.getByTestId('setting-max-runs').fill('3')
  await page.getByTestId('setting-theme').selectOption('dark')
  await page.getByTestId('settings-save').click()
  await expect(page.getByTestId('settings-status')).toHaveText('Saved.')
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark')
  await page.screenshot({ path: info.outputPath('settings-dark.png') })
  expect(problems).toEqual([])

  await host.stop()
  await expect(page.getByTestId('connection')).toBeVisible()
  host = await startServe(configDir, workspace)
  const page2 = await page.context().newPage()
  const problems2 = collectProblems(page2)
  await page2.goto(host.url + '#/settings')
  await expect(page2.getByTestId('setting-theme')).toHaveValue('dark')
  await expect(page2.getByTestId('setting-max-runs')).toHaveValue('3')
  await expect(page2.locator('html')).toHaveAttribute('data-theme', 'dark')
  expect(problems2).toEqual([])
})

test('choosing a workspace folder in the UI creates it', async ({ page }) => {
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-'))
  const root = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-ws-'))
  host = await startServe(configDir, path.join(root, 'default'))
  await page.goto(host.url)
  const chosen = path.join(root, 'chosen', 'lab')
  await page.getByTestId('workspace-input').fill(chosen)
  await page.getByTestId('workspace-open').click()
  await expect(page.getByTestId('workspace-message')).toContainText(`Workspace ready at ${chosen}`)
  await expect(page.getByTestId('workspace-path')).toHaveText(chosen)
  await page.getByTestId('workspace-input').fill('relative/path')
  await page.getByTestId('workspace-open').click()
  await expect(page.getByTestId('workspace-message')).toContainText('not absolute')
})

test('requests without the token are refused', async ({ page, request }) => {
  const configDir = mkdtempSync(path.join(os.tmpdir(), 'qt-e2e-cfg-'))
  host = await startServe(configDir, path.join(configDir, 'ws'))
  const plain = await request.get(host.base + '/')
  expect(plain.status()).toBe(401)
  const asset = await request.get(host.base + '/index.html?token=not-the-token')
  expect(asset.status()).toBe(401)

  // A page served without the token cannot open the API socket either.
  const res = await page.goto(host.base + '/')
  expect(res?.status()).toBe(401)
  await expect(page.locator('body')).toContainText('missing or wrong access token')
  const wsBase = host.base.replace('http', 'ws')
  const outcome = await page.evaluate(
    (u) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(u)
        ws.onopen = () => resolve('open')
        ws.onerror = () => resolve('refused')
      }),
    wsBase + '/api'
  )
  expect(outcome).toBe('refused')
})
