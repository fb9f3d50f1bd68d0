// The `quarterturn dataset` commands: inspect (writes nothing), add (register and cache, with a
// progress bar on stderr), list. Exit codes: 0 success, 1 failure, 2 bad argument, 3 no usable
// images in the folder.
import path from 'node:path'
import type { Host } from '../host'
import type { DatasetSummary, IndexOptions, IndexProgress, InspectResult, Problem, SplitName } from '../../src-shared/contract/datasets'
import { IndexOptionsSchema, SPLIT_NAMES } from '../../src-shared/contract/datasets'
import { ServiceError } from '../errors'
import { DatasetError } from './service'
import { displayName } from './scan'

export const DATASET_EXIT = { ok: 0, failed: 1, badArgument: 2, noImages: 3 } as const

export const DATASET_HELP = `dataset commands:
  dataset inspect <folder>   Detected layout, classes and counts per split, image sizes and the
                             problems found. Reads the folder; writes nothing anywhere.
  dataset add <folder>       Register the folder and cache it in the workspace (progress on stderr)
  dataset add --sample       Draw and cache the built-in sample (10 classes, 64x64)
  dataset list               Registered datasets

dataset options:
  --json              Machine-readable output (inspect, list)
  --size N            Working size: side of the cached square images (default: native size)
  --seed N            Seed of generated splits (default 0)
  --name TEXT         Display name (add; default: the folder name)
  --id ID             Id to register it under, as run configs name it (add)
  --per-class N       Images per class of the sample (add --sample; default 200)
  Exit codes: 0 success, 1 failure, 2 bad argument, 3 no usable images in the folder.
`

export interface DatasetCliValues {
  json?: boolean
  size?: string
  seed?: string
  name?: string
  id?: string
  sample?: boolean
  'per-class'?: string
}

interface Out {
  out: (line: string) => void
  err: (line: string) => void
}

/** A progress line on stderr: redrawn in place on a terminal, else one line every few seconds. */
export function progressWriter(
  io: Out,
  isTty: boolean,
  write: (s: string) => void = (s) => process.stderr.write(s)
): { update(line: string): void; done(): void } {
  // Not a terminal (a log file, CI): the first line after 2 s, then one every 2 s.
  let last = Date.now()
  let shown = false
  return {
    update(line) {
      const now = Date.now()
      if (isTty) {
        write(`\r\x1b[K${line}`)
        shown = true
      } else if (now - last >= 2000) {
        io.err(line)
        last = now
      }
    },
    done() {
      if (isTty && shown) write('\n')
    }
  }
}

function fmtEta(s: number | null): string {
  if (s === null) return '--'
  const r = Math.round(s)
  return r >= 60 ? `${Math.floor(r / 60)}m${String(r % 60).padStart(2, '0')}s` : `${r}s`
}

export function progressText(p: IndexProgress): string {
  if (p.phase === 'scanning') return `scanning: ${p.filesSeen.toLocaleString('en-US')} files seen${p.message ? ` (${p.message})` : ''}`
  if (p.phase === 'finishing') return `finishing: ${p.message ?? 'writing the index'}`
  const done = p.decoded + p.reused + p.skipped
  const frac = p.total ? Math.min(1, done / p.total) : 0
  const width = 24
  const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.')
  return `[${bar}] ${done}/${p.total} images (${p.decoded} decoded, ${p.reused} reused, ${p.skipped} skipped)  ETA ${fmtEta(p.etaSeconds)}`
}

function intOption(v: string | undefined, name: string, min: number, max: number): number | undefined | Error {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < min || n > max) return new Error(`--${name} must be a whole number from ${min} to ${max}, got "${v}".`)
  return n
}

function optionsOf(values: DatasetCliValues): IndexOptions | Error {
  const size = intOption(values.size, 'size', 8, 512)
  if (size instanceof Error) return size
  const seed = intOption(values.seed, 'seed', 0, 2 ** 31 - 1)
  if (seed instanceof Error) return seed
  return IndexOptionsSchema.parse({ workingSize: size ?? null, split: { seed: seed ?? 0 } })
}

const plural = (n: number, one: string, many = one + 's'): string => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`

function countsText(counts: Partial<Record<SplitName, number>>): string {
  return (
    SPLIT_NAMES.filter((s) => counts[s])
      .map((s) => `${s} ${counts[s]}`)
      .join(', ') || 'no images'
  )
}

function printProblems(io: Out, problems: Problem[], counts: Record<string, number | undefined>, limit = 25): void {
  if (problems.length === 0) {
    io.out('Problems: none')
    return
  }
  io.out(
    `Problems: ${plural(problems.length, 'problem')} (${Object.entries(counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')})`
  )
  for (const p of problems.slice(0, limit)) io.out(`  ${p.kind.padEnd(13)} ${displayName(p.path)}: ${p.reason}`)
  if (problems.length > limit) io.out(`  … ${problems.length - limit} more (use --json for all)`)
}

function printInspect(io: Out, r: InspectResult): void {
  io.out(`Folder: ${r.path}`)
  io.out(`Layout: ${r.layout}`)
  for (const e of r.evidence) io.out(`  - ${e}`)
  io.out(`Splits: ${r.splits.map((s) => `${s.name} ${s.count}${s.origin === 'generated' ? ' (generated)' : ''}`).join(', ')}`)
  io.out(`Classes: ${r.classes.length}`)
  const shown = r.classes.slice(0, 30)
  const w = Math.min(32, Math.max(8, ...shown.map((c) => displayName(c.name).length)))
  for (const c of shown)
    io.out(
      `  ${String(c.index).padStart(4)}  ${displayName(c.name).slice(0, 32).padEnd(w)}  ${c.id !== c.name ? `(${displayName(c.id)}) ` : ''}${countsText(c.counts)}`
    )
  if (r.classes.length > shown.length) io.out(`  … ${r.classes.length - shown.length} more classes (use --json for all)`)
  const s = r.sizeStats
  io.out(
    `Images: ${plural(r.usableImages, 'usable image')} of ${plural(r.files, 'file')}; sizes ${s.minWidth}–${s.maxWidth} x ${s.minHeight}–${s.maxHeight} (median ${s.medianWidth}x${s.medianHeight}); most common ${s.common.map((c) => `${c.width}x${c.height} (${c.count})`).join(', ') || 'none'}`
  )
  io.out(`Working size if added: ${r.suggestedWorkingSize}x${r.suggestedWorkingSize}${r.workingSizeReason ? ` (${r.workingSizeReason})` : ''}`)
  printProblems(io, r.problems, r.problemCounts)
}

function summaryLine(d: DatasetSummary): string {
  if (d.damaged) return `${d.id}  ${d.name}  [damaged]  ${d.damaged.reason} ${d.damaged.action}`
  return `${d.id}  ${d.name}  [${d.status}${d.sourceAvailable ? '' : ', folder missing'}]  ${d.layout ?? '?'}  ${plural(d.images, 'image')}  ${plural(d.classes, 'class', 'classes')}  ${d.workingSize ? `${d.workingSize}px` : ''}  ${d.source}`
}

function errorExit(io: Out, err: unknown): number {
  if (err instanceof DatasetError) {
    io.err(`quarterturn: ${err.message}`)
    if (err.reason === 'no-usable-images') return DATASET_EXIT.noImages
    if (err.reason === 'bad-path' || err.code === 'invalid-argument') return DATASET_EXIT.badArgument
    return DATASET_EXIT.failed
  }
  if (err instanceof ServiceError) {
    io.err(`quarterturn: ${err.message}`)
    return err.code === 'invalid-argument' ? DATASET_EXIT.badArgument : DATASET_EXIT.failed
  }
  throw err
}

export async function cmdDataset(host: Host, positionals: string[], values: DatasetCliValues, io: Out, isTty: boolean): Promise<number> {
  const [sub, folder, ...extra] = positionals
  const usage = (msg: string): number => {
    io.err(`quarterturn dataset: ${msg}\nRun \`quarterturn --help\` for usage.`)
    return DATASET_EXIT.badArgument
  }
  if (extra.length) return usage(`unexpected argument "${extra[0]}".`)
  const options = optionsOf(values)
  if (options instanceof Error) return usage(options.message)
  const abs = (p: string): string => path.resolve(p)
  try {
    switch (sub) {
      case 'inspect': {
        if (!folder) return usage('give the folder to inspect: quarterturn dataset inspect <folder>')
        const bar = progressWriter(io, isTty)
        let r: InspectResult
        try {
          r = await host.datasets.inspect({ path: abs(folder), options }, (p) => bar.update(progressText(p)))
        } finally {
          bar.done()
        }
        if (values.json) io.out(JSON.stringify(r, null, 2))
        else printInspect(io, r)
        return r.usableImages > 0 ? DATASET_EXIT.ok : DATASET_EXIT.noImages
      }
      case 'add': {
        if (!folder && !values.sample) return usage('give the folder to add (quarterturn dataset add <folder>), or --sample')
        if (folder && values.sample) return usage('give a folder or --sample, not both')
        const perClass = intOption(values['per-class'], 'per-class', 2, 1000)
        if (perClass instanceof Error) return usage(perClass.message)
        const started = values.sample
          ? await host.datasets.addSample({ ...(perClass ? { perClass } : {}) })
          : await host.datasets.add({ path: abs(folder!), options, ...(values.name ? { name: values.name } : {}), ...(values.id ? { id: values.id } : {}) })
        if (started.status !== 'indexing') {
          io.out(summaryLine(started))
          return DATASET_EXIT.ok
        }
        const bar = progressWriter(io, isTty)
        const off = host.onEvent((name, payload) => {
          if (name === 'datasets.progress' && (payload as IndexProgress).datasetId === started.id) bar.update(progressText(payload as IndexProgress))
        })
        const stop = (): void => void host.datasets.cancel({ id: started.id })
        process.once('SIGINT', stop)
        let result
        try {
          result = await host.datasets.waitForJob(started.id)
        } finally {
          process.off('SIGINT', stop)
          off()
          bar.done()
        }
        const d = result.summary
        if (d.status !== 'ready') {
          io.err(`quarterturn: ${d.statusMessage ?? `indexing ended: ${d.status}`}`)
          return result.failureKind === 'no-usable-images' ? DATASET_EXIT.noImages : DATASET_EXIT.failed
        }
        const detail = await host.datasets.get(d.id)
        io.out(
          `Added "${d.name}" as ${d.id}: ${d.layout}, ${plural(d.images, 'image')} in ${plural(d.classes, 'class', 'classes')} at ${d.workingSize}x${d.workingSize}`
        )
        io.out(`Splits: ${d.splits.map((s) => `${s.name} ${s.count}${s.origin === 'generated' ? ' (generated)' : ''}`).join(', ')}`)
        if (d.problems)
          io.out(
            `Problems: ${plural(d.problems, 'problem')} (${Object.entries(detail.problemCounts)
              .map(([k, n]) => `${n} ${k}`)
              .join(', ')}); see them in the app or with --json`
          )
        io.out(`Fingerprint: ${d.fingerprint?.id}; cache ${(detail.cacheBytes / 2 ** 20).toFixed(1)} MiB`)
        return DATASET_EXIT.ok
      }
      case 'list': {
        const list = await host.datasets.list()
        if (values.json) io.out(JSON.stringify(list, null, 2))
        else if (list.length === 0)
          io.out('No datasets yet. Add a folder with `quarterturn dataset add <folder>`, or the sample with `quarterturn dataset add --sample`.')
        else for (const d of list) io.out(summaryLine(d))
        return DATASET_EXIT.ok
      }
      default:
        return usage(sub ? `unknown dataset command "${sub}" (inspect, add or list).` : 'give a dataset command: inspect, add or list.')
    }
  } catch (err) {
    return errorExit(io, err)
  }
}
