// Weights between Quarterturn's layout and PyTorch's, in both directions.
//
// Quarterturn keeps parameters NHWC-style, named like a state dict ("conv1.weight",
// "conv1.bn.running_mean"): conv weights [kh, kw, cin, cout], linear weights [in, out], and fc6's
// input rows in the order an NHWC pool5 flattens (h, w, c). PyTorch's AlexNet of method-spec
// (AlexNetFeature.py: `_feature_blocks = ModuleList([conv1, pool1, conv2, pool2, conv3, conv4,
// conv5, pool5, fc_block])`, each convN = Sequential(Conv2d, BatchNorm2d, ReLU), fc_block =
// Sequential(Flatten, Linear, BatchNorm1d, ReLU, Linear, BatchNorm1d, ReLU)) names them by module
// path and lays them out as conv [cout, cin, kh, kw] (OIHW), linear [out, in], with fc6's input
// columns in NCHW flatten order (c, h, w). BatchNorm modules also carry num_batches_tracked (int64).
// Heads keep Quarterturn's names, which are already module paths of nn.Sequential heads
// ("rot_head.0.weight", "rot_head.2.bias", "proj_head.0.weight", "classifier.weight").
//
// `toTorch` converts a bundle of Quarterturn parameters to PyTorch tensors; `fromTorch` converts a
// PyTorch state dict back, for the parameters a model expects, and names the first one missing
// or of the wrong shape.
import type { TensorIn } from './safetensors'

export interface Param {
  shape: number[]
  data: Float32Array
}
export type Params = Record<string, Param>

/** Quarterturn's backbone layer → the module path of method-spec's PyTorch AlexNet. */
const BACKBONE_MODULES: Record<string, string> = {
  conv1: '_feature_blocks.0.0',
  'conv1.bn': '_feature_blocks.0.1',
  conv2: '_feature_blocks.2.0',
  'conv2.bn': '_feature_blocks.2.1',
  conv3: '_feature_blocks.4.0',
  'conv3.bn': '_feature_blocks.4.1',
  conv4: '_feature_blocks.5.0',
  'conv4.bn': '_feature_blocks.5.1',
  conv5: '_feature_blocks.6.0',
  'conv5.bn': '_feature_blocks.6.1',
  fc6: '_feature_blocks.8.1',
  'fc6.bn': '_feature_blocks.8.2',
  fc7: '_feature_blocks.8.4',
  'fc7.bn': '_feature_blocks.8.5'
}
const MODULE_OF_TORCH = Object.fromEntries(Object.entries(BACKBONE_MODULES).map(([k, v]) => [v, k]))

const splitName = (name: string): [string, string] => {
  const i = name.lastIndexOf('.')
  return [name.slice(0, i), name.slice(i + 1)]
}

/** The PyTorch state-dict name of a Quarterturn parameter. */
export function torchName(name: string): string {
  const [mod, leaf] = splitName(name)
  const m = BACKBONE_MODULES[mod]
  return m ? `${m}.${leaf}` : name
}

/** The Quarterturn name of a PyTorch state-dict name (either naming is accepted), or null for num_batches_tracked. */
export function quarterturnName(name: string): string | null {
  const [mod, leaf] = splitName(name)
  if (leaf === 'num_batches_tracked') return null
  const m = MODULE_OF_TORCH[mod]
  return m ? `${m}.${leaf}` : name
}

/** HWIO [kh, kw, cin, cout] → OIHW [cout, cin, kh, kw], and back. */
function hwioToOihw(p: Param): Param {
  const [kh, kw, ci, co] = p.shape as [number, number, number, number]
  const out = new Float32Array(p.data.length)
  for (let y = 0; y < kh; y++)
    for (let x = 0; x < kw; x++)
      for (let i = 0; i < ci; i++) for (let o = 0; o < co; o++) out[((o * ci + i) * kh + y) * kw + x] = p.data[((y * kw + x) * ci + i) * co + o]!
  return { shape: [co, ci, kh, kw], data: out }
}
function oihwToHwio(p: Param): Param {
  const [co, ci, kh, kw] = p.shape as [number, number, number, number]
  const out = new Float32Array(p.data.length)
  for (let o = 0; o < co; o++)
    for (let i = 0; i < ci; i++)
      for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) out[((y * kw + x) * ci + i) * co + o] = p.data[((o * ci + i) * kh + y) * kw + x]!
  return { shape: [kh, kw, ci, co], data: out }
}

/**
 * PyTorch's input column of Quarterturn's input row r of a linear weight. With `chw` (fc6), row r
 * is the NHWC flatten index (h*side + w)*C + c and the column is (c*side + h)*side + w.
 */
function torchColumn(r: number, chw?: { c: number; side: number }): number {
  if (!chw) return r
  const c = r % chw.c
  return c * chw.side * chw.side + (r - c) / chw.c
}

/** A linear weight [in, out] → [out, in], fc6's columns reordered by `chw`. */
function linearToTorch(p: Param, chw?: { c: number; side: number }): Param {
  const [din, dout] = p.shape as [number, number]
  const out = new Float32Array(p.data.length)
  for (let r = 0; r < din; r++) {
    const col = torchColumn(r, chw)
    for (let o = 0; o < dout; o++) out[o * din + col] = p.data[r * dout + o]!
  }
  return { shape: [dout, din], data: out }
}
/** The inverse of linearToTorch: [out, in] → [in, out]. */
function linearFromTorch(p: Param, chw?: { c: number; side: number }): Param {
  const [dout, din] = p.shape as [number, number]
  const out = new Float32Array(p.data.length)
  for (let r = 0; r < din; r++) {
    const col = torchColumn(r, chw)
    for (let o = 0; o < dout; o++) out[r * dout + o] = p.data[o * din + col]!
  }
  return { shape: [din, dout], data: out }
}

/** fc6's pool5 geometry, from conv5's width and fc6's input size (Quarterturn shapes). */
function fc6Geometry(shapes: Record<string, number[]>): { c: number; side: number } | undefined {
  const conv5 = shapes['conv5.weight']
  const fc6 = shapes['fc6.weight']
  if (!conv5 || !fc6) return undefined
  const c = conv5[3]!
  const side = Math.round(Math.sqrt(fc6[0]! / c))
  if (side * side * c !== fc6[0]) throw new Error(`fc6.weight has ${fc6[0]} inputs, which is not C x side x side for conv5's ${c} channels`)
  return { c, side }
}

/** The PyTorch shape a Quarterturn parameter of `shape` has. */
function torchShape(name: string, shape: number[]): number[] {
  if (name.endsWith('.weight') && shape.length === 4) return [shape[3]!, shape[2]!, shape[0]!, shape[1]!]
  if (name.endsWith('.weight') && shape.length === 2) return [shape[1]!, shape[0]!]
  return shape
}

/**
 * PyTorch tensors for Quarterturn `params`, with num_batches_tracked = `batchesTracked` beside
 * every BatchNorm's running statistics.
 */
export function toTorch(params: Params, batchesTracked = 0): Record<string, TensorIn> {
  const geom = fc6Geometry(Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.shape])))
  const out: Record<string, TensorIn> = {}
  for (const [name, p] of Object.entries(params)) {
    let t: Param = p
    if (name.endsWith('.weight') && p.shape.length === 4) t = hwioToOihw(p)
    else if (name.endsWith('.weight') && p.shape.length === 2) t = linearToTorch(p, name === 'fc6.weight' ? geom : undefined)
    out[torchName(name)] = { dtype: 'F32', shape: t.shape, data: t.data }
    if (name.endsWith('.running_mean')) {
      const mod = torchName(name).slice(0, -'.running_mean'.length)
      out[`${mod}.num_batches_tracked`] = { dtype: 'I64', shape: [], data: BigInt64Array.of(BigInt(batchesTracked)) }
    }
  }
  return out
}

/** Prefixes that wrappers add to every name (DataParallel's "module."), stripped on import. */
const WRAPPER_PREFIXES = ['module.']

export class WeightsMismatchError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WeightsMismatchError'
  }
}

/**
 * Quarterturn parameters for a model that expects `expected` (name → Quarterturn shape), read
 * from PyTorch tensors (`values` float32, `shape` PyTorch's). Names may be PyTorch's module paths
 * or Quarterturn's; a "module." prefix is ignored. Throws WeightsMismatchError naming the first
 * expected parameter that is missing or has another shape. Returns the names of the file's
 * tensors it did not use, too.
 */
export function fromTorch(
  tensors: Record<string, { shape: number[]; values: Float32Array }>,
  expected: Record<string, number[]>,
  source = 'the weights file'
): { params: Params; unused: string[] } {
  const byName = new Map<string, { torch: string; shape: number[]; values: Float32Array }>()
  for (const [raw, t] of Object.entries(tensors)) {
    let name = raw
    for (const p of WRAPPER_PREFIXES) if (name.startsWith(p)) name = name.slice(p.length)
    const q = quarterturnName(name)
    if (q !== null) byName.set(q, { torch: raw, ...t })
  }
  const geom = fc6Geometry(expected)
  const params: Params = {}
  const used = new Set<string>()
  for (const [name, shape] of Object.entries(expected)) {
    const want = torchShape(name, shape)
    const t = byName.get(name)
    if (!t)
      throw new WeightsMismatchError(
        `${source} has no tensor ${torchName(name)} (Quarterturn's ${name}, shape [${want}]): is it a backbone of this architecture?`
      )
    if (t.shape.join('x') !== want.join('x'))
      throw new WeightsMismatchError(
        `${source}: ${t.torch} has shape [${t.shape}] but this run's backbone needs [${want}] (${name}): choose the architecture and width the weights were trained with`
      )
    used.add(t.torch)
    const p: Param = { shape: t.shape, data: t.values }
    if (name.endsWith('.weight') && shape.length === 4) params[name] = oihwToHwio(p)
    else if (name.endsWith('.weight') && shape.length === 2) params[name] = linearFromTorch(p, name === 'fc6.weight' ? geom : undefined)
    else params[name] = { shape: [...shape], data: Float32Array.from(t.values) }
  }
  const unused = Object.keys(tensors).filter((k) => !used.has(k) && !k.endsWith('num_batches_tracked'))
  return { params, unused }
}
