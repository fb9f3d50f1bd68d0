// A run's trained backbone (and, when asked, its pretraining method's heads) as a .safetensors
// file in PyTorch's layout (./torch-weights.ts), with what it is and where it came from in the
// file's metadata. Plain Node: the CLI writes a file anywhere, the host writes one into the
// workspace for the run page to download.
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { encodeSafetensors } from './safetensors'
import { toTorch, type Params } from './torch-weights'
import { writeFileAtomic } from './fsutil'
import { readMetrics } from './metrics-log'
import { STAGE_WEIGHTS, isBackboneParam, readWeights, runPaths } from './run-folder'
import { IMAGENET_MEAN, IMAGENET_STD, alexnetGeometry } from '../src-shared/backbone-shapes'
import type { RunConfig } from '../src-shared/config/run'

/** The value of the "format" metadata key: what a reader checks before trusting the layout. */
export const WEIGHTS_FORMAT = 'quarterturn-alexnet/1'

export type ExportStage = 'pretrain' | 'finetune'

export interface WeightsExportOptions {
  /** Which stage's backbone: the last one the run trains by default. */
  stage?: ExportStage
  /** Add the pretraining method's heads (from the whole pretrained model). */
  heads?: boolean
  /** The exporting program's version (metadata). */
  version: string
}

export interface WeightsExport {
  bytes: Uint8Array
  stage: ExportStage
  tensors: number
  metadata: Record<string, string>
  sha256: string
}

/** A run cannot be exported as asked; the message says why and what to do. */
export class WeightsExportError extends Error {
  constructor(
    message: string,
    readonly code: 'not-trained' | 'invalid-argument' | 'io' = 'not-trained'
  ) {
    super(message)
    this.name = 'WeightsExportError'
  }
}

interface StoredRun {
  id: string
  createdAt?: string
  configHash?: string
  seed?: number
  versions?: Record<string, string>
  datasets?: { label: string }[]
  config: RunConfig
}

/** Optimisation steps a stage took, from the metrics log (each step is one record; resumed steps were truncated). */
async function stageSteps(runDir: string, stage: ExportStage): Promise<number> {
  const steps = new Set<number>()
  for (const r of await readMetrics(runPaths(runDir).metrics).catch(() => [])) if (r.stage === stage && typeof r.step === 'number') steps.add(r.step)
  return steps.size
}

/** The .safetensors bytes of a run's weights. Throws WeightsExportError when the run has none yet. */
export async function exportRunWeights(runDir: string, o: WeightsExportOptions): Promise<WeightsExport> {
  let run: StoredRun
  try {
    run = JSON.parse(await fs.readFile(runPaths(runDir).run, 'utf8')) as StoredRun
  } catch (err) {
    throw new WeightsExportError(`${runDir} is not a readable run folder (${(err as Error).message})`, 'invalid-argument')
  }
  const c = run.config
  const trained: ExportStage[] = [...(c.pretrain?.enabled ? ['pretrain' as const] : []), ...(c.finetune?.enabled ? ['finetune' as const] : [])]
  const stage = o.stage ?? trained.at(-1)
  if (!stage)
    throw new WeightsExportError(
      `run ${run.id} trains no backbone (pretraining and fine-tuning are both off): its evaluations use ${c.backbone.init?.kind === 'file' ? 'the imported backbone it was created with' : 'a random initialisation'}, so there are no trained weights to export`,
      'invalid-argument'
    )
  if (!trained.includes(stage))
    throw new WeightsExportError(
      `run ${run.id} has no ${stage} stage (it trains: ${trained.join(', ') || 'nothing'}): choose --stage ${trained.join(' or ')}`,
      'invalid-argument'
    )
  const backbone = await readWeights(runDir, STAGE_WEIGHTS[stage].backbone)
  if (!backbone)
    throw new WeightsExportError(
      `run ${run.id} has no trained ${stage} weights yet: let its ${stage} stage finish (quarterturn resume ${run.id}), or export another stage`
    )
  const params: Params = { ...backbone }
  let heads: string[] = []
  if (o.heads) {
    if (!c.pretrain.enabled)
      throw new WeightsExportError(`run ${run.id} has no pretraining, so no method heads to export: leave out --heads`, 'invalid-argument')
    const model = await readWeights(runDir, STAGE_WEIGHTS.pretrain.model)
    if (!model) throw new WeightsExportError(`run ${run.id} has not finished pretraining, so its heads are not saved yet: let pretraining finish first`)
    heads = Object.keys(model).filter((k) => !isBackboneParam(k))
    for (const k of heads) params[k] = model[k]!
  }
  const steps = await stageSteps(runDir, stage)
  const geo = alexnetGeometry(c.backbone.arch, c.backbone.width)
  const slice = c[stage]
  const metadata: Record<string, string> = {
    format: WEIGHTS_FORMAT,
    arch: c.backbone.arch,
    width: String(c.backbone.width),
    input_size: String(geo.input),
    channel_order: 'RGB',
    layout: 'PyTorch: conv weights [out, in, kh, kw], linear weights [out, in], fc6 inputs in NCHW flatten order of pool5 (c, h, w); inputs are N x 3 x H x W',
    normalization_mean: JSON.stringify(IMAGENET_MEAN),
    normalization_std: JSON.stringify(IMAGENET_STD),
    normalization: 'pixels scaled to [0, 1], then (x - mean) / std per RGB channel',
    run_id: run.id,
    method: stage === 'finetune' ? 'supervised fine-tuning' + (c.pretrain.enabled ? ` of ${c.pretrain.method.method}` : '') : c.pretrain.method.method,
    stage,
    epochs: String(slice.epochs),
    steps: String(steps),
    seed: String(run.seed ?? c.seed),
    dataset: run.datasets?.[0]?.label ?? '',
    config_hash: run.configHash ?? '',
    heads: heads.length ? [...new Set(heads.map((k) => k.split('.')[0]!))].join(',') : 'none',
    trained_with: run.versions?.app ?? '',
    quarterturn_version: o.version,
    created: new Date().toISOString()
  }
  const bytes = encodeSafetensors(toTorch(params, steps), metadata)
  return {
    bytes,
    stage,
    tensors: Object.keys(params).length + Object.keys(params).filter((k) => k.endsWith('.running_mean')).length,
    metadata,
    sha256: createHash('sha256').update(bytes).digest('hex')
  }
}

/** Write an export atomically to `file`; an unwritable place is a WeightsExportError naming it. */
export async function writeWeightsExport(file: string, e: WeightsExport): Promise<void> {
  const dir = path.dirname(path.resolve(file))
  try {
    await fs.mkdir(dir, { recursive: true })
    await writeFileAtomic(file, e.bytes)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const why =
      code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'permission denied' : code === 'ENOSPC' ? 'the disk is full' : (err as Error).message
    throw new WeightsExportError(`cannot write ${file}: ${why}; choose another place with --out`, 'io')
  }
}

/** The file name an export gets by default: <run id>-<stage>.safetensors. */
export const defaultExportName = (runId: string, stage: ExportStage, heads: boolean): string => `${runId}-${stage}${heads ? '-heads' : ''}.safetensors`
