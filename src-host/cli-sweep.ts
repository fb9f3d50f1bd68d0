// `quarterturn sweep`: a grid over one or two numeric settings of a run config (`--set
// path=v1,v2,...`), optionally crossed with seeds, created as one queued run per grid point and
// seed (runs.createSweep), then waited for with one row per point (mean ± sd over its seeds).
// The grid itself (expansion, checks, the table) is src-shared/sweep.ts.
import { promises as fs } from 'node:fs'
import type { EventName, EventPayload, RequestArg, RequestName, RequestResult } from '../src-shared/contract'
import type { RunSummary } from '../src-shared/contract/runs'
import { parseSeeds } from '../src-shared/seeds'
import { parseSetArg, sweepTable, sweepTableText, type SweepAxis } from '../src-shared/sweep'
import { ServiceError } from './errors'
import type { CliIO } from './cli'
import { resolveInitPath } from './cli-weights'

/** What the sweep command needs of a host: this machine's, or a remote one. */
export interface SweepHost {
  call<K extends RequestName>(name: K, arg: RequestArg<K>): Promise<RequestResult<K>>
  onEvent(listener: <E extends EventName>(name: E, payload: EventPayload<E>) => void): () => void
  waitSettled(id: string): Promise<RunSummary>
  /** A remote host's URL; null or absent for this machine. */
  readonly remote?: string | null
}

export interface SweepCliOptions {
  preset?: string
  set?: string[]
  seeds?: string
  wait?: boolean
  json?: boolean
}

export const SWEEP_HELP = `sweep options (quarterturn sweep [config.json] --set PATH=V1,V2,... [--set ...]):
  --set PATH=VALUES   A numeric setting to vary and its values, e.g. pretrain.method.lambdaMse=0.5,1,2
                      (one or two of them; a grid of every combination). --set seed=0,1,2 repeats
                      each grid point with those seeds (or use --seeds LIST|N)
  --preset NAME       Start from a preset; the config file's values override it
  --wait              With --host: wait for the runs and print the table (this machine's runs
                      always train in this process, so they are always waited for)
  --json              Print the created runs (and, when waited for, the table) as JSON
  Every grid point's config is checked before any run is created; at most 64 runs per sweep.`

const EXIT = { ok: 0, failed: 1, badInput: 2 } as const

export async function cmdSweep(host: SweepHost, positionals: string[], o: SweepCliOptions, io: CliIO): Promise<number> {
  const bad = (msg: string): number => {
    io.err(`quarterturn sweep: ${msg.replace(/^Sweep: /, '')}`)
    return EXIT.badInput
  }
  const file = positionals[0]
  if (!file && !o.preset) return bad('give a config file or --preset NAME, and --set PATH=V1,V2,... for each setting to vary.')
  if (!o.set?.length) return bad('give --set PATH=V1,V2,... for the setting to vary, e.g. --set pretrain.method.lambdaMse=0.5,1,2.')
  const axes: SweepAxis[] = []
  let seeds: number[] | null = null
  for (const arg of o.set) {
    const p = parseSetArg(arg)
    if ('error' in p) return bad(p.error)
    if (p.path !== 'seed') {
      axes.push(p)
      continue
    }
    if (seeds || o.seeds !== undefined) return bad('give the seeds once (--set seed=... or --seeds).')
    if (p.values.some((v) => !Number.isInteger(v) || v < 0)) return bad(`--set seed: seeds are whole numbers from 0, got ${p.values.join(', ')}.`)
    seeds = p.values
  }
  if (o.seeds !== undefined) {
    const parsed = parseSeeds(o.seeds)
    if ('error' in parsed) return bad(`--seeds: ${parsed.error.replace(/^Seeds: /, '')}`)
    seeds = parsed.seeds
  }
  let config: Record<string, unknown> = {}
  if (file) {
    try {
      config = resolveInitPath(JSON.parse(await fs.readFile(file, 'utf8')) as Record<string, unknown>, file)
    } catch (err) {
      return bad(`cannot read ${file}: ${(err as Error).message}`)
    }
  }
  let runs: RunSummary[]
  try {
    runs = await host.call('runs.createSweep', { config, preset: o.preset ?? null, axes, seeds })
  } catch (err) {
    if (err instanceof ServiceError && err.code === 'invalid-argument') return bad(err.message)
    throw err
  }
  const sweep = runs[0]!.sweep!
  if (o.json && !(o.wait || !host.remote)) {
    io.out(JSON.stringify({ sweep: sweep.id, label: sweep.label, runs: runs.map((r) => ({ id: r.id, point: r.sweep!.point, seed: r.seed })) }))
    return EXIT.ok
  }
  if (!o.json) {
    io.err(`Sweep ${sweep.id}: ${sweep.label}: ${runs.length} runs of ${runs[0]!.name} queued${host.remote ? ` on ${host.remote}` : ''}.`)
    for (const r of runs)
      io.out(`${r.id}  point ${r.sweep!.index}/${r.sweep!.points}  ${r.sweep!.point.map((p) => `${p.path}=${p.value}`).join(' ')}  seed ${r.seed ?? '?'}`)
  }
  // A remote host trains its queue on its own: leave unless asked to wait. Here, this process is the one that trains.
  if (host.remote && !o.wait) {
    if (!o.json) io.err(`They train on the host; follow them with: quarterturn export ${sweep.id} --host ${host.remote}`)
    return EXIT.ok
  }
  const off = host.onEvent((name, payload) => {
    if (name !== 'runs.log' || o.json) return
    const p = payload as { id: string; level: string; message: string }
    const r = runs.find((x) => x.id === p.id)
    if (r && p.level !== 'info') io.err(`[point ${r.sweep!.index}, seed ${r.seed}] ${p.level}: ${p.message}`)
  })
  const onSignal = (): void => {
    for (const r of runs) void host.call('runs.pause', { id: r.id }).catch(() => {})
  }
  process.once('SIGINT', onSignal)
  const ends: RunSummary[] = []
  try {
    for (const r of runs) {
      const end = await host.waitSettled(r.id)
      ends.push(end)
      if (!o.json) io.err(`${end.id} (point ${r.sweep!.index}, seed ${r.seed}): ${end.status.state}${end.status.error ? ` — ${end.status.error}` : ''}`)
    }
  } finally {
    process.off('SIGINT', onSignal)
    off()
  }
  const table = sweepTable(await host.call('runs.list', {}), sweep.id)!
  if (o.json)
    io.out(
      JSON.stringify({
        sweep: sweep.id,
        label: sweep.label,
        runs: ends.map((e) => ({ id: e.id, point: e.sweep?.point, seed: e.seed, state: e.status.state })),
        table
      })
    )
  else {
    io.out(`sweep ${sweep.id}: ${sweep.label}; accuracy %, mean ± sd over each point's finished runs`)
    for (const line of sweepTableText(table)) io.out(`  ${line}`)
    if (ends.some((e) => e.status.state === 'paused')) io.err('Paused. Continue each run with: quarterturn resume <id>')
  }
  return ends.every((e) => e.status.state === 'done' || e.status.state === 'paused') ? EXIT.ok : EXIT.failed
}
