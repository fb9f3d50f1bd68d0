// The map parameters form: a flat model of every field, turned into a map spec by the
// contract's own schema (MapSpecSchema), so the form refuses exactly what the host would, with
// one message per field; and short descriptions of a spec for listings, titles and captions.
import type { z } from 'zod'
import { MapSpecSchema, type MapSpec } from '../../../src-shared/contract/maps'
import { findMethod } from '../../../src-shared/methods/catalog'

export type MapMethod = MapSpec['method']
export type MapLayer = MapSpec['layer']

export interface MapForm {
  method: MapMethod
  layer: MapLayer
  split: 'train' | 'test'
  /** 'latest' or a checkpoint number. */
  source: 'latest' | number
  maxPoints: number | ''
  seed: number | ''
  perplexity: number | ''
  iterations: number | ''
  /** Empty: chosen from the number of points ("auto"). */
  learningRate: number | ''
  earlyExaggeration: number | ''
  pcaDims: number | ''
  neighbors: number | ''
}

export const METHODS: { id: MapMethod; label: string }[] = [
  { id: 'pca', label: 'PCA' },
  { id: 'tsne', label: 't-SNE' },
  { id: 'umap', label: 'UMAP' }
]
export const LAYERS: { id: MapLayer; label: string }[] = [
  { id: 'conv5', label: 'conv5' },
  { id: 'pool5', label: 'pool5' },
  { id: 'fc', label: 'fc' },
  { id: 'fc-inv', label: 'fc, invariant half (RFD)' },
  { id: 'fc-rot', label: 'fc, rotation half (RFD)' },
  { id: 'proj', label: 'projection head (RFD, SimCLR)' }
]

/**
 * The layers a run's network has, and the one its evaluations read (config.evaluation.layer,
 * conv5 by default), which a new map starts from so the map shows the features the accuracies
 * are about. The projection head exists only for a pretraining method whose catalog entry has
 * one; fc's rotation and invariant halves only for RFD's decoupled feature (a method with both a
 * rotation and a projection head). An unknown or unreadable config offers the backbone's layers.
 */
export function layersFor(config: unknown): { layers: { id: MapLayer; label: string }[]; defaultLayer: MapLayer } {
  const c = (config ?? {}) as { pretrain?: { enabled?: unknown; method?: { method?: unknown } }; evaluation?: { layer?: unknown } }
  const m = c.pretrain?.enabled !== false && typeof c.pretrain?.method?.method === 'string' ? findMethod(c.pretrain.method.method) : undefined
  const proj = m?.traits.projectionHead === true
  const halves = proj && m?.traits.rotationHead === true
  const layers = LAYERS.filter((l) => (l.id === 'proj' ? proj : l.id === 'fc-inv' || l.id === 'fc-rot' ? halves : true))
  const evalLayer = c.evaluation?.layer ?? 'conv5'
  const defaultLayer = layers.find((l) => l.id === evalLayer)?.id ?? 'conv5'
  return { layers, defaultLayer }
}

export const methodLabel = (m: unknown): string => METHODS.find((x) => x.id === m)?.label ?? String(m)

/** The form filled with the schema's defaults. */
export function defaultForm(): MapForm {
  const t = MapSpecSchema.parse({ method: 'tsne' }) as Extract<MapSpec, { method: 'tsne' }>
  const u = MapSpecSchema.parse({ method: 'umap' }) as Extract<MapSpec, { method: 'umap' }>
  return {
    method: 'tsne',
    layer: t.layer,
    split: t.split,
    source: t.source,
    maxPoints: t.maxPoints,
    seed: t.seed,
    perplexity: t.perplexity,
    iterations: t.iterations,
    learningRate: '',
    earlyExaggeration: t.earlyExaggeration,
    pcaDims: t.pcaDims,
    neighbors: u.neighbors
  }
}

/** The form showing a stored map's parameters (to compute a variant of it). */
export function formFromSpec(spec: Record<string, unknown>, base: MapForm = defaultForm()): MapForm {
  const parsed = MapSpecSchema.safeParse(spec)
  if (!parsed.success) return base
  const s = parsed.data
  const out: MapForm = { ...base, method: s.method, layer: s.layer, split: s.split, source: s.source, maxPoints: s.maxPoints, seed: s.seed }
  if (s.method === 'tsne')
    Object.assign(out, {
      perplexity: s.perplexity,
      iterations: s.iterations,
      learningRate: s.learningRate ?? '',
      earlyExaggeration: s.earlyExaggeration,
      pcaDims: s.pcaDims
    })
  if (s.method === 'umap') out.neighbors = s.neighbors
  return out
}

/** A field's message in words a form shows next to it. */
function message(issue: z.ZodError['issues'][number]): string {
  const generic = /^(Too small|Too big|Invalid input)/.test(issue.message)
  if (!generic) return issue.message
  if (issue.code === 'too_small') return `at least ${String(issue.minimum)}`
  if (issue.code === 'too_big') return `at most ${String(issue.maximum)}`
  if (issue.code === 'invalid_type') return issue.expected === 'int' ? 'a whole number' : 'a number is required'
  return issue.message
}

export type SpecCheck = { ok: true; spec: MapSpec } | { ok: false; issues: Partial<Record<keyof MapForm, string>> }

/** The spec the form describes, or a message per field that the schema refuses. */
export function specFromForm(f: MapForm): SpecCheck {
  const num = (v: number | ''): number | undefined => (v === '' ? undefined : v)
  const common = { method: f.method, layer: f.layer, split: f.split, source: f.source, maxPoints: num(f.maxPoints), seed: num(f.seed) }
  // A cleared field is refused rather than silently replaced by its default.
  const raw: Record<string, unknown> =
    f.method === 'tsne'
      ? {
          ...common,
          perplexity: num(f.perplexity),
          iterations: num(f.iterations),
          learningRate: f.learningRate === '' ? null : f.learningRate,
          earlyExaggeration: num(f.earlyExaggeration),
          pcaDims: num(f.pcaDims)
        }
      : f.method === 'umap'
        ? { ...common, neighbors: num(f.neighbors) }
        : common
  const issues: Partial<Record<keyof MapForm, string>> = {}
  for (const [k, v] of Object.entries(raw)) if (v === undefined) issues[k as keyof MapForm] = 'a number is required'
  const parsed = MapSpecSchema.safeParse(raw)
  if (!parsed.success) for (const i of parsed.error.issues) issues[String(i.path[0] ?? 'method') as keyof MapForm] ??= message(i)
  if (Object.keys(issues).length || !parsed.success) return { ok: false, issues }
  return { ok: true, spec: parsed.data }
}

const int = new Intl.NumberFormat('en-US')

/** "t-SNE · fc · test · 2,000 points · perplexity 30 · 1,000 iterations · seed 0" */
export function describeSpec(spec: Record<string, unknown>, n?: number): string {
  const parts = [methodLabel(spec.method), String(spec.layer ?? 'fc'), String(spec.split ?? 'test')]
  parts.push(`${int.format(n ?? Number(spec.maxPoints ?? 0))} points`)
  if (spec.source !== undefined && spec.source !== 'latest') parts.push(`checkpoint ${String(spec.source)}`)
  if (spec.method === 'tsne') parts.push(`perplexity ${String(spec.perplexity)}`, `${int.format(Number(spec.iterations))} iterations`)
  if (spec.method === 'umap') parts.push(`${String(spec.neighbors)} neighbours`)
  parts.push(`seed ${String(spec.seed ?? 0)}`)
  return parts.join(' · ')
}

/** "45%" */
export const pctText = (v: number): string => `${(v * 100).toFixed(v >= 0.995 || v < 0.1 ? 1 : 0)}%`
