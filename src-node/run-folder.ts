// The layout of a run folder, workspace/runs/<id>/, and the only code that names its files:
//   run.json        what was run: resolved config, its hash, seed, versions, data fingerprints
//   status.json     the state machine (queued -> running ⇄ paused -> done | failed | ...)
//   lock.json       which process trains the run (src-host/runs/run-lock.ts)
//   metrics.jsonl   one line per step, append-only (./metrics-log.ts)
//   log.jsonl       the run's log lines
//   checkpoints/    numbered checkpoints (./checkpoint.ts)
//   artifacts/      what the stages leave: parameter bundles (backbone-pretrain, model-pretrain,
//                   backbone-finetune, each .json + .bin), the imported backbone a run starts from
//                   (backbone-init.safetensors), prob.dat (PU estimation), results.json
//                   (evaluations), features/ and maps/ (embedding maps)
// It also says which weights each stage writes and loads. Plain Node: the host reads run folders,
// workers write them; neither builds these paths itself.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { z } from 'zod'
import { decodeBundle, encodeBundle } from './checkpoint'
import { writeFileAtomic } from './fsutil'
import { EvaluationSchema, RunSweepSchema, type Evaluation } from '../src-shared/contract/runs'
import { MapResultSchema, type MapInfo, type MapResult, type MapSpec } from '../src-shared/contract/maps'
import { GpuAdapterSchema } from '../src-shared/contract/gpu'
import { PlacementSchema, RunExecutorSchema } from '../src-shared/contract/executor'
import type { RunConfig } from '../src-shared/config/run'

/** The folder of every run of a workspace, and the queue its serving process keeps there. */
export const runsDirOf = (workspaceDir: string): string => path.join(workspaceDir, 'runs')
export const queueFileOf = (workspaceDir: string): string => path.join(runsDirOf(workspaceDir), 'queue.json')
export const runDirOf = (workspaceDir: string, id: string): string => path.join(runsDirOf(workspaceDir), id)

/** Every file and folder of one run folder. */
export function runPaths(runDir: string) {
  const artifacts = path.join(runDir, 'artifacts')
  return {
    dir: runDir,
    run: path.join(runDir, 'run.json'),
    status: path.join(runDir, 'status.json'),
    lock: path.join(runDir, 'lock.json'),
    metrics: path.join(runDir, 'metrics.jsonl'),
    log: path.join(runDir, 'log.jsonl'),
    checkpoints: path.join(runDir, 'checkpoints'),
    artifacts,
    results: path.join(artifacts, 'results.json'),
    /** The .safetensors backbone a run starts from (backbone.init of kind 'file'), copied here when the run is created. */
    initBackbone: path.join(artifacts, 'backbone-init.safetensors'),
    puProbs: path.join(artifacts, 'prob.dat'),
    features: path.join(artifacts, 'features'),
    maps: path.join(artifacts, 'maps')
  }
}

/** A new run's folder with its (empty) checkpoints and artifacts. */
export async function makeRunFolder(runDir: string): Promise<void> {
  const p = runPaths(runDir)
  await fs.mkdir(p.checkpoints, { recursive: true })
  await fs.mkdir(p.artifacts, { recursive: true })
}

/** What run.json holds (the config is checked by the run config's own schema after). */
export const RunFileSchema = z.object({
  id: z.string(),
  name: z.string(),
  preset: z.string().nullable(),
  createdAt: z.string(),
  config: z.unknown(),
  configHash: z.string(),
  seed: z.number(),
  versions: z.record(z.string(), z.string()),
  datasets: z.array(z.object({ ref: z.unknown(), label: z.string() })),
  /** Filled when the run first starts: content hashes of the splits it trained and tested on. */
  dataFingerprints: z.array(z.object({ label: z.string(), split: z.string(), images: z.number(), sha256: z.string() })).optional(),
  /** Backend of each attempt (a resumed run may land on another machine). */
  backends: z.array(z.string()).optional(),
  /** The GPU adapter of each attempt, index for index with `backends` (null: not a GPU backend). */
  adapters: z.array(GpuAdapterSchema.nullable()).optional(),
  /** The imported backbone (backbone.init of kind 'file'): where it came from, and the SHA-256 and size of the copy, checked each time it is read. */
  backboneInit: z.object({ source: z.string(), sha256: z.string(), bytes: z.number() }).optional(),
  /** Each attempt submitted to a batch scheduler (Slurm): job id, node(s), final state, its log. */
  placements: z.array(PlacementSchema).optional(),
  /** This run's own executor settings, over the workspace's executor.json. */
  executor: RunExecutorSchema.optional(),
  /**
   * Runs made together by "repeat with N seeds" (same config but the seed) share this id. It
   * lives beside the config, not in it: it says how the run was started, not how it trains, so
   * the config (and its hash, up to the seed) stays what a single run of it would have been.
   */
  group: z.string().optional(),
  /** The grid sweep the run is a point of; beside the config for the same reason as `group`. */
  sweep: RunSweepSchema.optional()
})
export type RunFile = Omit<z.infer<typeof RunFileSchema>, 'config'> & { config: RunConfig }

/** The config stored in run.json, unchecked: the worker parses it once. */
export async function readStoredConfig(runDir: string): Promise<unknown> {
  return (JSON.parse(await fs.readFile(runPaths(runDir).run, 'utf8')) as { config: unknown }).config
}

// ---- weights --------------------------------------------------------------------------------

/** Parameter bundles the training stages leave in artifacts/ (each a .json and a .bin). */
export type WeightsArtifact = 'backbone-pretrain' | 'model-pretrain' | 'backbone-finetune'
export type Params = Record<string, { shape: number[]; data: Float32Array }>

/** The parameters a backbone bundle keeps (the rest belong to heads). */
const BACKBONE_PARAM = /^(conv\d|fc6|fc7)\./
export const isBackboneParam = (name: string): boolean => BACKBONE_PARAM.test(name)

/**
 * What pretraining and fine-tuning write when they finish: the backbone alone, and after
 * pretraining the whole model too (heads included: rotation previews and projection maps load it).
 */
export const STAGE_WEIGHTS = {
  pretrain: { backbone: 'backbone-pretrain', model: 'model-pretrain' },
  finetune: { backbone: 'backbone-finetune' }
} as const satisfies Record<string, { backbone: WeightsArtifact; model?: WeightsArtifact }>

/** The imported backbone a run starts from (backbone.init of kind 'file'), read by ./weights-import.ts. */
export const INIT_WEIGHTS = 'backbone-init'
/** Weights a stage starts from: a stage's bundle, the imported backbone, or null for random init. */
export type StartWeights = WeightsArtifact | typeof INIT_WEIGHTS | null

const initOf = (c: Pick<RunConfig, 'backbone'>): StartWeights => (c.backbone.init?.kind === 'file' ? INIT_WEIGHTS : null)

/** The backbone pretraining starts from: the imported one, else random init. */
export function pretrainStartWeights(c: Pick<RunConfig, 'backbone'>): StartWeights {
  return initOf(c)
}

/** The backbone fine-tuning starts from: the pretrained one when pretraining ran, else the imported one, else random init. */
export function finetuneStartWeights(c: Pick<RunConfig, 'pretrain' | 'backbone'>): StartWeights {
  return c.pretrain.enabled ? STAGE_WEIGHTS.pretrain.backbone : initOf(c)
}

/** The backbone evaluation probes: the last trained one (fine-tuned, else pretrained), else the imported one (frozen), else random init. */
export function evaluationWeights(c: Pick<RunConfig, 'pretrain' | 'finetune' | 'backbone'>): StartWeights {
  return c.finetune.enabled ? STAGE_WEIGHTS.finetune.backbone : c.pretrain.enabled ? STAGE_WEIGHTS.pretrain.backbone : initOf(c)
}

/** The weights a map of the 'latest' model reads, first found wins (a projection head lives only in the pretrained model; the imported backbone comes last). */
export function latestWeights(layer: MapSpec['layer']): (WeightsArtifact | typeof INIT_WEIGHTS)[] {
  return layer === 'proj' ? [STAGE_WEIGHTS.pretrain.model] : [STAGE_WEIGHTS.finetune.backbone, STAGE_WEIGHTS.pretrain.backbone, INIT_WEIGHTS]
}

const weightsFile = (runDir: string, a: WeightsArtifact): string => path.join(runPaths(runDir).artifacts, a)

/** A parameter bundle, or null when the stage has not written it (or it is unreadable). */
export async function readWeights(runDir: string, a: WeightsArtifact): Promise<Params | null> {
  try {
    const file = weightsFile(runDir, a)
    const json = JSON.parse(await fs.readFile(file + '.json', 'utf8')) as unknown
    const bin = await fs.readFile(file + '.bin')
    return decodeBundle(json, bin) as Params
  } catch {
    return null
  }
}

export async function writeWeights(runDir: string, a: WeightsArtifact, params: Params): Promise<void> {
  const { json, bin } = encodeBundle(params)
  const file = weightsFile(runDir, a)
  await writeFileAtomic(file + '.bin', bin)
  await writeFileAtomic(file + '.json', JSON.stringify(json))
}

/**
 * What identifies the weights a map is made from: the checkpoint number, or the trained
 * artifact's write time ('latest' changes when a resumed run finishes another stage).
 */
export async function weightsIdOf(runDir: string, source: MapSpec['source'], layer: MapSpec['layer']): Promise<string> {
  if (source !== 'latest') return `checkpoint-${source}`
  for (const a of latestWeights(layer)) {
    const st = await fs.stat(a === INIT_WEIGHTS ? runPaths(runDir).initBackbone : weightsFile(runDir, a) + '.bin').catch(() => null)
    if (st) return `${a}.bin@${st.mtimeMs}`
  }
  return 'random-init'
}

/** Spatial side conv features are max-pooled to when the config leaves it at 0: 6 for 224-pixel input, else 3. */
export function featurePool(pool: number, inputSize: number): number {
  return pool || (inputSize === 224 ? 6 : 3)
}

// ---- PU estimation ----------------------------------------------------------------------------

/** prob.dat, the reference's layout: one probability per line, line 4i + r for image i turned r quarter turns. */
export async function writePuProbs(runDir: string, probs: Float32Array): Promise<void> {
  await writeFileAtomic(runPaths(runDir).puProbs, Array.from(probs, (p) => p.toFixed(6)).join('\n') + '\n')
}

export async function readPuProbs(runDir: string): Promise<Float32Array | undefined> {
  const text = await fs.readFile(runPaths(runDir).puProbs, 'utf8').catch(() => null)
  return text ? Float32Array.from(text.trim().split('\n').map(Number)) : undefined
}

// ---- results ----------------------------------------------------------------------------------

/** The evaluations recorded so far (none when results.json is missing or unreadable; entries that are not evaluations are skipped). */
export async function readResults(runDir: string): Promise<{ evaluations: Evaluation[] }> {
  try {
    const raw = JSON.parse(await fs.readFile(runPaths(runDir).results, 'utf8')) as { evaluations?: unknown }
    const list = Array.isArray(raw?.evaluations) ? raw.evaluations : []
    return {
      evaluations: list.flatMap((e) => {
        const r = EvaluationSchema.safeParse(e)
        return r.success ? [r.data] : []
      })
    }
  } catch {
    return { evaluations: [] }
  }
}

/** Record an evaluation, replacing an earlier one with the same id. */
export async function saveEvaluation(runDir: string, e: Evaluation): Promise<void> {
  const res = await readResults(runDir)
  res.evaluations = res.evaluations.filter((x) => x.id !== e.id).concat(e)
  await writeFileAtomic(runPaths(runDir).results, JSON.stringify(res, null, 1))
}

// ---- embedding maps ---------------------------------------------------------------------------

const source = (s: MapSpec['source']): string => (s === 'latest' ? 'latest' : `ck${s}`)

/** Which features a map reads: layer, split, weights and the seeded subset of images. */
export function featuresKey(spec: MapSpec): string {
  return `${spec.layer}-${spec.split}-${source(spec.source)}-n${spec.maxPoints}-s${spec.seed}`
}

/** A map's name: every parameter that changes the map is in it (the seed also picks the image subset). */
export function mapKey(spec: MapSpec): string {
  const p =
    spec.method === 'tsne'
      ? `-p${spec.perplexity}-i${spec.iterations}-lr${spec.learningRate ?? 'auto'}-ee${spec.earlyExaggeration}-pd${spec.pcaDims}`
      : spec.method === 'umap'
        ? `-k${spec.neighbors}`
        : ''
  return `${spec.layer}-${spec.split}-${source(spec.source)}-${spec.method}${p}-s${spec.seed}-n${spec.maxPoints}`
}

/** Stored features of a map: the vectors (.f32) and what they are (.json). */
export function featureFiles(runDir: string, key: string): { data: string; meta: string } {
  const dir = runPaths(runDir).features
  return { data: path.join(dir, `${key}.f32`), meta: path.join(dir, `${key}.json`) }
}

const isKey = (key: string): boolean => /^[A-Za-z0-9._-]+$/.test(key)
const mapFile = (runDir: string, key: string): string => path.join(runPaths(runDir).maps, `${key}.json`)

/** A stored map, or null when there is none by that key (or it is not a map). */
export async function readMap(runDir: string, key: string): Promise<MapResult | null> {
  if (!isKey(key)) return null
  try {
    const r = MapResultSchema.safeParse(JSON.parse(await fs.readFile(mapFile(runDir, key), 'utf8')))
    return r.success ? r.data : null
  } catch {
    return null
  }
}

export async function writeMap(runDir: string, map: MapResult): Promise<void> {
  await fs.mkdir(runPaths(runDir).maps, { recursive: true })
  await writeFileAtomic(mapFile(runDir, map.key), JSON.stringify(map))
}

/** The maps stored for a run (without their points), newest first. */
export async function listMaps(runDir: string): Promise<MapInfo[]> {
  const dir = runPaths(runDir).maps
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.json'))
  const out: (MapInfo & { mtime: number })[] = []
  for (const f of names) {
    const m = await readMap(runDir, f.slice(0, -5))
    const st = await fs.stat(path.join(dir, f)).catch(() => null)
    if (m && st) out.push({ key: m.key, spec: m.spec, n: m.n, knnPreservation: m.knnPreservation, seconds: m.seconds, weights: m.weights, mtime: st.mtimeMs })
  }
  return out.sort((a, b) => b.mtime - a.mtime).map(({ mtime: _, ...m }) => m)
}
