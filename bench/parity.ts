// Parity bench: Quarterturn and the PyTorch twin (tools/torch-twin/train.py) trained side by side
// on the same image files with the same config, several seeds each; prints per-seed results, each
// side's mean ± sd and the difference (pretext loss and rotation accuracy at the end of
// pretraining, linear-probe and kNN top-1 on the test split, wall time).
//
//   npm run bench:parity -- --method rotnet --epochs 10 --dataset <folder> [--seeds 3] [--json]
//   npm run bench:parity -- --method random --dataset sample
//   npm run bench:parity -- --generate /tmp/shapes --per-class 100 --gen-seed 2 --epochs 2
//
// Quarterturn runs as a user runs it: its CLI (`quarterturn dataset add`, then `quarterturn run
// config.json --json`) in a temporary workspace, in this process (through tsx, so no build is
// needed); the run's results and metrics are read from its run folder. The dataset's splits are
// read from Quarterturn's index of the folder and handed to the twin as a file list, so both sides
// train and test on the same files with the same labels. `--help` lists the options
// (bench/parity-lib.ts, which also holds the protocol both sides get).
import { spawn } from 'node:child_process'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  BUILTIN_SAMPLE,
  PARITY_USAGE,
  compareSides,
  formatParityReport,
  parseParityArgs,
  pytorchArgs,
  quarterturnConfig,
  writeGeneratedDataset,
  type ParityOptions,
  type ParityReport,
  type SeedResult
} from './parity-lib'
import { datasetDirOf, readCacheIndex } from '../src-node/dataset-folder'
import { runDirOf, runPaths } from '../src-node/run-folder'

const DATASET_ID = 'parity'
const TWIN = path.resolve(import.meta.dirname, '../tools/torch-twin/train.py')

const argv = process.argv.slice(2)
if (argv.includes('--help') || argv.includes('-h')) {
  console.log(PARITY_USAGE)
  process.exit(0)
}
const parsed = parseParityArgs(argv)
if (parsed instanceof Error) {
  console.error(`bench:parity: ${parsed.message}`)
  process.exit(2)
}
const o: ParityOptions = parsed
const log = (line: string): void => void process.stderr.write(line + '\n')

const root = await fs.mkdtemp(path.join(os.tmpdir(), 'quarterturn-parity-'))
const workspace = path.join(root, 'workspace')
const configDir = path.join(root, 'config')
await fs.mkdir(configDir, { recursive: true })
// The headless host reads its workspace from here when its settings name none (a fresh config dir).
process.env.QUARTERTURN_WORKSPACE = workspace

try {
  process.exitCode = await bench()
} catch (err) {
  log(`bench:parity: ${(err as Error).message}`)
  process.exitCode = 1
} finally {
  if (o.keep) log(`Kept the workspace and files in ${root}`)
  else await fs.rm(root, { recursive: true, force: true })
}

async function bench(): Promise<number> {
  const folder = await datasetFolder()
  const { main } = await import('../src-host/cli')
  const cli = async (args: string[]): Promise<{ code: number; out: string[]; err: string[] }> => {
    const out: string[] = []
    const err: string[] = []
    const code = await main([...args, '--config-dir', configDir], { out: (l) => out.push(l), err: (l) => err.push(l) })
    return { code, out, err }
  }

  log(`Registering ${folder} in a temporary workspace (${workspace})…`)
  const added = await cli(['dataset', 'add', folder, '--id', DATASET_ID])
  if (added.code !== 0) throw new Error(`quarterturn dataset add failed:\n${[...added.out, ...added.err].join('\n')}`)
  for (const l of added.out) log(`  ${l}`)
  const files = await fileListOf(folder)
  const fileList = path.join(root, 'files.json')
  await fs.writeFile(fileList, JSON.stringify(files))

  const results: Pick<ParityReport, 'quarterturn' | 'pytorch'> = { quarterturn: [], pytorch: [] }
  const runtime: ParityReport['runtime'] = {}
  for (const seed of o.seeds) {
    if (o.sides.includes('quarterturn')) {
      log(`[quarterturn seed ${seed}] training…`)
      const r = await runQuarterturn(seed, files.testSplit, cli)
      runtime.quarterturn = r.runtime
      results.quarterturn.push(r.result)
      log(`[quarterturn seed ${seed}] ${describe(r.result)}`)
    }
    if (o.sides.includes('pytorch')) {
      log(`[pytorch seed ${seed}] training…`)
      const r = await runPytorch(seed, fileList)
      runtime.pytorch = r.runtime
      results.pytorch.push(r.result)
      log(`[pytorch seed ${seed}] ${describe(r.result)}`)
    }
  }
  const report: ParityReport = {
    method: o.method,
    dataset: { path: folder, train: files.train.length, test: files.test.length, classes: files.classes.length },
    config: {
      arch: 'alexnet64',
      width: o.width,
      epochs: o.epochs,
      batch: o.batch,
      lr: o.lr,
      probeEpochs: o.probeEpochs,
      probeBatch: o.probeBatch,
      probeLr: o.probeLr
    },
    seeds: o.seeds,
    ...results,
    runtime,
    rows: compareSides(results.quarterturn, results.pytorch)
  }
  console.log(o.json ? JSON.stringify(report) : formatParityReport(report))
  return 0
}

function describe(r: SeedResult): string {
  const pre = r.pretextLoss !== null ? `pretext loss ${r.pretextLoss.toFixed(3)}, rotation accuracy ${r.pretextAcc?.toFixed(1)}%, ` : ''
  return `${pre}probe ${r.probeTop1.toFixed(1)}%, kNN ${r.knnTop1.toFixed(1)}%, ${r.wallSec.toFixed(1)} s`
}

/** The folder both sides read: generated first when asked, the built-in sample written to disk for "sample". */
async function datasetFolder(): Promise<string> {
  if (o.generate) {
    const params = { perClass: o.generatePerClass, testPerClass: o.generateTestPerClass, seed: o.generateSeed }
    const { written } = await writeGeneratedDataset(o.generate, params)
    log(
      `${written ? 'Wrote' : 'Reusing'} the generated dataset in ${path.resolve(o.generate)} (${params.perClass} train / ${params.testPerClass} test per class, drawing seed ${params.seed})`
    )
  }
  if (o.dataset === 'sample') {
    const dir = path.join(root, 'sample')
    await writeGeneratedDataset(dir, BUILTIN_SAMPLE)
    log(`Wrote the built-in sample (${BUILTIN_SAMPLE.perClass} train / ${BUILTIN_SAMPLE.testPerClass} test per class, seed ${BUILTIN_SAMPLE.seed}) to ${dir}`)
    return dir
  }
  const folder = path.resolve(o.dataset ?? o.generate!)
  const isDir = await fs.stat(folder).then(
    (s) => s.isDirectory(),
    () => false
  )
  if (!isDir) throw new Error(`--dataset ${folder} is not a folder: give a folder of class folders (or of train/ and test/ ones), or "sample"`)
  return folder
}

interface FileList {
  root: string
  size: number
  classes: string[]
  testSplit: string
  train: [string, number][]
  test: [string, number][]
}

/** The files and labels of each split as Quarterturn indexed them (its own split when the folder has none). */
async function fileListOf(folder: string): Promise<FileList> {
  const index = await readCacheIndex(datasetDirOf(workspace, DATASET_ID))
  const testSplit = index.splits.test ? 'test' : index.splits.val ? 'val' : null
  if (!index.splits.train || !testSplit) throw new Error(`Quarterturn indexed ${folder} without a train and a test (or val) split: nothing to evaluate on`)
  const items = (s: NonNullable<(typeof index.splits)['train']>): [string, number][] =>
    s.paths.flatMap((p, i) => (s.labels[i]! >= 0 && !p.includes('#') ? [[p, s.labels[i]!] as [string, number]] : []))
  const train = items(index.splits.train)
  const test = items(index.splits[testSplit]!)
  if (train.length < index.splits.train.count || test.length < index.splits[testSplit]!.count)
    log('note: images without a label or inside archive files are left out of the PyTorch side')
  return { root: folder, size: index.size, classes: index.classNames, testSplit, train, test }
}

async function runQuarterturn(
  seed: number,
  testSplit: string,
  cli: (args: string[]) => Promise<{ code: number; out: string[]; err: string[] }>
): Promise<{ result: SeedResult; runtime: string }> {
  const file = path.join(root, `quarterturn-seed-${seed}.json`)
  await fs.writeFile(file, JSON.stringify(quarterturnConfig(o, seed, { id: DATASET_ID, testSplit }), null, 2))
  const t0 = performance.now()
  // `run --json` is silent until the end: say where the run is every half minute.
  const watch = setInterval(() => void latestStep(seed).then((l) => l && log(l)), 30_000)
  const r = await cli(['run', file, '--json']).finally(() => clearInterval(watch))
  const wallSec = (performance.now() - t0) / 1000
  const last = r.out.at(-1)
  const out = last ? (JSON.parse(last) as { id: string; state: string; backend: string | null; error?: string; accuracies: Record<string, number> }) : null
  if (r.code !== 0 || !out || out.state !== 'done')
    throw new Error(`quarterturn run (seed ${seed}) did not finish: ${out?.error ?? out?.state ?? ''}\n${[...r.out, ...r.err].join('\n')}`)
  const acc = (protocol: string): number => {
    const k = Object.keys(out.accuracies).find((x) => x.startsWith(`${protocol}:`))
    if (k === undefined) throw new Error(`quarterturn run ${out.id} has no ${protocol} evaluation`)
    return out.accuracies[k]!
  }
  const pretext = o.method === 'random' ? null : await lastEpochMetrics(runPaths(runDirOf(workspace, out.id)).metrics)
  return {
    result: { seed, pretextLoss: pretext?.loss ?? null, pretextAcc: pretext?.acc ?? null, probeTop1: acc('linear'), knnTop1: acc('knn'), wallSec },
    runtime: `Quarterturn CLI, backend ${out.backend ?? '?'}, Node ${process.versions.node}`
  }
}

/** The newest run's last metrics record, as a progress line (null before its first step). */
async function latestStep(seed: number): Promise<string | null> {
  const ids = await fs.readdir(path.join(workspace, 'runs')).catch(() => [] as string[])
  const id = ids
    .filter((d) => !d.endsWith('.json'))
    .sort()
    .at(-1)
  if (!id) return null
  const text = await fs.readFile(runPaths(runDirOf(workspace, id)).metrics, 'utf8').catch(() => '')
  const last = text.trim().split('\n').at(-1)
  if (!last) return null
  try {
    const m = JSON.parse(last) as { stage: string; epoch: number; step: number; loss?: number; acc_rot?: number }
    const acc = m.acc_rot !== undefined ? `, rotation accuracy ${(100 * m.acc_rot).toFixed(1)}%` : ''
    return `[quarterturn seed ${seed}] ${m.stage} epoch ${m.epoch + 1} step ${m.step + 1}${m.loss !== undefined ? `: loss ${m.loss.toFixed(4)}${acc}` : ''}`
  } catch {
    return null
  }
}

/** The means of the pretraining's loss and rotation accuracy over its last epoch's steps (metrics.jsonl). */
async function lastEpochMetrics(file: string): Promise<{ loss: number; acc: number }> {
  const records = (await fs.readFile(file, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { stage?: string; epoch?: number; loss?: number; acc_rot?: number })
    .filter((r) => r.stage === 'pretrain')
  const lastEpoch = Math.max(...records.map((r) => r.epoch ?? 0))
  const last = records.filter((r) => r.epoch === lastEpoch)
  if (!last.length) throw new Error(`${file} holds no pretraining steps`)
  const avg = (f: (r: (typeof last)[number]) => number | undefined): number => last.reduce((s, r) => s + (f(r) ?? NaN), 0) / last.length
  return { loss: avg((r) => r.loss), acc: 100 * avg((r) => r.acc_rot) }
}

async function runPytorch(seed: number, fileList: string): Promise<{ result: SeedResult; runtime: string }> {
  const t0 = performance.now()
  const child = spawn(o.python, [TWIN, ...pytorchArgs(o, seed, fileList)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString()
    for (const l of d.toString().split('\n').filter(Boolean)) log(`  ${l}`)
  })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', (err) => reject(new Error(`cannot start ${o.python}: ${err.message}; give the Python that has torch with --python`)))
    child.on('close', resolve)
  })
  const wallSec = (performance.now() - t0) / 1000
  const last = stdout.trim().split('\n').at(-1)
  if (code !== 0 || !last) {
    const hint = /No module named '(torch|PIL|numpy)'/.exec(stderr)
    throw new Error(
      `the PyTorch twin (seed ${seed}) failed with exit code ${code}${hint ? `: ${o.python} lacks ${hint[1]} (Debian: apt-get install python3-torch python3-pil)` : ''}\n${stderr.trim().split('\n').slice(-5).join('\n')}`
    )
  }
  const r = JSON.parse(last) as { pretextLoss: number | null; pretextAcc: number | null; probeTop1: number; knnTop1: number; threads: number; torch: string }
  return {
    result: { seed, pretextLoss: r.pretextLoss, pretextAcc: r.pretextAcc, probeTop1: r.probeTop1, knnTop1: r.knnTop1, wallSec },
    runtime: `tools/torch-twin/train.py, torch ${r.torch}, ${r.threads} thread${r.threads === 1 ? '' : 's'}`
  }
}
