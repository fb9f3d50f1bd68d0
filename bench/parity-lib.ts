// The pure parts of the parity bench (bench/parity.ts): its arguments, the Quarterturn run config
// and the PyTorch twin's arguments for one seed (the same protocol on both sides), the summary of
// several seeds (mean ± sd, Welch's t-test of the difference) and the table it prints, and the
// writer of a generated dataset (the built-in sample's drawing as PNG files in class folders).
import { parseArgs } from 'node:util'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { RunConfigInput } from '../src-shared/config/run'
import { mean, sampleSd, welch } from '../src-shared/stats'
import { SAMPLE_DEFAULTS } from '../src-shared/sample-dataset'
import { parseSeeds } from '../src-shared/seeds'
import { materialiseSample, type SampleParams } from '../src-host/datasets/sample'

export const PARITY_METHODS = ['rotnet', 'random'] as const
export type ParityMethod = (typeof PARITY_METHODS)[number]
export const PARITY_SIDES = ['quarterturn', 'pytorch'] as const
export type ParitySide = (typeof PARITY_SIDES)[number]

export interface ParityOptions {
  method: ParityMethod
  /** The dataset folder both sides read, or 'sample' for the built-in sample written to disk. */
  dataset: string | null
  /** Write a generated dataset here first (and train on it unless --dataset names another). */
  generate: string | null
  generatePerClass: number
  generateTestPerClass: number
  generateSeed: number
  seeds: number[]
  epochs: number
  width: number
  batch: number
  lr: number
  probeEpochs: number
  probeBatch: number
  probeLr: number
  probeWd: number
  knnK: number
  knnT: number
  /** Threads of each side (torch threads; Quarterturn's wasm threads follow the cores). */
  threads: number
  python: string
  sides: ParitySide[]
  json: boolean
  keep: boolean
}

export const PARITY_USAGE = `npm run bench:parity -- --dataset <folder|sample> [options]

Runs Quarterturn (its CLI, in a temporary workspace) and the PyTorch twin
(tools/torch-twin/train.py) on the same image files and the same config, several seeds each, and
prints per-seed results, mean ± sd per side and their difference (Welch's t-test).

  --method rotnet|random   random: a random-init backbone, probes only (default rotnet)
  --dataset DIR|sample     an image folder (DIR/{train,test|val}/<class>/* or DIR/<class>/*);
                           sample = the built-in sample written to disk
  --generate DIR           write a generated dataset (the sample's drawing with its own seed and
                           counts) to DIR as PNG class folders, and use it unless --dataset is given
    --per-class N          training images per class (default 100)
    --test-per-class N     test images per class (default 25)
    --gen-seed N           the drawing's seed (default 2; the built-in sample is seed 1)
  --seeds N|LIST           3 = seeds 0,1,2 (default 3), 1 = seed 0 only, or a list: 0,4,7
  --epochs N               pretraining epochs (default 10)
  --width W                alexnet64 width (default 0.25)
  --batch N                pretraining batch, images (default 64)
  --lr X                   pretraining cosine lr from X (default 0.05)
  --probe-epochs N         linear probe epochs (default 30)
  --probe-batch N          (default 128)
  --probe-lr X             probe cosine lr from X (default 0.1)
  --probe-wd X             probe weight decay (default 5e-4)
  --knn-k N, --knn-t T     kNN neighbours and temperature (default 200, 0.07)
  --threads N              torch threads (default: one per core)
  --only quarterturn|pytorch   run one side only
  --python PATH            the Python with torch (default /usr/bin/python3)
  --keep                   keep the temporary workspace
  --json                   one JSON object on stdout instead of the table`

const num = (v: string | undefined, name: string, o: { min?: number; max?: number; int?: boolean }): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || (o.int && !Number.isInteger(n)) || (o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max))
    throw new Error(
      `--${name} must be ${o.int ? 'a whole number' : 'a number'}${o.min !== undefined ? ` of at least ${o.min}` : ''}${o.max !== undefined ? ` and at most ${o.max}` : ''}, got "${v}"`
    )
  return n
}

/** The bench's options, or an Error whose message names the bad argument and what to give. */
export function parseParityArgs(argv: string[]): ParityOptions | Error {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        method: { type: 'string' },
        dataset: { type: 'string' },
        generate: { type: 'string' },
        'per-class': { type: 'string' },
        'test-per-class': { type: 'string' },
        'gen-seed': { type: 'string' },
        seeds: { type: 'string' },
        epochs: { type: 'string' },
        width: { type: 'string' },
        batch: { type: 'string' },
        lr: { type: 'string' },
        'probe-epochs': { type: 'string' },
        'probe-batch': { type: 'string' },
        'probe-lr': { type: 'string' },
        'probe-wd': { type: 'string' },
        'knn-k': { type: 'string' },
        'knn-t': { type: 'string' },
        threads: { type: 'string' },
        only: { type: 'string' },
        python: { type: 'string' },
        keep: { type: 'boolean' },
        json: { type: 'boolean' }
      }
    }).values
  } catch (err) {
    return new Error(`${(err as Error).message}\n\n${PARITY_USAGE}`)
  }
  try {
    const method = (values.method as string | undefined) ?? 'rotnet'
    if (!PARITY_METHODS.includes(method as ParityMethod)) throw new Error(`--method must be one of ${PARITY_METHODS.join(', ')}, got "${method}"`)
    const only = values.only as string | undefined
    if (only !== undefined && !PARITY_SIDES.includes(only as ParitySide)) throw new Error(`--only must be quarterturn or pytorch, got "${only}"`)
    const dataset = (values.dataset as string | undefined) ?? null
    const generate = (values.generate as string | undefined) ?? null
    if (!dataset && !generate) throw new Error('give the images to train on: --dataset <folder>, --dataset sample, or --generate <dir>')
    const seedsArg = (values.seeds as string | undefined) ?? '3'
    // One seed is a smoke run; the shared parser takes counts from 2.
    const seeds = seedsArg.trim() === '1' ? { seeds: [0] } : parseSeeds(seedsArg)
    if ('error' in seeds) throw new Error(`--seeds: ${seeds.error.replace(/^Seeds: /, '')}`)
    const s = (k: string): string | undefined => values[k] as string | undefined
    return {
      method: method as ParityMethod,
      dataset,
      generate,
      generatePerClass: num(s('per-class'), 'per-class', { int: true, min: 2, max: 5000 }) ?? 100,
      generateTestPerClass: num(s('test-per-class'), 'test-per-class', { int: true, min: 1, max: 1000 }) ?? 25,
      generateSeed: num(s('gen-seed'), 'gen-seed', { int: true, min: 0 }) ?? 2,
      seeds: seeds.seeds,
      epochs: num(s('epochs'), 'epochs', { int: true, min: 1, max: 10000 }) ?? 10,
      width: num(s('width'), 'width', { min: 0.0625, max: 2 }) ?? 0.25,
      batch: num(s('batch'), 'batch', { int: true, min: 2, max: 4096 }) ?? 64,
      lr: num(s('lr'), 'lr', { min: 1e-7, max: 10 }) ?? 0.05,
      probeEpochs: num(s('probe-epochs'), 'probe-epochs', { int: true, min: 1, max: 1000 }) ?? 30,
      probeBatch: num(s('probe-batch'), 'probe-batch', { int: true, min: 2, max: 4096 }) ?? 128,
      probeLr: num(s('probe-lr'), 'probe-lr', { min: 1e-7, max: 10 }) ?? 0.1,
      probeWd: num(s('probe-wd'), 'probe-wd', { min: 0, max: 0.1 }) ?? 5e-4,
      knnK: num(s('knn-k'), 'knn-k', { int: true, min: 1, max: 10000 }) ?? 200,
      knnT: num(s('knn-t'), 'knn-t', { min: 1e-6, max: 10 }) ?? 0.07,
      threads: num(s('threads'), 'threads', { int: true, min: 0, max: 256 }) ?? 0,
      python: s('python') ?? '/usr/bin/python3',
      sides: only ? [only as ParitySide] : [...PARITY_SIDES],
      json: values.json === true,
      keep: values.keep === true
    }
  } catch (err) {
    return new Error(`${(err as Error).message}\n\n${PARITY_USAGE}`)
  }
}

/** Quarterturn's run config for one seed: the protocol of the comparison, on a registered dataset. */
export function quarterturnConfig(o: ParityOptions, seed: number, dataset: { id: string; testSplit: string }): RunConfigInput {
  return {
    name: `parity ${o.method} seed ${seed}`,
    seed,
    dataset: { kind: 'dataset', id: dataset.id, trainSplit: 'train', testSplit: dataset.testSplit },
    backbone: { arch: 'alexnet64', width: o.width },
    pretrain: {
      enabled: o.method !== 'random',
      method: { method: 'rotnet', rotationHead: 'linear' },
      optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
      schedule: { kind: 'cosine', base: o.lr, min: 0, warmupEpochs: 0 },
      batchSize: o.batch,
      epochs: o.epochs,
      hflip: true
    },
    evaluation: {
      layer: 'conv5',
      pool: 3,
      linear: {
        enabled: true,
        epochs: o.probeEpochs,
        batchSize: o.probeBatch,
        schedule: { kind: 'cosine', base: o.probeLr, min: 0, warmupEpochs: 0 },
        weightDecay: o.probeWd
      },
      nonlinear: { enabled: false },
      knn: { enabled: true, k: o.knnK, temperature: o.knnT },
      transfer: []
    },
    checkpoint: { intervalMin: 240, keep: 1 }
  }
}

/** The PyTorch twin's arguments for one seed (after `train.py`), reading the files in `fileList`. */
export function pytorchArgs(o: ParityOptions, seed: number, fileList: string): string[] {
  return [
    '--files',
    fileList,
    '--method',
    o.method,
    '--arch',
    'alexnet64',
    '--width',
    String(o.width),
    '--epochs',
    String(o.epochs),
    '--batch',
    String(o.batch),
    '--lr',
    String(o.lr),
    '--momentum',
    '0.9',
    '--wd',
    '5e-4',
    '--layer',
    'conv5',
    '--pool',
    '3',
    '--probe-epochs',
    String(o.probeEpochs),
    '--probe-batch',
    String(o.probeBatch),
    '--probe-lr',
    String(o.probeLr),
    '--probe-wd',
    String(o.probeWd),
    '--knn-k',
    String(o.knnK),
    '--knn-t',
    String(o.knnT),
    '--seed',
    String(seed),
    ...(o.threads ? ['--threads', String(o.threads)] : []),
    '--json'
  ]
}

/** What one side measured for one seed (percentages; pretext loss as logged). */
export interface SeedResult {
  seed: number
  pretextLoss: number | null
  pretextAcc: number | null
  probeTop1: number
  knnTop1: number
  wallSec: number
}

export const PARITY_METRICS = [
  { key: 'pretextLoss', label: 'pretext loss', digits: 3 },
  { key: 'pretextAcc', label: 'pretext acc', digits: 1 },
  { key: 'probeTop1', label: 'probe top-1', digits: 1 },
  { key: 'knnTop1', label: 'kNN top-1', digits: 1 },
  { key: 'wallSec', label: 'wall time s', digits: 1 }
] as const
export type ParityMetric = (typeof PARITY_METRICS)[number]['key']

export interface MetricSummary {
  mean: number
  sd: number
  n: number
}

export interface MetricRow {
  metric: ParityMetric
  quarterturn: MetricSummary | null
  pytorch: MetricSummary | null
  /** quarterturn − pytorch of the means, with Welch's t-test when each side has 2+ seeds. */
  difference: { value: number; t: number | null; df: number | null; p: number | null } | null
}

export interface ParityReport {
  method: ParityMethod
  dataset: { path: string; train: number; test: number; classes: number }
  config: { arch: string; width: number; epochs: number; batch: number; lr: number; probeEpochs: number; probeBatch: number; probeLr: number }
  seeds: number[]
  quarterturn: SeedResult[]
  pytorch: SeedResult[]
  /** What each side ran on (backend, threads, versions). */
  runtime: Partial<Record<ParitySide, string>>
  rows: MetricRow[]
}

/** Mean and sample sd of the finite values (null when there are none). */
export function summarise(values: readonly (number | null | undefined)[]): MetricSummary | null {
  const xs = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
  if (!xs.length) return null
  return { mean: mean(xs), sd: xs.length > 1 ? sampleSd(xs) : 0, n: xs.length }
}

/** One row per metric: each side's mean ± sd and the difference of the means. */
export function compareSides(quarterturn: SeedResult[], pytorch: SeedResult[]): MetricRow[] {
  return PARITY_METRICS.map(({ key }) => {
    const a = quarterturn.map((r) => r[key])
    const b = pytorch.map((r) => r[key])
    const qs = summarise(a)
    const ps = summarise(b)
    let difference: MetricRow['difference'] = null
    if (qs && ps) {
      const fa = a.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
      const fb = b.filter((v): v is number => typeof v === 'number' && Number.isFinite(v))
      const w = fa.length > 1 && fb.length > 1 && (sampleSd(fa) > 0 || sampleSd(fb) > 0) ? welch(fa, fb) : null
      difference = { value: qs.mean - ps.mean, t: w?.t ?? null, df: w?.df ?? null, p: w?.p ?? null }
    }
    return { metric: key, quarterturn: qs, pytorch: ps, difference }
  })
}

const fix = (v: number, d: number): string => (Object.is(+v.toFixed(d), -0) ? (0).toFixed(d) : v.toFixed(d))
export const fmtMeanSd = (s: MetricSummary | null, digits: number): string =>
  s ? (s.n > 1 ? `${fix(s.mean, digits)} ± ${fix(s.sd, digits)}` : fix(s.mean, digits)) : '-'

function fmtP(p: number): string {
  return p < 0.001 ? '<0.001' : p.toFixed(p < 0.01 ? 3 : 2)
}

export function fmtDifference(d: MetricRow['difference'], digits: number): string {
  if (!d) return '-'
  const v = fix(d.value, digits)
  return `${d.value > 0 && v !== fix(0, digits) ? '+' : ''}${v}${d.p !== null ? ` (Welch t p=${fmtP(d.p)})` : ''}`
}

const cell = (s: string, w: number): string => s.padEnd(w)

/** The bench's printout: a heading, one line per seed and side, and the mean ± sd table. */
export function formatParityReport(r: ParityReport): string {
  const lines: string[] = []
  const c = r.config
  lines.push(
    `method ${r.method} · ${r.seeds.length} seed${r.seeds.length === 1 ? '' : 's'} · ${r.method === 'random' ? 'no pretraining' : `${c.epochs} epoch${c.epochs === 1 ? '' : 's'}`} · dataset ${path.basename(r.dataset.path)} (${r.dataset.train} train / ${r.dataset.test} test, ${r.dataset.classes} classes) · ${c.arch} w${c.width}`
  )
  lines.push(
    `${r.method === 'random' ? '' : `pretraining batch ${c.batch}, SGD Nesterov 0.9, wd 5e-4, cosine lr from ${c.lr} · `}linear probe on conv5 max-pooled 3×3, BN without affine, ${c.probeEpochs} epochs, cosine lr from ${c.probeLr}, batch ${c.probeBatch}`
  )
  for (const side of PARITY_SIDES) if (r.runtime[side]) lines.push(`${side}: ${r.runtime[side]}`)
  lines.push('')
  const metrics = PARITY_METRICS.filter((m) => r.method !== 'random' || (m.key !== 'pretextLoss' && m.key !== 'pretextAcc'))
  const seedHead = 'seed'.padEnd(6) + 'side'.padEnd(13) + metrics.map((m) => m.label.padStart(14)).join('')
  lines.push(seedHead)
  for (const seed of r.seeds)
    for (const side of PARITY_SIDES) {
      const res = r[side].find((x) => x.seed === seed)
      if (!res) continue
      lines.push(
        String(seed).padEnd(6) +
          side.padEnd(13) +
          metrics
            .map((m) => {
              const v = res[m.key]
              return (v === null ? '-' : fix(v, m.digits)).padStart(14)
            })
            .join('')
      )
    }
  lines.push('')
  const w0 = 15
  const w1 = 20
  lines.push(cell('', w0) + cell('quarterturn', w1) + cell('pytorch', w1) + 'difference')
  for (const m of metrics) {
    const row = r.rows.find((x) => x.metric === m.key)
    if (!row) continue
    lines.push(
      cell(m.label, w0) + cell(fmtMeanSd(row.quarterturn, m.digits), w1) + cell(fmtMeanSd(row.pytorch, m.digits), w1) + fmtDifference(row.difference, m.digits)
    )
  }
  return lines.join('\n')
}

/**
 * Write a generated dataset to `dir`: the built-in sample's drawing (src-shared/sample-dataset.ts)
 * with its own seed and counts, as PNG files in train/<class>/ and test/<class>/. Refuses a folder
 * that holds anything but an earlier generated dataset, since the writer replaces the folder whole.
 */
export async function writeGeneratedDataset(dir: string, params: SampleParams): Promise<{ written: boolean }> {
  const entries = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null
    throw new Error(`cannot read ${dir}: ${err.message}`)
  })
  if (entries && entries.length && !entries.includes('sample.json'))
    throw new Error(
      `${dir} is not empty and holds no generated dataset (no sample.json): give a new or empty folder to --generate, so nothing of yours is replaced`
    )
  await fs.mkdir(path.dirname(path.resolve(dir)), { recursive: true })
  return { written: await materialiseSample(path.resolve(dir), params) }
}

/** The built-in sample's own parameters (what `quarterturn dataset add --sample` draws). */
export const BUILTIN_SAMPLE: SampleParams = { perClass: SAMPLE_DEFAULTS.perClass, testPerClass: SAMPLE_DEFAULTS.testPerClass, seed: SAMPLE_DEFAULTS.seed }
