// What an indexing job tells about the images it kept: per-class counts (and the classes left
// empty), size statistics, problem counts and the dataset fingerprint. Pure functions of the
// detected layout and the decoded columns, so inspect and index report the same way.
import { createHash } from 'node:crypto'
import type { ClassInfo, Fingerprint, Problem, ProblemCounts, SizeStats, SplitInfo, SplitName } from '../../src-shared/contract/datasets'
import { SPLIT_NAMES } from '../../src-shared/contract/datasets'
import { RESIZE_POLICY, type SplitColumns } from '../../src-node/dataset-folder'
import type { Detected } from './layout'
import { bytesOfName } from './scan'

type Splits = Partial<Record<SplitName, SplitColumns>>

export function countProblems(problems: Problem[]): ProblemCounts {
  const c: ProblemCounts = {}
  for (const p of problems) c[p.kind] = (c[p.kind] ?? 0) + 1
  return c
}

/**
 * Each class with its image count per split. A class with no usable image keeps its index (labels
 * stay stable) and is reported as an `empty-class` problem.
 */
export function classesOf(d: Pick<Detected, 'classIds' | 'classNames'>, splits: Splits, problems: Problem[]): ClassInfo[] {
  const counts = d.classIds.map(() => ({}) as Partial<Record<SplitName, number>>)
  for (const [name, s] of Object.entries(splits) as [SplitName, SplitColumns][]) {
    for (const l of s.labels) if (l >= 0) counts[l]![name] = (counts[l]![name] ?? 0) + 1
  }
  d.classIds.forEach((id, i) => {
    if (Object.keys(counts[i]!).length === 0)
      problems.push({ kind: 'empty-class', path: id, reason: `class "${d.classNames[i]}" has no usable images`, skipped: false })
  })
  return d.classIds.map((id, index) => ({ index, id, name: d.classNames[index] ?? id, counts: counts[index]! }))
}

/** Each kept split, with where it came from (the dataset's own, or made by assignSplits). */
export function splitInfosOf(d: Pick<Detected, 'splitOrigins'>, splits: Splits): SplitInfo[] {
  return (Object.entries(splits) as [SplitName, SplitColumns][]).map(([name, s]) => ({
    name,
    count: s.count,
    labelled: s.labelled,
    origin: d.splitOrigins[name]?.origin ?? 'dataset',
    detail: d.splitOrigins[name]?.detail ?? ''
  }))
}

export function sizeStatsOf(widths: number[], heights: number[]): SizeStats {
  const n = widths.length
  if (n === 0) return { images: 0, minWidth: 0, maxWidth: 0, minHeight: 0, maxHeight: 0, medianWidth: 0, medianHeight: 0, common: [] }
  const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor((n - 1) / 2)]!
  const counts = new Map<string, number>()
  let minW = Infinity,
    maxW = 0,
    minH = Infinity,
    maxH = 0
  for (let i = 0; i < n; i++) {
    const w = widths[i]!,
      h = heights[i]!
    minW = Math.min(minW, w)
    maxW = Math.max(maxW, w)
    minH = Math.min(minH, h)
    maxH = Math.max(maxH, h)
    const k = `${w}x${h}`
    counts.set(k, (counts.get(k) ?? 0) + 1)
  }
  const common = [...counts.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 5)
    .map(([k, count]) => {
      const [width, height] = k.split('x').map(Number) as [number, number]
      return { width, height, count }
    })
  return { images: n, minWidth: minW, maxWidth: maxW, minHeight: minH, maxHeight: maxH, medianWidth: median(widths), medianHeight: median(heights), common }
}

/** Fingerprint: the source file list (sizes, mtimes) and the cache content, hashed. */
export function fingerprintOf(d: Pick<Detected, 'sourceFiles'>, size: number, splits: Splits): Fingerprint {
  const files = [...d.sourceFiles].sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  const list = createHash('sha256')
  let bytes = 0
  for (const f of files) {
    // The name's own bytes: the same as its UTF-8 for every name that is UTF-8.
    list.update(bytesOfName(f.rel)).update(`\t${f.size}\t${f.mtimeMs}\n`)
    bytes += f.size
  }
  const cache = createHash('sha256').update(`size ${size}\n${RESIZE_POLICY}\n`)
  for (const name of SPLIT_NAMES) {
    const s = splits[name]
    if (s) cache.update(`${name} ${s.count} ${s.sha256}\n`)
  }
  const listSha256 = list.digest('hex')
  const cacheSha256 = cache.digest('hex')
  const id = createHash('sha256').update(listSha256).update(cacheSha256).digest('hex').slice(0, 16)
  return { id, files: files.length, bytes, listSha256, cacheSha256 }
}
