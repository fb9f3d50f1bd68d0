// The host's reading and writing of run folders (their layout is src-node/run-folder.ts's): a new
// run's description and first status, checking a folder on load (a damaged one is described with
// the reason and what to do, never thrown), the status and log a run's owner writes, and what a
// run's detail shows (checkpoints, log, metric summaries). No state: RunsService keeps that.
import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { parseRunConfig, presetByName, type RunConfig } from '../../src-shared/config/run'
import { RunStatusSchema, type Evaluation, type MetricRecord, type RunDetail, type RunStatus, type RunSummary } from '../../src-shared/contract/runs'
import { CheckpointStore } from '../../src-node/checkpoint'
import { readMetrics } from '../../src-node/metrics-log'
import { writeFileAtomic } from '../../src-node/fsutil'
import { RunFileSchema, readResults, runPaths, type RunFile } from '../../src-node/run-folder'
import { slugify } from '../../src-shared/slug'
import { ServiceError } from '../errors'

/** Stable JSON (sorted keys) for hashing configs. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  return JSON.stringify(v)
}

export function configHash(config: unknown): string {
  return createHash('sha256').update(canonical(config)).digest('hex').slice(0, 16)
}

function deepMerge(base: unknown, over: unknown): unknown {
  if (over === undefined) return base
  if (base && over && typeof base === 'object' && typeof over === 'object' && !Array.isArray(base) && !Array.isArray(over)) {
    const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
    for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = deepMerge(out[k], v)
    return out
  }
  return over
}

/** A config as given (over a preset's, when named), checked; bad input is an invalid-argument error. */
export function resolveRunConfig(input: unknown, preset: string | null): RunConfig {
  try {
    const base = preset ? presetByName(preset)?.config : undefined
    if (preset && !base) throw new Error(`unknown preset "${preset}"; run \`quarterturn run --list-presets\``)
    return parseRunConfig(base ? deepMerge(base, input) : input)
  } catch (err) {
    throw new ServiceError((err as Error).message, 'invalid-argument')
  }
}

export function newStatus(): RunStatus {
  return {
    state: 'queued',
    stage: null,
    epoch: null,
    epochs: null,
    step: null,
    steps: null,
    etaSec: null,
    backend: null,
    error: null,
    errorStage: null,
    createdAt: new Date().toISOString(),
    startedAt: null,
    endedAt: null,
    wallMs: 0
  }
}

/** run.json of a new run: its id (time, name, a random tail), the resolved config and what it was made with. */
export function newRunFile(config: RunConfig, preset: string | null, versions: Record<string, string>): RunFile {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  const id = `${stamp}-${slugify(config.name, 30, 'run')}-${randomBytes(2).toString('hex')}`
  return {
    id,
    name: config.name,
    preset,
    createdAt: new Date().toISOString(),
    config,
    configHash: configHash(config),
    seed: config.seed,
    versions,
    datasets: [config.dataset, ...config.evaluation.transfer].map((ref) => ({ ref, label: ref.kind === 'sample' ? `sample seed ${ref.seed}` : ref.id }))
  }
}

/** Sections every stored (resolved) config has had since the first version. */
const STORED_CONFIG_SECTIONS = ['name', 'seed', 'dataset', 'backbone', 'pretrain', 'finetune', 'evaluation'] as const

export type LoadedRun = { run: RunFile; status: RunStatus; evaluations: Evaluation[] }

/** Read and check one run folder: the run, or why it is damaged; null when it is not a run folder at all. */
export async function readRunFolder(runDir: string): Promise<LoadedRun | { damage: RunSummary } | null> {
  const id = path.basename(runDir)
  const files = runPaths(runDir)
  const runText = await fs.readFile(files.run, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : err))
  const statusText = await fs.readFile(files.status, 'utf8').catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? null : err))
  if (runText === null && statusText === null) return null
  let rawName: unknown = null
  const damaged = (reason: string, fix: string): { damage: RunSummary } => ({
    damage: damagedSummary(id, typeof rawName === 'string' ? rawName : id, `${reason} ${fix}`)
  })
  const removeIt = `Restore the file from a backup, or delete the folder ${runDir} to remove the run; the other runs are not affected.`
  if (runText === null) return damaged('run.json is missing.', removeIt)
  if (runText instanceof Error) return damaged(`run.json cannot be read (${runText.message}).`, "Fix the file's permissions, then reload.")
  let run: RunFile
  try {
    const raw = JSON.parse(runText) as Record<string, unknown>
    rawName = raw?.name
    const parsed = RunFileSchema.safeParse(raw)
    if (!parsed.success)
      return damaged(
        `run.json is not a run description: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; ')}.`,
        removeIt
      )
    // A stored config is a resolved one: a missing section means the file was cut or edited,
    // and filling in defaults would show a run other than the one trained.
    const cfg = parsed.data.config as Record<string, unknown> | null
    const missing = STORED_CONFIG_SECTIONS.filter((k) => !cfg || typeof cfg !== 'object' || !(k in cfg))
    if (missing.length) return damaged(`run.json's config has no ${missing.map((k) => `"${k}"`).join(', ')}.`, removeIt)
    run = { ...parsed.data, config: parseRunConfig(parsed.data.config) }
  } catch (err) {
    return damaged(`run.json is damaged: ${(err as Error).message}.`, removeIt)
  }
  let status: RunStatus
  if (statusText === null || statusText instanceof Error) {
    return damaged(
      `status.json is ${statusText === null ? 'missing' : `unreadable (${statusText.message})`}.`,
      `Delete the folder ${runDir} to remove the run, or restore status.json.`
    )
  }
  try {
    const parsed = RunStatusSchema.safeParse(JSON.parse(statusText))
    if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.') || '(file)'}: ${i.message}`).join('; '))
    status = parsed.data
  } catch (err) {
    return damaged(
      `status.json is damaged (${(err as Error).message.slice(0, 300)}).`,
      `Restore it from a backup, or delete the folder ${runDir} to remove the run.`
    )
  }
  return { run, status, evaluations: (await readResults(runDir)).evaluations }
}

function damagedSummary(id: string, name: string, error: string): RunSummary {
  return {
    id,
    name,
    method: 'unknown',
    preset: null,
    configHash: '',
    status: { ...newStatus(), state: 'damaged', error, createdAt: '' },
    evaluations: []
  }
}

/** status.json as it is on disk now, or null when it is missing or not a status (a writer may be mid-way). */
export async function readStatus(runDir: string): Promise<RunStatus | null> {
  const text = await fs.readFile(runPaths(runDir).status, 'utf8').catch(() => null)
  if (text === null) return null
  try {
    const parsed = RunStatusSchema.safeParse(JSON.parse(text))
    return parsed.success ? parsed.data : null
  } catch {
    return null
  }
}

export async function writeStatus(runDir: string, status: RunStatus): Promise<void> {
  await writeFileAtomic(runPaths(runDir).status, JSON.stringify(status, null, 2) + '\n')
}

export async function writeRunFile(runDir: string, run: RunFile): Promise<void> {
  await writeFileAtomic(runPaths(runDir).run, JSON.stringify(run, null, 2) + '\n')
}

export async function appendLog(runDir: string, level: 'info' | 'warn' | 'error', message: string): Promise<void> {
  await fs.appendFile(runPaths(runDir).log, JSON.stringify({ t: Date.now(), level, message }) + '\n')
}

/** What a run's detail adds to its summary from the folder: checkpoints, log, metric summaries. */
export async function readRunRecords(runDir: string): Promise<Pick<RunDetail, 'checkpoints' | 'log' | 'summaries'>> {
  const files = runPaths(runDir)
  const checkpoints = await new CheckpointStore(files.checkpoints).describe()
  const log = (await readMetrics(files.log)) as RunDetail['log']
  return { checkpoints, log, summaries: summarise(await readMetrics(files.metrics)) }
}

/** Which records and metrics `readRunMetrics` returns: a stage's, and only some metrics of each. */
export interface MetricsFilter {
  stage?: string
  keys?: string[]
}

/** A stage with at most this many records is never thinned (see readRunMetrics). */
const SHORT_STAGE = 1000

/** What every record keeps when only some metrics are asked for: where and when it was. */
const RECORD_PLACE = ['stage', 'epoch', 'step', 't']

/**
 * Metric records of a run, at most `maxPoints` (evenly thinned; the last is kept). Filtered
 * first, so one metric of a long run (a comparison of twenty) travels as a fraction of the
 * history and a short stage's records are not thinned for a long one's.
 */
export async function readRunMetrics(runDir: string, maxPoints: number, only: MetricsFilter = {}): Promise<MetricRecord[]> {
  let all = (await readMetrics(runPaths(runDir).metrics)) as MetricRecord[]
  if (only.stage !== undefined) all = all.filter((r) => r.stage === only.stage)
  const keys = only.keys
  if (keys) {
    all = all
      .filter((r) => keys.some((k) => typeof r[k] === 'number'))
      .map((r) => {
        const out: MetricRecord = {}
        for (const k of [...RECORD_PLACE, ...keys]) if (r[k] !== undefined) out[k] = r[k]!
        return out
      })
  }
  if (all.length <= maxPoints) return all
  // Short stages (a probe's few epochs after 100 000 pretraining steps) are kept whole: thinned
  // with the rest, their curves would vanish. The long ones share what is left of maxPoints.
  const counts = new Map<unknown, number>()
  for (const r of all) counts.set(r.stage, (counts.get(r.stage) ?? 0) + 1)
  const short = new Set([...counts].filter(([, n]) => n <= SHORT_STAGE).map(([stage]) => stage))
  let kept = 0
  for (const stage of short) kept += counts.get(stage)!
  const stride = Math.ceil((all.length - kept) / Math.max(1, maxPoints - kept))
  let i = 0
  return all.filter((r, k) => short.has(r.stage) || i++ % stride === 0 || k === all.length - 1)
}

/** last / best / min / max of every numeric metric, per stage ("pretrain.loss"). */
export function summarise(records: Record<string, unknown>[]): Record<string, { last: number; best: number; min: number; max: number; count: number }> {
  const skip = new Set(['epoch', 'step', 't', 'ms', 'lr'])
  const out: Record<string, { last: number; best: number; min: number; max: number; count: number }> = {}
  for (const rec of records) {
    for (const [k, v] of Object.entries(rec)) {
      if (skip.has(k) || typeof v !== 'number' || !Number.isFinite(v)) continue
      const key = `${String(rec.stage ?? 'run')}.${k}`
      const s = (out[key] ??= { last: v, best: v, min: v, max: v, count: 0 })
      s.last = v
      s.min = Math.min(s.min, v)
      s.max = Math.max(s.max, v)
      s.count++
      // Accuracies and throughput: higher is better; losses: lower is better.
      s.best = /^acc|imagesPerSec|feat_std/.test(k) ? s.max : s.min
    }
  }
  return out
}
