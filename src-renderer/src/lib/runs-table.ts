// The runs table's model: its columns (fixed ones and one per evaluation, protocol × dataset),
// each column's sort value, filtering, and which columns the user chose to see (kept in
// localStorage). RunsView renders it; no Vue here, so it is tested as plain functions.
import type { RunSummary } from '../../../src-shared/contract'

export interface RunsColumn {
  key: string
  label: string
  /** Full name, where the label is shortened (an evaluation's dataset). */
  title?: string
  /** Shown until the user chooses otherwise. */
  byDefault: boolean
}

/** Queued, running and paused runs are listed first: they are the work in progress. */
export const ACTIVE_STATES = new Set(['queued', 'running', 'paused'])

export const FIXED_COLUMNS: RunsColumn[] = [
  { key: 'state', label: 'State', byDefault: true },
  { key: 'method', label: 'Method', byDefault: true },
  { key: 'dataset', label: 'Dataset', byDefault: true },
  { key: 'backend', label: 'Backend', byDefault: false },
  { key: 'duration', label: 'Duration', byDefault: true },
  { key: 'created', label: 'Created', byDefault: false },
  { key: 'tags', label: 'Tags', byDefault: true },
  { key: 'notes', label: 'Notes', byDefault: false }
]

/** "sample (10 classes, 64px, seed 1)" -> "sample": the header stays narrow, the title has it all. */
export function shortDataset(label: string): string {
  return label.replace(/\s*\(.*\)\s*$/, '') || label
}

export const evalKey = (protocol: string, dataset: string): string => `eval:${protocol}:${dataset}`

/** One column per evaluation any run has, pretraining dataset first, then by protocol. */
export function evaluationColumns(runs: readonly RunSummary[]): RunsColumn[] {
  const ORDER = ['linear', 'nonlinear', 'knn', 'finetune']
  const seen = new Map<string, { col: RunsColumn; transfer: boolean; dataset: string; order: number }>()
  for (const r of runs) {
    for (const e of r.evaluations) {
      const key = evalKey(e.protocol, e.dataset)
      if (!seen.has(key))
        seen.set(key, {
          col: { key, label: `${e.protocol} · ${shortDataset(e.dataset)}`, title: `${e.protocol} on ${e.dataset}`, byDefault: true },
          transfer: e.transfer,
          dataset: e.dataset,
          order: ORDER.indexOf(e.protocol)
        })
    }
  }
  return [...seen.values()].sort((a, b) => Number(a.transfer) - Number(b.transfer) || a.dataset.localeCompare(b.dataset) || a.order - b.order).map((x) => x.col)
}

export function accuracyOf(r: RunSummary, key: string): number | null {
  const e = r.evaluations.find((x) => evalKey(x.protocol, x.dataset) === key)
  return e ? e.accuracy : null
}

/** The value a column sorts by (null sorts last whatever the direction). */
export function sortValue(r: RunSummary, key: string): string | number | null {
  switch (key) {
    case 'name':
      return r.name.toLowerCase()
    case 'state':
      return r.status.state
    case 'method':
      return r.method
    case 'dataset':
      return r.dataset ?? null
    case 'backend':
      return r.status.backend
    case 'duration':
      return r.status.wallMs
    case 'created':
      return r.status.createdAt
    case 'tags':
      return r.tags?.length ? r.tags.join(', ').toLowerCase() : null
    case 'notes':
      return r.notes ? r.notes.toLowerCase() : null
    default:
      return key.startsWith('eval:') ? accuracyOf(r, key) : null
  }
}

/** Active runs first, then the rest; each part sorted by `key` (`dir` 1 ascending, -1 descending). */
export function sortRuns(runs: readonly RunSummary[], key: string, dir: 1 | -1): RunSummary[] {
  const cmp = (a: RunSummary, b: RunSummary): number => {
    const x = sortValue(a, key)
    const y = sortValue(b, key)
    if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1
    const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y))
    return c * dir || b.status.createdAt.localeCompare(a.status.createdAt)
  }
  const active = runs.filter((r) => ACTIVE_STATES.has(r.status.state)).sort(cmp)
  const rest = runs.filter((r) => !ACTIVE_STATES.has(r.status.state)).sort(cmp)
  return [...active, ...rest]
}

export interface RunsFilter {
  text: string
  state: string
  method: string
  tag: string
}

export function matches(r: RunSummary, f: RunsFilter): boolean {
  if (f.state && r.status.state !== f.state) return false
  if (f.method && r.method !== f.method) return false
  if (f.tag && !(r.tags ?? []).includes(f.tag)) return false
  const t = f.text.trim().toLowerCase()
  if (!t) return true
  return [r.name, r.id, r.method, r.status.state, r.preset ?? '', r.dataset ?? '', r.status.backend ?? '', r.notes ?? '', ...(r.tags ?? [])].some((s) =>
    s.toLowerCase().includes(t)
  )
}

/** "baseline, lr sweep" -> ["baseline", "lr sweep"]. */
export function parseTags(text: string): string[] {
  return [
    ...new Set(
      text
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
    )
  ]
}

const COLUMNS_KEY = 'runs.columns'

/** The columns the user hid or showed (by key); the others follow their default. */
export function loadColumnChoice(): Record<string, boolean> {
  try {
    const v = JSON.parse(localStorage.getItem(COLUMNS_KEY) ?? '{}') as unknown
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, boolean>) : {}
  } catch {
    return {}
  }
}

export function saveColumnChoice(choice: Record<string, boolean>): void {
  localStorage.setItem(COLUMNS_KEY, JSON.stringify(choice))
}
