// A Quarterturn host in a process of its own, for tests of several processes on one workspace.
// argv: workspace, config folder, then run configs as JSON. It allows one run at a time, creates
// the runs (the first trains, the rest queue), prints their ids as one JSON line and serves the
// queue until it is killed.
import path from 'node:path'
import { createHeadlessHost } from '../../src-host/headless'

const [ws, configDir, ...configs] = process.argv.slice(2)
const host = createHeadlessHost({
  configDir,
  defaultWorkspace: ws,
  runWorker: { entry: path.resolve('src-engine/run-worker.ts'), execArgv: ['--import', 'tsx'] }
})
await host.call('settings.update', { maxConcurrentRuns: 1 })
const ids: string[] = []
for (const c of configs) ids.push((await host.call('runs.create', { config: JSON.parse(c!), preset: null })).id)
process.stdout.write(JSON.stringify({ ids }) + '\n')
setInterval(() => {}, 60_000)
