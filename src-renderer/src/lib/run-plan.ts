// What a run config will do, in words: the pipeline's stages in order (the host's stagesOf:
// [PU] -> [pretrain] -> [fine-tune] -> evaluate), with step counts where the dataset size is known.
import type { RunConfig } from '../../../src-shared/config/run'
import type { DatasetSummary } from '../../../src-shared/contract'
import { variantLabel } from './field-labels'
import { SAMPLE_STAND_IN, runSizes } from '../../../src-shared/estimate'
import { SAMPLE_ID } from '../../../src-shared/sample-dataset'
import { methodEntry, methodLabel, runMethodOf } from '../../../src-shared/methods/catalog'

export interface PlanStage {
  id: 'pu' | 'pretrain' | 'finetune' | 'evaluate'
  title: string
  lines: string[]
  /** Source images seen in this stage (epochs × images), when known. */
  images: number | null
}

type Ref = RunConfig['dataset']

/**
 * The method a form's draft runs, named, or '—' before one is chosen. Read from the draft, not the
 * validated config, so the launch panel names RotNet as soon as it is picked even while another
 * field (no dataset yet) keeps the config invalid.
 */
export function draftMethodLabel(draft: unknown): string {
  const d = (draft ?? {}) as { pretrain?: { enabled?: unknown; method?: { method?: unknown } }; finetune?: { enabled?: unknown } }
  const m = d.pretrain?.method?.method
  const pretrain = d.pretrain?.enabled !== false
  if (pretrain && typeof m !== 'string') return '—'
  return methodLabel(runMethodOf({ pretrain: { enabled: pretrain, method: { method: String(m) } }, finetune: { enabled: d.finetune?.enabled === true } }))
}

export function trainImagesOf(ref: Ref, datasets: Map<string, DatasetSummary>): number | null {
  if (ref.kind === 'sample') return ref.perClass * 10
  const d = datasets.get(ref.id) ?? (ref.id === SAMPLE_ID ? SAMPLE_STAND_IN : undefined)
  return d?.splits.find((s) => s.name === ref.trainSplit)?.count ?? null
}

export function refLabel(ref: Ref, datasets: Map<string, DatasetSummary>): string {
  if (ref.kind === 'sample') return `sample drawn at run time (10 classes × ${ref.perClass}, ${ref.size} px, seed ${ref.seed})`
  const d = datasets.get(ref.id)
  if (!d && ref.id === SAMPLE_ID) return `the sample (${ref.trainSplit} / ${ref.testSplit}), drawn when the run is created`
  return `${d?.name ?? ref.id} (${ref.trainSplit} / ${ref.testSplit})`
}

function schedText(s: RunConfig['pretrain']['schedule']): string {
  if (s.kind === 'constant') return `lr ${s.lr}`
  if (s.kind === 'cosine') return `cosine lr ${s.base} → ${s.min}${s.warmupEpochs ? `, ${s.warmupEpochs} warm-up epochs` : ''}`
  return `lr table ${s.table.map(([e, lr]) => `${lr} until ${e}`).join(', ')}`
}
function optText(o: RunConfig['pretrain']['optimizer']): string {
  return o.kind === 'sgd'
    ? `SGD momentum ${o.momentum}${o.nesterov ? ' (Nesterov)' : ''}, wd ${o.weightDecay}`
    : `AdamW β ${o.beta1}/${o.beta2}, wd ${o.weightDecay}`
}
const epochsText = (n: number): string => `${n} epoch${n === 1 ? '' : 's'}`
const steps = (n: number | null, bs: number, epochs: number): string =>
  n === null ? epochsText(epochs) : `${epochsText(epochs)} × ${Math.max(1, Math.ceil(n / bs))} steps = ${epochs * Math.max(1, Math.ceil(n / bs))} steps`

/** `subsets`: the saved labelled subsets of the run's dataset, when known (their names and sizes). */
export function planOf(c: RunConfig, datasets: Map<string, DatasetSummary>, subsets: { id: string; name: string; count: number }[] = []): PlanStage[] {
  const n = trainImagesOf(c.dataset, datasets)
  const out: PlanStage[] = []
  if (c.pu.enabled)
    out.push({
      id: 'pu',
      title: 'PU estimation',
      lines: [`${c.pu.folds} RotNets on held-out folds, ${epochsText(c.pu.epochs)} each`, 'Gives the per-image weights RFD applies from its PU epoch on.'],
      images: n === null ? null : n * c.pu.epochs
    })
  if (c.pretrain.enabled) {
    const m = c.pretrain.method
    out.push({
      id: 'pretrain',
      title: `Pretraining: ${variantLabel(m.method)}`,
      lines: [
        `${steps(n, c.pretrain.batchSize, c.pretrain.epochs)}, batch ${c.pretrain.batchSize}${methodEntry(m.method).traits.views === 'rotations' ? ' (× 4 rotations)' : ''}`,
        `${optText(c.pretrain.optimizer)}; ${schedText(c.pretrain.schedule)}`
      ],
      images: n === null ? null : n * c.pretrain.epochs
    })
  }
  if (c.finetune.enabled) {
    const l = c.finetune.labelled
    const saved = l.kind === 'subset' ? subsets.find((s) => s.id === l.id) : undefined
    const lab =
      l.kind === 'all'
        ? 'all labels'
        : l.kind === 'subset'
          ? `saved subset “${saved?.name ?? l.id}”`
          : l.kind === 'fraction'
            ? `${+(l.value * 100).toFixed(2)}% of each class`
            : l.kind === 'first-per-class'
              ? `first ${l.value} per class`
              : `${l.value} random per class`
    const nl =
      l.kind === 'subset' && !saved
        ? null
        : (runSizes(c, (id) => {
            const d = datasets.get(id)
            return d && { ...d, subsets }
          })?.labelled ?? null)
    out.push({
      id: 'finetune',
      title: c.pretrain.enabled ? 'Fine-tuning' : 'Supervised training (random init)',
      lines: [`on ${lab}: ${steps(nl, c.finetune.batchSize, c.finetune.epochs)}`, `${optText(c.finetune.optimizer)}; ${schedText(c.finetune.schedule)}`],
      images: nl === null ? null : nl * c.finetune.epochs
    })
  }
  const e = c.evaluation
  const protocols = [
    e.linear.enabled ? `linear probe (${epochsText(e.linear.epochs)})` : null,
    e.nonlinear.enabled ? `non-linear probe (${epochsText(e.nonlinear.epochs)})` : null,
    e.knn.enabled ? `kNN (k ${e.knn.k}, T ${e.knn.temperature})` : null,
    c.finetune.enabled ? 'the fine-tuned classifier' : null
  ].filter((x): x is string => x !== null)
  out.push({
    id: 'evaluate',
    title: 'Evaluation',
    lines: [
      protocols.length ? `${protocols.join(', ')} on frozen ${e.layer}` : 'No evaluation protocol is on.',
      `on ${refLabel(c.dataset, datasets)}${e.transfer.length ? ` and ${e.transfer.length} transfer dataset${e.transfer.length > 1 ? 's' : ''}: ${e.transfer.map((t) => refLabel(t, datasets)).join('; ')}` : ''}`
    ],
    images: null
  })
  return out
}

export function formatDuration(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return '—'
  if (sec < 60) return `${Math.max(0, Math.round(sec))} s`
  if (sec < 3600) return `${Math.floor(sec / 60)} min ${Math.round(sec % 60)} s`
  const h = Math.floor(sec / 3600)
  if (h < 48) return `${h} h ${Math.round((sec % 3600) / 60)} min`
  return `${Math.round(h / 24)} days`
}
