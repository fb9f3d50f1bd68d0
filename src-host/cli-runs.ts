// The run commands of the `quarterturn` CLI: run, list, show, resume, cancel, export. They
// drive the same RunsService as the app (in this process, or on a remote host through
// ./cli-host.ts); a run started here executes in a worker process while this process shows
// progress, and ends with the run.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { CliHost } from './cli-host'
import { PRESETS } from '../src-shared/config/run'
import type { RunSummary } from '../src-shared/contract/runs'
import { buildResultsTable, tableToCsv, tableToLatex, tableToMarkdown } from '../src-shared/results-table'
import { parseSeeds } from '../src-shared/seeds'
import { mean, sampleSd, wilson } from '../src-shared/stats'
import { ServiceError } from './errors'
import { resolveRunConfig } from './runs/service'
import { estimateRun, mainStep, runSizes } from '../src-shared/estimate'
import type { CliIO } from './cli'
import { SAMPLE_ID } from '../src-shared/sample-dataset'
import { resolveInitPath } from './cli-weights'

export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const

export interface RunCliOptions {
  preset?: string
  dataset?: string
  'eval-dataset'?: string[]
  epochs?: string
  json?: boolean
  'list-presets'?: boolean
  format?: string
  baseline?: string
  report?: boolean
  title?: string
  estimate?: boolean
  remeasure?: boolean
  seeds?: string
  diff?: string
}

function fmtDuration(sec: number | null): string {
  if (sec == null || !Number.isFinite(sec)) return '--'
  const s = Math.round(sec)
  return s >= 3600
    ? `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
    : s >= 60
      ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
      : `${s}s`
}

export function progressLine(r: RunSummary): string {
  const s = r.status
  const frac = s.steps ? Math.min(1, (s.step ?? 0) / s.steps) : 0
  const width = 24
  const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.')
  const where = s.steps ? `${s.stage} epoch ${(s.epoch ?? 0) + (frac >= 1 ? 0 : 1)}/${s.epochs} step ${s.step}/${s.steps}` : (s.stage ?? s.state)
  return `[${bar}] ${where}  ETA ${fmtDuration(s.etaSec)}`
}

export async function cmdRun(host: CliHost, positionals: string[], o: RunCliOptions, io: CliIO, isTty: boolean): Promise<number> {
  if (o['list-presets']) {
    for (const p of PRESETS) io.out(`${p.name}\t${p.description}`)
    return EXIT.ok
  }
  const file = positionals[0]
  if (!file && !o.preset) {
    io.err('quarterturn run: give a config file or --preset NAME (see --list-presets).')
    return EXIT.badInput
  }
  let config: Record<string, unknown> = {}
  if (file) {
    try {
      config = resolveInitPath(JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>, file)
    } catch (err) {
      io.err(`quarterturn run: cannot read ${file}: ${(err as Error).message}`)
      return EXIT.badInput
    }
  }
  if (o.epochs !== undefined) {
    const n = Number(o.epochs)
    if (!Number.isInteger(n) || n < 1) {
      io.err(`quarterturn run: --epochs must be a whole number of at least 1, got "${o.epochs}".`)
      return EXIT.badInput
    }
    config = { ...config, pretrain: { ...((config.pretrain as object) ?? {}), epochs: n } }
  }
  try {
    if (o.dataset !== undefined) config = { ...config, dataset: await datasetRefOf(host, o.dataset, io, o.json === true) }
    if (o['eval-dataset']?.length) {
      const evaluation = (config.evaluation as Record<string, unknown>) ?? {}
      const transfer: Record<string, unknown>[] = []
      for (const d of o['eval-dataset']) transfer.push(await datasetRefOf(host, d, io, o.json === true))
      config = { ...config, evaluation: { ...evaluation, transfer } }
    }
  } catch (err) {
    io.err(`quarterturn run: ${(err as Error).message}`)
    return EXIT.badInput
  }
  if (o.estimate) return cmdEstimate(host, config, o, io)
  if (!o.json) await noteSampleDrawing(host, config, o.preset ?? null, io)
  if (o.seeds !== undefined) return runGroup(host, config, o, io)
  let run: RunSummary
  try {
    run = await host.call('runs.create', { config, preset: o.preset ?? null })
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'invalid-argument') {
      io.err(`quarterturn run: ${err.message}`)
      return EXIT.badInput
    }
    throw err
  }
  if (!o.json) io.err(`Run ${run.id} (${run.name}) queued.`)
  let lastDraw = 0
  const off = host.onEvent((name, payload) => {
    if (name === 'runs.changed' && (payload as RunSummary).id === run.id && !o.json) {
      const now = Date.now()
      if (now - lastDraw < 200) return
      lastDraw = now
      const line = progressLine(payload as RunSummary)
      if (isTty) process.stderr.write(`\r${line}\x1b[K`)
    }
    if (name === 'runs.log' && (payload as { id: string }).id === run.id && !o.json) {
      const p = payload as { level: string; message: string }
      if (isTty) process.stderr.write('\r\x1b[K')
      io.err(`${p.level === 'info' ? '' : `${p.level}: `}${p.message}`)
    }
  })
  const onSignal = (): void => void host.call('runs.pause', { id: run.id }).catch(() => {})
  process.once('SIGINT', onSignal)
  const end = await host.waitSettled(run.id)
  process.off('SIGINT', onSignal)
  off()
  if (isTty && !o.json) process.stderr.write('\r\x1b[K')
  const detail = await host.call('runs.get', { id: run.id })
  const accuracies = Object.fromEntries(detail.evaluations.map((e) => [e.id, +(e.accuracy * 100).toFixed(2)]))
  if (o.json) {
    io.out(
      JSON.stringify({
        id: run.id,
        state: end.status.state,
        wallSec: +(end.status.wallMs / 1000).toFixed(1),
        backend: end.status.backend,
        error: end.status.error,
        accuracies
      })
    )
  } else {
    io.out(`${run.id}: ${end.status.state} in ${fmtDuration(end.status.wallMs / 1000)} on ${end.status.backend ?? '?'}`)
    for (const [k, v] of Object.entries(accuracies)) io.out(`  ${k.padEnd(40)} ${v.toFixed(2)}%`)
    if (end.status.error) io.err(end.status.error)
    if (end.status.state === 'paused') io.err(`Paused. Continue with: quarterturn resume ${run.id}`)
  }
  return end.status.state === 'done' ? EXIT.ok : end.status.state === 'paused' ? EXIT.ok : EXIT.failed
}

/**
 * `run --seeds`: a group of runs, the config the same but the seed, trained in turn (as many at
 * once as the workspace's settings allow); prints each run's accuracies and the group's mean ± sd.
 */
async function runGroup(host: CliHost, config: Record<string, unknown>, o: RunCliOptions, io: CliIO): Promise<number> {
  const parsed = parseSeeds(o.seeds ?? '')
  if ('error' in parsed) {
    io.err(`quarterturn run: --seeds: ${parsed.error.replace(/^Seeds: /, '')}`)
    return EXIT.badInput
  }
  let runs: RunSummary[]
  try {
    runs = await host.call('runs.createGroup', { config, preset: o.preset ?? null, seeds: parsed.seeds })
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'invalid-argument') {
      io.err(`quarterturn run: ${err.message}`)
      return EXIT.badInput
    }
    throw err
  }
  const group = runs[0]!.group ?? ''
  if (!o.json) io.err(`Group ${group}: ${runs.length} runs of ${runs[0]!.name}, seeds ${parsed.seeds.join(', ')}, queued.`)
  const off = host.onEvent((name, payload) => {
    if (name !== 'runs.log' || o.json) return
    const p = payload as { id: string; level: string; message: string }
    const i = runs.findIndex((r) => r.id === p.id)
    if (i >= 0) io.err(`[seed ${parsed.seeds[i]}] ${p.level === 'info' ? '' : `${p.level}: `}${p.message}`)
  })
  const onSignal = (): void => {
    for (const r of runs) void host.call('runs.pause', { id: r.id }).catch(() => {})
  }
  process.once('SIGINT', onSignal)
  const ends: RunSummary[] = []
  for (const r of runs) ends.push(await host.waitSettled(r.id))
  process.off('SIGINT', onSignal)
  off()
  const details = await Promise.all(runs.map((r) => host.call('runs.get', { id: r.id })))
  const keys = [...new Set(details.flatMap((d) => d.evaluations.map((e) => e.id)))]
  const stats = Object.fromEntries(
    keys.map((k) => {
      const accs = details.flatMap((d) => d.evaluations.filter((e) => e.id === k).map((e) => e.accuracy * 100))
      return [k, { mean: +mean(accs).toFixed(2), sd: +sampleSd(accs).toFixed(2), seeds: accs.length }]
    })
  )
  if (o.json) {
    io.out(
      JSON.stringify({
        group,
        runs: ends.map((e, i) => ({
          id: e.id,
          seed: parsed.seeds[i],
          state: e.status.state,
          accuracies: Object.fromEntries(details[i]!.evaluations.map((x) => [x.id, +(x.accuracy * 100).toFixed(2)]))
        })),
        accuracies: stats
      })
    )
  } else {
    for (const [i, e] of ends.entries())
      io.out(`${e.id} (seed ${parsed.seeds[i]}): ${e.status.state} in ${fmtDuration(e.status.wallMs / 1000)}${e.status.error ? ` — ${e.status.error}` : ''}`)
    io.out(`group ${group}: mean ± sd over ${runs.length} seeds`)
    for (const [k, s] of Object.entries(stats))
      io.out(`  ${k.padEnd(40)} ${s.mean.toFixed(2)} ± ${s.sd.toFixed(2)}%${s.seeds < runs.length ? `  (${s.seeds} of ${runs.length} runs)` : ''}`)
    if (ends.some((e) => e.status.state === 'paused')) io.err(`Paused. Continue each run with: quarterturn resume <id>`)
  }
  return ends.every((e) => e.status.state === 'done' || e.status.state === 'paused') ? EXIT.ok : EXIT.failed
}

/** `run --estimate`: time the config's training steps on this machine and print the run's time per stage. */
async function cmdEstimate(host: CliHost, raw: Record<string, unknown>, o: RunCliOptions, io: CliIO): Promise<number> {
  let config
  try {
    config = resolveRunConfig(raw, o.preset ?? null)
  } catch (err) {
    io.err(`quarterturn run: ${(err as Error).message}`)
    return EXIT.badInput
  }
  const datasets = await host.call('datasets.list', {})
  const subsets =
    config.dataset.kind === 'dataset' && datasets.some((d) => d.id === (config.dataset as { id: string }).id)
      ? await host.call('datasets.listSubsets', { id: config.dataset.id })
      : []
  const sizes = runSizes(config, (id) => {
    const d = datasets.find((x) => x.id === id)
    return d && { ...d, subsets }
  })
  if (!sizes) {
    io.err(
      `quarterturn run: dataset "${(config.dataset as { id: string }).id}" is not registered, so its size is unknown: add it first (quarterturn dataset add <folder>).`
    )
    return EXIT.badInput
  }
  if (!o.json) io.err(`Timing a few training steps of this network on ${host.remote ? `the host at ${host.remote}` : 'this machine'}…`)
  const bench = (await host.call('engine.benchmark', { config: config as unknown as Record<string, unknown>, mode: o.remeasure ? 'refresh' : 'measure' }))!
  const est = estimateRun(config, sizes, bench)
  if (o.json) {
    io.out(JSON.stringify({ ...est, sizes, benchmark: bench }))
    return EXIT.ok
  }
  const step = mainStep(config, bench)
  io.out(
    `Timed on ${bench.backend}${bench.threads ? ` (${bench.threads} threads)` : ''}, ${bench.cached ? `stored from ${bench.measuredAt}` : `just now in ${bench.seconds.toFixed(1)} s`}: one step of ${step.batch} images ≈ ${step.ms !== null ? (step.ms / 1000).toFixed(2) : '?'} s`
  )
  for (const s of est.stages) io.out(`  ${s.id.padEnd(10)} ${s.steps ? `${s.steps} steps`.padEnd(14) : ''.padEnd(14)} ${fmtDuration(s.seconds)}`)
  io.out(`  total      ${''.padEnd(14)} ${fmtDuration(est.total)}  (${sizes.train} train / ${sizes.test} test images)`)
  return EXIT.ok
}

/** The first run on the sample draws and caches it before it is queued: say so rather than wait in silence. */
async function noteSampleDrawing(host: CliHost, config: Record<string, unknown>, preset: string | null, io: CliIO): Promise<void> {
  let c
  try {
    c = resolveRunConfig(config, preset)
  } catch {
    return // runs.create reports the config's problem
  }
  if (![c.dataset, ...c.evaluation.transfer].some((d) => d.kind === 'dataset' && d.id === SAMPLE_ID)) return
  const sample = (await host.call('datasets.list', {})).find((d) => d.id === SAMPLE_ID)
  if (!sample?.cacheReady) io.err('Drawing the built-in sample dataset (its first use, a few seconds)…')
}

/**
 * `--dataset` takes "sample", a registered dataset id, or a folder: a folder is registered and
 * cached first (or reused when it is already registered), then referred to by its id. The sample
 * is the registered one, drawn when the run is created if it is not there yet.
 */
async function datasetRefOf(host: CliHost, arg: string, io: CliIO, quiet: boolean): Promise<Record<string, unknown>> {
  if (arg === SAMPLE_ID) return { kind: 'dataset', id: SAMPLE_ID, trainSplit: 'train', testSplit: 'test' }
  if (host.remote) {
    // A folder here is not a folder on the host: only ids of the host's datasets mean anything there.
    if (/[\\/]/.test(arg) || arg.startsWith('.') || arg.startsWith('~')) {
      throw new Error(
        `--dataset ${arg}: with --host, name a dataset registered on the host at ${host.remote} (its id, or "sample"); a folder on this machine cannot be read there. Register it on the host (quarterturn dataset add <folder on the host>).`
      )
    }
    return { kind: 'dataset', id: arg }
  }
  const isDir = await fs.stat(arg).then(
    (s) => s.isDirectory(),
    () => false
  )
  if (!isDir) return { kind: 'dataset', id: arg }
  const abs = path.resolve(arg)
  const known = (await host.call('datasets.list', {})).find((d) => d.source === abs)
  const added = known ?? (await host.call('datasets.add', { path: abs }))
  if (!quiet) io.err(`Dataset ${added.id}: ${known ? 'already registered' : 'indexing'} ${abs}`)
  for (;;) {
    const d = await host.call('datasets.get', { id: added.id })
    if (d.status === 'ready' && d.cacheReady) {
      const names = d.splits.map((s) => s.name)
      const testSplit = names.includes('test') ? 'test' : names.includes('val') ? 'val' : 'train'
      return { kind: 'dataset', id: d.id, trainSplit: 'train', testSplit }
    }
    if (d.status === 'failed' || d.status === 'cancelled' || d.status === 'interrupted')
      throw new Error(`dataset ${abs} could not be indexed: ${d.statusMessage ?? d.status}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/**
 * What a run argument names: an exact id, a run's exact name, or a unique prefix of an id; with
 * `groups`, a seed group's or a sweep's id too. Ambiguous and unknown arguments are errors that list the
 * candidates, so a typo never silently picks (or skips) a run.
 */
export function resolveRunRef(all: RunSummary[], ref: string, groups = false): { runs: RunSummary[] } | { error: string } {
  const byId = all.find((r) => r.id === ref)
  if (byId) return { runs: [byId] }
  if (groups) {
    const members = all.filter((r) => r.group === ref || r.sweep?.id === ref).reverse()
    if (members.length) return { runs: members }
  }
  const byName = all.filter((r) => r.name === ref)
  if (byName.length === 1) return { runs: byName }
  const candidates = byName.length ? byName : all.filter((r) => r.id.startsWith(ref))
  if (candidates.length === 1) return { runs: candidates }
  const list = (rs: RunSummary[]): string => rs.map((r) => `  ${r.id}  ${r.name}`).join('\n')
  if (candidates.length > 1) return { error: `"${ref}" names ${candidates.length} runs; give more of the id:\n${list(candidates)}` }
  const near = all.filter((r) => r.name.toLowerCase().includes(ref.toLowerCase())).slice(0, 10)
  return { error: `no run "${ref}" (by id, id prefix or name; see quarterturn list).${near.length ? `\nRuns whose name contains it:\n${list(near)}` : ''}` }
}

/** The main evaluations' accuracies, as `list` shows them: linear and kNN on the pretraining dataset. */
function mainAccuracy(r: RunSummary, protocol: string): string {
  const e = r.evaluations.find((x) => x.protocol === protocol && !x.transfer)
  return e ? `${(e.accuracy * 100).toFixed(1)}%` : '-'
}

export async function cmdList(host: CliHost, o: RunCliOptions, io: CliIO): Promise<number> {
  const runs = await host.call('runs.list', {})
  if (o.json) {
    io.out(JSON.stringify(runs))
    return EXIT.ok
  }
  if (!runs.length) {
    io.out('No runs yet. Start one with: quarterturn run --preset fast-rotnet')
    return EXIT.ok
  }
  const rows = runs.map((r) => [
    r.id,
    r.status.state,
    r.method,
    r.dataset ?? '-',
    fmtDuration(r.status.wallMs / 1000),
    mainAccuracy(r, 'linear'),
    mainAccuracy(r, 'knn'),
    r.name
  ])
  const head = ['ID', 'STATE', 'METHOD', 'DATASET', 'TIME', 'LINEAR', 'KNN', 'NAME']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  io.out(line(head))
  runs.forEach((r, i) => {
    io.out(line(rows[i]!))
    if (r.status.state === 'damaged') io.out(`  ${r.status.error}`)
  })
  return EXIT.ok
}

/** The id a run argument names, or null after printing why there is none. */
async function runIdOf(host: CliHost, cmd: string, ref: string, io: CliIO): Promise<string | null> {
  const res = resolveRunRef(await host.call('runs.list', {}), ref)
  if ('error' in res) {
    io.err(`quarterturn ${cmd}: ${res.error}`)
    return null
  }
  return res.runs[0]!.id
}

export async function cmdShow(host: CliHost, id: string | undefined, o: RunCliOptions, io: CliIO): Promise<number> {
  if (!id) {
    io.err('quarterturn show: give a run id, id prefix or name (see quarterturn list).')
    return EXIT.badInput
  }
  const runId = await runIdOf(host, 'show', id, io)
  if (!runId) return EXIT.badInput
  const d = await host.call('runs.get', { id: runId })
  if (o.json) {
    io.out(JSON.stringify(d, null, 2))
    return EXIT.ok
  }
  io.out(`${d.id}  ${d.name}  (${d.method}${d.preset ? `, preset ${d.preset}` : ''})`)
  io.out(`state: ${d.status.state}${d.status.error ? ` — ${d.status.error}` : ''}`)
  io.out(`backend: ${d.status.backend ?? '-'}   wall time: ${fmtDuration(d.status.wallMs / 1000)}   config hash: ${d.configHash}`)
  if (d.group) io.out(`group: ${d.group} (seed ${d.seed ?? '?'}; quarterturn export ${d.group} shows the group's mean ± sd)`)
  if (d.sweep)
    io.out(
      `sweep: ${d.sweep.id}, point ${d.sweep.index} of ${d.sweep.points}: ${d.sweep.point.map((p) => `${p.path}=${p.value}`).join(', ')} (${d.sweep.label}; quarterturn export ${d.sweep.id} shows one row per point)`
    )
  if (d.status.steps) io.out(progressLine(d))
  for (const e of d.evaluations) {
    const w = wilson(e.accuracy, e.testImages)
    io.out(
      `  ${e.protocol.padEnd(10)} ${e.dataset.padEnd(30)} ${(e.accuracy * 100).toFixed(2)}%  95% CI [${(w.low * 100).toFixed(1)}, ${(w.high * 100).toFixed(1)}]  n=${e.testImages}`
    )
  }
  io.out(`checkpoints: ${d.checkpoints.map((c) => `${c.seq} (${String(c.label.stage)} step ${String(c.label.step)})`).join(', ') || 'none'}`)
  return EXIT.ok
}

export async function cmdControl(host: CliHost, action: 'resume' | 'pause' | 'cancel', id: string | undefined, io: CliIO, wait: boolean): Promise<number> {
  if (!id) {
    io.err(`quarterturn ${action}: give a run id, id prefix or name (see quarterturn list).`)
    return EXIT.badInput
  }
  const runId = await runIdOf(host, action, id, io)
  if (!runId) return EXIT.badInput
  const r = await host.call(action === 'resume' ? 'runs.resume' : action === 'pause' ? 'runs.pause' : 'runs.cancel', { id: runId })
  io.err(`${r.id}: ${r.status.state}`)
  if (action === 'resume' && wait) {
    const end = await host.waitSettled(runId)
    io.out(`${runId}: ${end.status.state}`)
    return end.status.state === 'done' || end.status.state === 'paused' ? EXIT.ok : EXIT.failed
  }
  return EXIT.ok
}

export async function cmdExport(host: CliHost, ids: string[], o: RunCliOptions, io: CliIO): Promise<number> {
  const all = await host.call('runs.list', {})
  // A group id (from `run --seeds`) stands for all of its runs.
  const picks = ids.map((id) => resolveRunRef(all, id, true))
  const errors = picks.flatMap((p) => ('error' in p ? [p.error] : []))
  if (errors.length) {
    for (const e of errors) io.err(`quarterturn export: ${e}`)
    return EXIT.badInput
  }
  const chosen = ids.length ? picks.flatMap((p) => ('runs' in p ? p.runs : [])) : [...all]
  // The baseline is resolved like the runs; one not among them is added, so "export a b
  // --baseline c" compares a and b with c. A group's member stands for its group's row.
  let baselineId: string | null = null
  let baselineRun: string | null = null
  if (o.baseline !== undefined) {
    const b = resolveRunRef(all, o.baseline, true)
    if ('error' in b) {
      io.err(`quarterturn export: --baseline: ${b.error}`)
      return EXIT.badInput
    }
    for (const r of b.runs) if (!chosen.some((c) => c.id === r.id)) chosen.unshift(r)
    const first = b.runs[0]!
    const grouped = first.group != null && chosen.filter((c) => c.group === first.group).length > 1
    baselineId = grouped ? first.group! : first.id
    baselineRun = first.id
  }
  if (o.diff !== undefined && o.diff !== 'rel' && o.diff !== 'pts') {
    io.err(`quarterturn export: --diff must be rel or pts, got "${o.diff}".`)
    return EXIT.badInput
  }
  const diff = o.diff === 'pts' ? 'pts' : 'rel'
  if (o.report) {
    const res = await host.call('reports.export', {
      runIds: chosen.map((r) => r.id),
      baselineId: baselineRun,
      title: o.title ?? 'Quarterturn results',
      question: ''
    })
    io.out(host.remote ? `Report written on the host at ${host.remote} to ${res.dir}` : `Report written to ${res.dir}`)
    for (const f of res.files.filter((f) => !f.endsWith('.svg') && !f.endsWith('.png'))) io.out(`  ${f}`)
    return EXIT.ok
  }
  const runs: RunSummary[] = []
  for (const r of chosen) runs.push({ ...r, evaluations: (await host.call('runs.get', { id: r.id })).evaluations })
  const table = buildResultsTable(runs, baselineId)
  const format = o.format ?? 'md'
  if (format === 'csv') io.out(tableToCsv(table).trimEnd())
  else if (format === 'latex') io.out(tableToLatex(table, { diff }).trimEnd())
  else if (format === 'json') io.out(JSON.stringify(table, null, 2))
  else if (format === 'md') io.out(tableToMarkdown(table, { diff }).trimEnd())
  else {
    io.err(`quarterturn export: --format must be md, csv, latex or json, got "${format}".`)
    return EXIT.badInput
  }
  return EXIT.ok
}
