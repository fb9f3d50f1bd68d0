// Quarterturn <-> PyTorch weight layouts: conv HWIO <-> OIHW and linear [in, out] <-> [out, in]
// round trips, fc6's input permutation proven by computing fc6 both ways with plain loops, the
// module names, and the errors that name the first missing or mis-shaped tensor.
import { describe, expect, it } from 'vitest'
import { WeightsMismatchError, fromTorch, quarterturnName, toTorch, torchName, type Params } from '../../../src-node/torch-weights'
import { backboneShapes } from '../../../src-shared/backbone-shapes'
import { Rng } from '../../../src-shared/rng'

const rng = new Rng(7)
const rand = (n: number): Float32Array => Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1)
const size = (s: number[]): number => s.reduce((a, b) => a * b, 1)
/** Bit-identical float arrays (a byte compare: element-wise deep equality is slow on 65k values). */
const same = (a: Float32Array, b: Float32Array): boolean =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))

/** Random values for every parameter of a backbone of these shapes. */
function randomParams(shapes: Record<string, number[]>): Params {
  return Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, { shape: s, data: rand(size(s)) }]))
}

/** PyTorch tensors as a reader hands them to fromTorch (float32 values). */
function asRead(t: ReturnType<typeof toTorch>): Record<string, { shape: number[]; values: Float32Array }> {
  return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, { shape: v.shape, values: Float32Array.from(v.data as ArrayLike<number>, Number) }]))
}

describe('toTorch / fromTorch', () => {
  const shapes = backboneShapes('alexnet64', 0.0625)

  it('uses method-spec module names and PyTorch layouts, with num_batches_tracked beside each BatchNorm', () => {
    const t = toTorch(randomParams(shapes), 42)
    expect(t['_feature_blocks.0.0.weight']!.shape).toEqual([4, 3, 5, 5])
    expect(t['_feature_blocks.6.1.running_var']!.shape).toEqual([16])
    expect(t['_feature_blocks.8.1.weight']!.shape).toEqual([256, 3 * 3 * 16])
    expect(t['_feature_blocks.8.4.weight']!.shape).toEqual([256, 256])
    const counters = Object.keys(t).filter((k) => k.endsWith('num_batches_tracked'))
    expect(counters.sort()).toEqual(['0.1', '2.1', '4.1', '5.1', '6.1', '8.2', '8.5'].map((m) => `_feature_blocks.${m}.num_batches_tracked`).sort())
    for (const k of counters) expect(t[k]).toEqual({ dtype: 'I64', shape: [], data: BigInt64Array.of(42n) })
    expect(torchName('fc7.bn.bias')).toBe('_feature_blocks.8.5.bias')
    expect(quarterturnName('_feature_blocks.4.0.weight')).toBe('conv3.weight')
    expect(quarterturnName('_feature_blocks.4.1.num_batches_tracked')).toBeNull()
    expect(torchName('rot_head.0.weight')).toBe('rot_head.0.weight')
  })

  it('puts conv element [y, x, i, o] at OIHW [o, i, y, x] and linear [r, o] at [o, r]', () => {
    const p = randomParams(shapes)
    const t = toTorch(p)
    const w = p['conv2.weight']!
    const [kh, kw, ci, co] = w.shape as [number, number, number, number]
    const tw = t['_feature_blocks.2.0.weight']!.data as Float32Array
    for (const [y, x, i, o] of [
      [0, 0, 0, 0],
      [4, 1, 3, 11],
      [2, 3, 1, 5]
    ] as const)
      expect(tw[((o * ci + i) * kh + y) * kw + x]).toBe(w.data[((y * kw + x) * ci + i) * co + o])
    const f = p['fc7.weight']!
    const tf7 = t['_feature_blocks.8.4.weight']!.data as Float32Array
    expect(tf7[5 * 256 + 200]).toBe(f.data[200 * 256 + 5])
  })

  it('round-trips every parameter exactly', () => {
    for (const [arch, width] of [
      ['alexnet64', 0.0625],
      ['alexnet224', 0.0625],
      ['alexnet32', 0.125]
    ] as const) {
      const s = backboneShapes(arch, width)
      const p = randomParams(s)
      const back = fromTorch(asRead(toTorch(p, 3)), s)
      expect(back.unused).toEqual([])
      for (const k of Object.keys(s)) {
        expect(back.params[k]!.shape).toEqual(s[k])
        expect(same(back.params[k]!.data, p[k]!.data), k).toBe(true)
      }
    }
  })

  it('fc6: pool5 flattened NHWC times the Quarterturn weight equals pool5 flattened NCHW times the PyTorch weight transposed', () => {
    const side = 3
    const c = 16
    const out = 256
    const p = randomParams(shapes)
    const wq = p['fc6.weight']!.data
    const wt = toTorch(p)['_feature_blocks.8.1.weight']!.data as Float32Array
    const pool5 = rand(side * side * c) // indexed [h][w][c], as Quarterturn's NHWC tensor
    const nhwc = new Float32Array(side * side * c)
    const nchw = new Float32Array(side * side * c)
    for (let h = 0; h < side; h++)
      for (let w = 0; w < side; w++)
        for (let ch = 0; ch < c; ch++) {
          const v = pool5[(h * side + w) * c + ch]!
          nhwc[(h * side + w) * c + ch] = v
          nchw[(ch * side + h) * side + w] = v
        }
    const din = side * side * c
    for (let o = 0; o < out; o++) {
      let yq = 0
      let yt = 0
      for (let r = 0; r < din; r++) {
        yq += nhwc[r]! * wq[r * out + o]!
        yt += wt[o * din + r]! * nchw[r]!
      }
      expect(yt).toBeCloseTo(yq, 4)
    }
  })

  it('accepts Quarterturn names, PyTorch names and a "module." prefix, and reports unused tensors', () => {
    const p = randomParams(shapes)
    const t = asRead(toTorch(p))
    const wrapped = Object.fromEntries(Object.entries(t).map(([k, v]) => [`module.${k}`, v]))
    expect(fromTorch(wrapped, shapes).params['conv4.bn.running_mean']!.data).toEqual(p['conv4.bn.running_mean']!.data)
    // Quarterturn's own names for the 1-d tensors mixed in with PyTorch names.
    const mixed: Record<string, { shape: number[]; values: Float32Array }> = { ...t, 'extra.weight': { shape: [1], values: Float32Array.of(1) } }
    delete mixed['_feature_blocks.0.1.bias']
    mixed['conv1.bn.bias'] = { shape: p['conv1.bn.bias']!.shape, values: p['conv1.bn.bias']!.data }
    const r = fromTorch(mixed, shapes)
    expect(r.params['conv1.bn.bias']!.data).toEqual(p['conv1.bn.bias']!.data)
    expect(r.unused).toEqual(['extra.weight'])
  })

  it('names the first missing tensor and the first wrong shape', () => {
    const t = asRead(toTorch(randomParams(shapes)))
    const missing = { ...t }
    delete missing['_feature_blocks.5.0.weight']
    expect(() => fromTorch(missing, shapes, 'w.safetensors')).toThrow(WeightsMismatchError)
    expect(() => fromTorch(missing, shapes, 'w.safetensors')).toThrow(
      /^w\.safetensors has no tensor _feature_blocks\.5\.0\.weight \(Quarterturn's conv4\.weight, shape \[16,24,3,3\]\)/
    )
    // A wider backbone: conv1 is the first parameter whose shape differs.
    const wider = asRead(toTorch(randomParams(backboneShapes('alexnet64', 0.125))))
    expect(() => fromTorch(wider, shapes, 'w.safetensors')).toThrow(
      /^w\.safetensors: _feature_blocks\.0\.0\.weight has shape \[8,3,5,5\] but this run's backbone needs \[4,3,5,5\] \(conv1\.weight\)/
    )
    // Another input variant: same widths, conv1's kernel differs.
    const big = asRead(toTorch(randomParams(backboneShapes('alexnet224', 0.0625))))
    expect(() => fromTorch(big, shapes)).toThrow(/_feature_blocks\.0\.0\.weight has shape \[4,3,11,11\] but this run's backbone needs \[4,3,5,5\]/)
  })
})
