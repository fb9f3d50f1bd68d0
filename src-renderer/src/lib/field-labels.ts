// Words for the config fields the schema walker finds: labels, units and one-line hints. Keys are
// field names (or dotted path suffixes, most specific first); a field not listed gets its name
// split into words, so a new config key still shows up readably. A method's own keys and its name
// are worded in its catalog entry (src-shared/methods/); the keys several methods share, here.
import { REFERENCE_LUTS } from '../../../src-shared/config/names'
import { findMethod, methodsWith, type FieldWords } from '../../../src-shared/methods/catalog'
import type { Path } from './schema-form'

const LABELS: Record<string, string> = {
  name: 'Run name',
  seed: 'Seed',
  backend: 'Backend',
  dataset: 'Dataset',
  'dataset.seed': 'Dataset seed',
  perClass: 'Train images per class',
  testPerClass: 'Test images per class',
  size: 'Image size',
  id: 'Registered dataset',
  trainSplit: 'Training split',
  testSplit: 'Test split',
  backbone: 'Backbone',
  arch: 'Architecture',
  width: 'Width multiplier',
  'backbone.init': 'Starting weights',
  'init.path': 'Weights file',
  pretrain: 'Pretraining',
  finetune: 'Fine-tuning',
  pu: 'PU estimation',
  evaluation: 'Evaluation',
  checkpoint: 'Checkpoints',
  optimizer: 'Optimizer',
  schedule: 'Learning-rate schedule',
  table: 'Epoch table',
  batchSize: 'Batch size',
  epochs: 'Epochs',
  hflip: 'Random horizontal flip',
  enabled: 'Enabled',
  method: 'Method',
  rotationHead: 'Rotation head',
  projectionHead: 'Projection head',
  lambdaCls: 'λ rotation CE',
  tau: 'Temperature τ',
  momentum: 'Momentum',
  nesterov: 'Nesterov',
  weightDecay: 'Weight decay',
  beta1: 'β1',
  beta2: 'β2',
  eps: 'ε',
  base: 'Base learning rate',
  min: 'Minimum learning rate',
  warmupEpochs: 'Warm-up epochs',
  lr: 'Learning rate',
  folds: 'Folds',
  labelled: 'Labelled subset',
  'labelled.value': 'Amount',
  layer: 'Frozen layer',
  pool: 'Pooled side',
  linear: 'Linear probe',
  nonlinear: 'Non-linear probe',
  knn: 'kNN',
  k: 'Neighbours k',
  temperature: 'Temperature',
  transfer: 'Transfer datasets',
  intervalMin: 'Every',
  keep: 'Keep'
}

const UNITS: Record<string, string> = {
  perClass: 'images',
  testPerClass: 'images',
  size: 'px',
  width: '× AlexNet',
  batchSize: 'images',
  epochs: 'epochs',
  warmupEpochs: 'epochs',
  intervalMin: 'min',
  keep: 'checkpoints',
  pool: 'px',
  k: 'neighbours',
  folds: 'folds',
  'first-per-class.value': 'images / class',
  'per-class.value': 'images / class',
  'fraction.value': 'of each class'
}

const HINTS: Record<string, string> = {
  width: 'Multiplies every conv channel count and the fc width; 1 is the paper’s AlexNet.',
  backend: 'auto picks the best backend that loads (see Workspace).',
  pool: '0: 6 for 224-px input, 3 otherwise.',
  table: 'Learning rate of the first row whose epoch is above the current (0-based) epoch.',
  weightDecay: '',
  'first-per-class.value': 'The first N files per class in sorted order (the reference’s 20%).',
  'pu.enabled': `Trains its own RotNets first; applies to the ${methodsWith((t) => t.puWeights).join(', ')} method only.`,
  perClass: '10 classes.',
  id: 'A dataset added under Datasets (its id).',
  'subset.id': 'A subset saved in the dataset’s Subsets panel, of the training split.',
  'backbone.init':
    'A .safetensors backbone (quarterturn export-weights, or converted from PyTorch): pretraining starts from it, or with pretraining off the probes evaluate it frozen.',
  'init.path': 'Full path on the machine the host runs on; checked against the architecture and width, then copied into the run.'
}

const VARIANT_LABELS: Record<string, string> = {
  sample: 'Sample at another size (drawn in memory)',
  dataset: 'Dataset',
  sgd: 'SGD',
  adam: 'Adam(W)',
  lut: 'Epoch table',
  cosine: 'Cosine',
  constant: 'Constant',
  all: 'All labels',
  fraction: 'A fraction of each class',
  'first-per-class': 'First N per class',
  'per-class': 'N random per class',
  subset: 'A saved subset',
  auto: 'auto (best available)',
  random: 'Random (PyTorch’s default init)',
  file: 'A .safetensors file'
}

function lookup(map: Record<string, string>, path: Path, variant?: string): string | undefined {
  const keys = path.filter((p) => typeof p === 'string') as string[]
  for (let n = Math.min(keys.length, 3); n >= 1; n--) {
    const suffix = keys.slice(-n).join('.')
    if (variant && map[`${variant}.${keys[keys.length - 1]}`]) return map[`${variant}.${keys[keys.length - 1]}`]
    if (map[suffix] !== undefined) return map[suffix]
  }
  return undefined
}

/** The catalog's words for a key of a method's config (`variant` is the method's name). */
function methodWords(path: Path, variant: string | undefined, part: keyof FieldWords): string | undefined {
  const key = path[path.length - 1]
  if (!variant || path[path.length - 2] !== 'method' || typeof key !== 'string') return undefined
  return findMethod(variant)?.fields?.[key]?.[part]
}

export function labelOf(path: Path, variant?: string): string {
  const last = path[path.length - 1]
  if (typeof last === 'number') return `#${last + 1}`
  const found = methodWords(path, variant, 'label') ?? lookup(LABELS, path)
  if (found) return found
  const words = String(last ?? '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase()
  return words.charAt(0).toUpperCase() + words.slice(1)
}

/** One item of a list field, for "Remove transfer dataset 2" (the list's label is a plural). */
export function itemLabelOf(path: Path, variant?: string): string {
  const l = labelOf(path, variant)
  return l.endsWith('s') && !l.endsWith('ss') ? l.slice(0, -1) : l
}

/** A unit as it reads after a value: "1 epoch", "2 epochs". */
export function unitFor(unit: string, value: unknown): string {
  return value === 1 && /^[a-z]+s$/.test(unit) ? unit.slice(0, -1) : unit
}

export function unitOf(path: Path, variant?: string): string {
  return methodWords(path, variant, 'unit') ?? lookup(UNITS, path, variant) ?? ''
}

export function hintOf(path: Path, variant?: string): string {
  return methodWords(path, variant, 'hint') ?? lookup(HINTS, path, variant) ?? ''
}

export function variantLabel(value: string): string {
  return VARIANT_LABELS[value] ?? findMethod(value)?.label ?? value
}

/** Sensible tables when a schedule is switched to "epoch table": the reference's own. */
export function lutFor(path: Path): [number, number][] {
  const s = path.map(String).join('.')
  if (s.startsWith('finetune')) return REFERENCE_LUTS.finetune
  if (s.includes('nonlinear')) return REFERENCE_LUTS.nonLinearEval
  if (s.startsWith('evaluation')) return REFERENCE_LUTS.linearEval
  return REFERENCE_LUTS.pretrain
}

/** A config path ("evaluation.transfer.0.id" or its segments) in the form's words:
 *  "Transfer dataset 1", "Pretraining › Batch size"; "" for the config as a whole. */
export function fieldNameOf(path: Path | string, variant?: string): string {
  const p: Path =
    typeof path === 'string'
      ? path
          .split('.')
          .filter((s) => s && s !== '(config)')
          .map((s) => (/^\d+$/.test(s) ? Number(s) : s))
      : path
  if (!p.length) return ''
  const i = p.findLastIndex((s) => typeof s === 'number')
  if (i > 0) {
    const item = `${itemLabelOf(p.slice(0, i), variant)} ${(p[i] as number) + 1}`
    const rest = p.slice(i + 1)
    // An item's `id` is the item itself ("Transfer dataset 1"), any other key is named after it.
    if (!rest.length || (rest.length === 1 && rest[0] === 'id')) return item
    return `${item} › ${labelOf(p, variant)}`
  }
  const label = labelOf(p, variant)
  if (p.length === 1) return label
  return `${labelOf(p.slice(0, 1))} › ${label}`
}

/** A validation message as a sentence: "Transfer dataset 1: choose a dataset". */
export function issueText(path: Path | string, message: string, variant?: string): string {
  const name = fieldNameOf(path, variant)
  if (!name) return message.charAt(0).toUpperCase() + message.slice(1)
  return `${name}: ${message}`
}
