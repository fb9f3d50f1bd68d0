// Shared steps of the researcher-UI tests: they drive the real UI (web host in Chromium, or the
// Electron app where its binary exists) through the same flows, with tiny real runs.
import { expect, type Page } from '@playwright/test'

/** Console errors and page errors (a CSP violation shows up here too). */
export function collectProblems(page: Page): string[] {
  const problems: string[] = []
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text())
  })
  page.on('pageerror', (e) => problems.push(e.message))
  return problems
}

export interface TinyRun {
  name: string
  epochs: number
  seed?: number
}

/** Set a generated form field by its config path ("pretrain.batchSize"). */
export async function setField(page: Page, path: string, value: string): Promise<void> {
  const el = page.getByTestId(`field-${path}`)
  const tag = await el.evaluate((e) => e.tagName.toLowerCase())
  if (tag === 'select') await el.selectOption(value)
  else await el.fill(value)
}

/**
 * Fill the New-run form by hand with a run that takes seconds: the built-in sample at 4 images per
 * class and 32 px, a 1/16-width AlexNet, the wasm backend, batch 10.
 */
export async function fillTinyRun(page: Page, run: TinyRun): Promise<void> {
  await setField(page, 'name', run.name)
  await setField(page, 'seed', String(run.seed ?? 1))
  await setField(page, 'backend', 'wasm')
  await setField(page, 'dataset.kind', 'sample')
  await setField(page, 'dataset.perClass', '4')
  await setField(page, 'dataset.testPerClass', '2')
  await setField(page, 'dataset.size', '32')
  await setField(page, 'backbone.arch', 'alexnet32')
  await setField(page, 'backbone.width', '0.0625')
  await setField(page, 'pretrain.epochs', String(run.epochs))
  await setField(page, 'pretrain.batchSize', '10')
  await setField(page, 'evaluation.linear.epochs', '2')
  await setField(page, 'evaluation.linear.batchSize', '10')
  await setField(page, 'evaluation.knn.k', '5')
}

/** The run id of the row whose name is `name` in the Runs view. */
export async function runIdByName(page: Page, name: string): Promise<string> {
  const row = page.locator(`tr[data-name="${name}"]`).first()
  await expect(row).toBeVisible()
  const tid = await row.getAttribute('data-testid')
  return tid!.replace(/^run-row-/, '')
}

/**
 * CPU time (ms) of each task the renderer's main thread ran while tracing ('toplevel' trace
 * events carry both wall time `dur` and thread time `tdur`).
 */
function mainThreadTasks(trace: Buffer): { wall: number; cpu: number }[] {
  const parsed = JSON.parse(trace.toString('utf8')) as { traceEvents?: TraceEvent[] } | TraceEvent[]
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? [])
  const main = new Set(events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map((e) => `${e.pid}:${e.tid}`))
  return events
    .filter((e) => e.ph === 'X' && e.name === 'ThreadControllerImpl::RunTask' && main.has(`${e.pid}:${e.tid}`))
    .map((e) => ({ wall: (e.dur ?? 0) / 1000, cpu: (e.tdur ?? e.dur ?? 0) / 1000 }))
}
interface TraceEvent {
  ph: string
  name: string
  pid: number
  tid: number
  dur?: number
  tdur?: number
  args?: { name?: string }
}

/**
 * Run `during` and assert that the page's main thread never blocked for 50 ms: no long task
 * (PerformanceObserver 'longtask', wall time) of 50 ms or more. On a machine so loaded that the
 * renderer is not scheduled for a while, a task can last 50 ms of wall time while the page did
 * far less work; there (Chromium only) the trace's thread CPU time of the renderer's tasks
 * decides, and the test says so in its output.
 */
export async function expectNoLongTasks(page: Page, what: string, during: () => Promise<void>): Promise<void> {
  const browser = page.context().browser()
  await startLongTasks(page)
  if (browser)
    await browser.startTracing(page, {
      categories: process.env.QT_TRACE_ALL
        ? ['toplevel', 'devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'disabled-by-default-v8.gc', 'blink']
        : ['toplevel']
    })
  await during()
  const trace = browser ? await browser.stopTracing() : null
  if (trace && process.env.QT_TRACE_ALL) (await import('node:fs')).writeFileSync(process.env.QT_TRACE_ALL, trace)
  const wall = await longTasks(page)
  const tasks = trace ? mainThreadTasks(trace) : []
  const worstWall = Math.max(0, ...wall)
  const worstCpu = Math.max(0, ...tasks.map((t) => t.cpu))
  const worstTask = Math.max(0, ...tasks.map((t) => t.wall))
  console.log(
    `${what}: long tasks (wall ms) [${wall.map((t) => t.toFixed(0)).join(', ')}]; worst main-thread task ${worstTask.toFixed(1)} ms wall, most CPU in one ${worstCpu.toFixed(1)} ms, over ${tasks.length} tasks`
  )
  if (worstWall < 50 || !trace) {
    expect(worstWall, `${what}: long tasks ${wall.join(', ')} ms`).toBeLessThan(50)
    return
  }
  console.log(`${what}: a task took ${worstWall.toFixed(0)} ms of wall time; the machine is loaded, so its CPU time decides`)
  expect(worstCpu, `${what}: a main-thread task used ${worstCpu.toFixed(1)} ms of CPU (long tasks ${wall.join(', ')} ms)`).toBeLessThan(50)
}

/** Start recording long tasks (PerformanceObserver 'longtask') on the page. */
export async function startLongTasks(page: Page): Promise<void> {
  await page.evaluate(() => {
    // Test code compiles without DOM types: reach the page's globals through globalThis.
    interface Entry {
      duration: number
    }
    interface Observer {
      observe(o: { type: string }): void
      disconnect(): void
    }
    type ObserverCtor = new (cb: (list: { getEntries(): Entry[] }) => void) => Observer
    const w = globalThis as unknown as { __longTasks: number[]; __ltObserver?: Observer; PerformanceObserver: ObserverCtor }
    w.__longTasks = []
    w.__ltObserver?.disconnect()
    w.__ltObserver = new w.PerformanceObserver((list) => {
      for (const e of list.getEntries()) w.__longTasks.push(e.duration)
    })
    w.__ltObserver.observe({ type: 'longtask' })
  })
}

/** Durations (ms) of the long tasks since startLongTasks. */
export async function longTasks(page: Page): Promise<number[]> {
  return page.evaluate(() => (globalThis as unknown as { __longTasks: number[] }).__longTasks.slice())
}

export async function chartPoints(page: Page, testid: string): Promise<number> {
  return Number((await page.getByTestId(testid).first().getAttribute('data-points')) ?? 0)
}

export async function setTheme(page: Page, theme: 'light' | 'dark'): Promise<void> {
  await page.locator('html').evaluate((el, t) => ((el as unknown as { dataset: Record<string, string> }).dataset.theme = t), theme)
}

/** The page scrolls sideways (something does not fit the window). */
export async function horizontalOverflow(page: Page): Promise<number> {
  return page.locator('html').evaluate((el) => {
    const e = el as unknown as { scrollWidth: number; clientWidth: number }
    return e.scrollWidth - e.clientWidth
  })
}

/** RFC 4180 CSV (quoted fields with commas, doubled quotes) into rows of cells. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let cell = ''
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"'
        i++
      } else if (ch === '"') quoted = false
      else cell += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      row.push(cell)
      cell = ''
    } else if (ch === '\n') {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ''
    } else cell += ch
  }
  if (cell || row.length) rows.push([...row, cell])
  return rows
}

/** How far an element's content overflows its box sideways (0 when it fits). */
export async function sidewaysOverflow(page: Page, testid: string): Promise<number> {
  return page.getByTestId(testid).evaluate((el) => {
    const box = (el as unknown as { parentElement: { scrollWidth: number; clientWidth: number } }).parentElement
    return box.scrollWidth - box.clientWidth
  })
}
