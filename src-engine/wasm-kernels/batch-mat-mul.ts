// BatchMatMul and _FusedMatMul for the wasm backend. The stock kernels reach XNNPACK only for a
// single [M,K]x[K,N] product without transposes; anything else (transposeA/B, a batch > 1) runs a
// scalar C++ loop, 10x or more slower. Here operands are transposed explicitly and batches are
// folded or looped so that every product takes the XNNPACK path.
import { type _FusedMatMulAttrs, type BatchMatMulAttrs, broadcast_util, type KernelConfig, type KernelFunc, type TensorInfo, util } from '@tensorflow/tfjs-core'
import { nativeGemm, nativeGemmAvailable } from './native-gemm'
import { BACKEND, runKernel, type Scope, type WasmBackend, withScope } from './util'

type Inputs = Record<string, TensorInfo | undefined>

/** Below this many multiply-adds per product, looping over a batch costs more than the stock loop saves. */
const MIN_LOOPED_MACS = 16384

/**
 * From this many elements of the right operand on, an untransposed product runs on the native
 * GEMM (native-gemm.ts), which reads that operand in place, instead of XNNPACK, which packs it
 * first. Smaller right operands (most of them are packed in well under a millisecond) stay on XNNPACK.
 */
const MIN_NATIVE_RIGHT = 1 << 16

interface Plan {
  a3: TensorInfo // [batchA, M, K] after the transpose
  b3: TensorInfo // [batchB, K, N] after the transpose
  M: number
  K: number
  N: number
  batchA: number
  batchB: number
  outBatchShape: number[]
}

function shapes(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean) {
  const ra = a.shape.length
  const rb = b.shape.length
  const M = (transposeA ? a.shape[ra - 1] : a.shape[ra - 2]) as number
  const Ka = (transposeA ? a.shape[ra - 2] : a.shape[ra - 1]) as number
  const Kb = (transposeB ? b.shape[rb - 1] : b.shape[rb - 2]) as number
  const N = (transposeB ? b.shape[rb - 2] : b.shape[rb - 1]) as number
  util.assert(
    Ka === Kb,
    () =>
      `Error in matMul: inner shapes (${Ka}) and (${Kb}) of Tensors with shapes ${a.shape} and ${b.shape} and ` +
      `transposeA=${transposeA} and transposeB=${transposeB} must match.`
  )
  const batchA = util.sizeFromShape(a.shape.slice(0, -2))
  const batchB = util.sizeFromShape(b.shape.slice(0, -2))
  const outBatchShape = broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2))
  return { M, K: Ka, N, batchA, batchB, outBatchShape }
}

/** Rank-3, untransposed operands: transposes become explicit (fast) Transpose kernels. */
function plan(s: Scope, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): Plan {
  const d = shapes(a, b, transposeA, transposeB)
  let a3 = s.reshape(a, transposeA ? [d.batchA, d.K, d.M] : [d.batchA, d.M, d.K])
  let b3 = s.reshape(b, transposeB ? [d.batchB, d.N, d.K] : [d.batchB, d.K, d.N])
  if (transposeA) a3 = s.transpose(a3, [0, 2, 1])
  if (transposeB) b3 = s.transpose(b3, [0, 2, 1])
  return { a3, b3, ...d }
}

/** Copies batch `i` of a rank-3 tensor into a new [1, rows, cols] tensor. */
function batchOf(s: Scope, t: TensorInfo, i: number): TensorInfo {
  const rows = t.shape[1] as number
  const cols = t.shape[2] as number
  const out = s.make([1, rows, cols])
  const n = rows * cols
  s.f32(out).set(s.f32(t).subarray(i * n, (i + 1) * n))
  return out
}

/** Index of the operand batch that feeds output batch `i` (numpy broadcasting over batch dims). */
function broadcastIndex(outShape: number[], operandShape: number[], i: number): number {
  const off = outShape.length - operandShape.length
  const outStrides = util.computeStrides(outShape)
  let rem = i
  const coords = outShape.map((_, k) => {
    const stride = outStrides[k] ?? 1
    const c = Math.floor(rem / stride)
    rem -= c * stride
    return c
  })
  let idx = 0
  let mul = 1
  for (let k = operandShape.length - 1; k >= 0; k--) {
    const dim = operandShape[k] as number
    const c = dim === 1 ? 0 : (coords[k + off] as number)
    idx += c * mul
    mul *= dim
  }
  return idx
}

type Single = (sc: Scope, a: TensorInfo, b: TensorInfo) => TensorInfo

/**
 * The product of a planned (untransposed) pair via XNNPACK: one call when `b` is not batched
 * (batches of `a` folded into M), else one call per output batch. `single` runs one
 * [1,M,K]x[1,K,N] product on XNNPACK and registers its result in the scope it is given.
 */
function product(s: Scope, p: Plan, aShape: number[], bShape: number[], single: Single): TensorInfo {
  const { M, K, N, batchA, batchB, outBatchShape } = p
  const outShape = [...outBatchShape, M, N]
  if (batchB === 1) {
    const a = batchA === 1 ? p.a3 : s.reshape(p.a3, [1, batchA * M, K])
    return s.reshape(single(s, a, p.b3), outShape)
  }
  const batches = util.sizeFromShape(outBatchShape)
  const out = s.make([batches, M, N])
  const aBatch = aShape.slice(0, -2)
  const bBatch = bShape.slice(0, -2)
  for (let i = 0; i < batches; i++) {
    const ia = broadcastIndex(outBatchShape, aBatch, i)
    const ib = broadcastIndex(outBatchShape, bBatch, i)
    withScope(s.backend, (sc) => {
      const ai = batchA === 1 ? p.a3 : batchOf(sc, p.a3, ia)
      const r = single(sc, ai, batchOf(sc, p.b3, ib))
      sc.f32(out).set(sc.f32(r), i * M * N)
      return out // not tracked by sc: everything else made in this iteration is freed
    })
  }
  return s.reshape(out, outShape)
}

/**
 * One untransposed [1,M,K]x[1,K,N] product on XNNPACK. (The native GEMM was tried here too, for the
 * backward dense products xᵀ·dY and dY·Wᵀ: no faster — their operands are packed small, and
 * their reduction is the batch — so they stay on XNNPACK: 645 vs 649 ms for fc6's pair at batch 128, 36 vs 52 ms at width 0.25, 77 vs 72 ms for fc7's.)
 */
const plainProduct: Single = (sc, a, b) => sc.run('BatchMatMul', { a, b }, { transposeA: false, transposeB: false })

/**
 * For a single product op(A)·op(B) = C [M,N], XNNPACK packs its right operand on every call with
 * a new tensor (a copy of it), and an explicit transpose is another copy. Computing
 * C = (op(B)ᵀ·op(A)ᵀ)ᵀ instead makes op(A)ᵀ the packed operand and needs no copy of an operand
 * that is stored transposed already, at the price of transposing the [N,M] result. True when
 * that moves fewer elements: e.g. dX = dY·Wᵀ of a dense layer (W big, the batch small).
 */
function swapIsCheaper(d: ReturnType<typeof shapes>, transposeA: boolean, transposeB: boolean): boolean {
  if (d.batchA !== 1 || d.batchB !== 1) return false
  const { M, K, N } = d
  const direct = (transposeA ? M * K : 0) + (transposeB ? K * N : 0) + K * N
  const swapped = (transposeB ? 0 : K * N) + (transposeA ? 0 : M * K) + M * K + M * N
  return swapped < direct
}

/** C = (op(B)ᵀ·op(A)ᵀ)ᵀ for single (batch 1) operands, shaped [...outBatchShape, M, N]. */
function swappedProduct(s: Scope, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo {
  const d = shapes(a, b, transposeA, transposeB)
  // Swapped roles: left = op(B)ᵀ [N,K], right = op(A)ᵀ [K,M]; `plan` with flipped transpose flags.
  const p = plan(s, b, a, !transposeB, !transposeA)
  const ct = plainProduct(s, p.a3, p.b3) // [1, N, M]
  return s.reshape(s.transpose(ct, [0, 2, 1]), [...d.outBatchShape, d.M, d.N])
}

function isFastAlready(d: ReturnType<typeof shapes>, transposeA: boolean, transposeB: boolean): boolean {
  return !transposeA && !transposeB && d.batchA === 1 && d.batchB === 1
}

export function batchMatMul(args: { inputs: Inputs; attrs: BatchMatMulAttrs; backend: WasmBackend }): TensorInfo {
  const { inputs, attrs, backend } = args
  const a = inputs.a as TensorInfo
  const b = inputs.b as TensorInfo
  const transposeA = Boolean(attrs.transposeA)
  const transposeB = Boolean(attrs.transposeB)
  const stock = () => runKernel('BatchMatMul', backend, inputs as Record<string, TensorInfo>, attrs as unknown as Record<string, unknown>)
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock()
  const d = shapes(a, b, transposeA, transposeB)
  if (isFastAlready(d, transposeA, transposeB)) {
    if (d.K * d.N < MIN_NATIVE_RIGHT || !nativeGemmAvailable(backend)) return stock()
    const out = backend.makeOutput([...d.outBatchShape, d.M, d.N], 'float32')
    nativeGemm(backend, a, b, out, d.M, d.K, d.N)
    return out
  }
  // Tiny batched products: the stock loop beats one XNNPACK call each (same batches only: the
  // stock kernel's batch broadcasting is not relied on).
  if (d.batchB > 1 && d.batchA === d.batchB && d.M * d.N * d.K < MIN_LOOPED_MACS) return stock()
  return withScope(backend, (s) => {
    if (swapIsCheaper(d, transposeA, transposeB)) return swappedProduct(s, a, b, transposeA, transposeB)
    const p = plan(s, a, b, transposeA, transposeB)
    return product(s, p, a.shape, b.shape, plainProduct)
  })
}

const ACTIVATION_KERNELS: Record<string, string> = {
  relu: 'Relu',
  relu6: 'Relu6',
  elu: 'Elu',
  sigmoid: 'Sigmoid',
  leakyrelu: 'LeakyRelu',
  prelu: 'Prelu'
}

/**
 * _FusedMatMul (matMul + bias + activation). Besides being slow, the stock kernel's scalar path
 * adds the wrong bias element to every row after the first (it clamps the flat output index to the
 * bias length), so a fused product with a bias and a transpose or a batch > 1 is wrong on stock
 * wasm 4.22.
 */
export function fusedMatMul(args: { inputs: Inputs; attrs: _FusedMatMulAttrs; backend: WasmBackend }): TensorInfo {
  const { inputs, attrs, backend } = args
  const a = inputs.a as TensorInfo
  const b = inputs.b as TensorInfo
  const bias = inputs.bias
  const prelu = inputs.preluActivationWeights
  const transposeA = Boolean(attrs.transposeA)
  const transposeB = Boolean(attrs.transposeB)
  const stock = (ins: Record<string, TensorInfo | undefined>, ta: boolean, tb: boolean) => {
    const clean: Record<string, TensorInfo> = {}
    for (const [k, v] of Object.entries(ins)) if (v != null) clean[k] = v
    return runKernel('_FusedMatMul', backend, clean, { ...attrs, transposeA: ta, transposeB: tb })
  }
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return stock(inputs, transposeA, transposeB)
  const d = shapes(a, b, transposeA, transposeB)
  if (isFastAlready(d, transposeA, transposeB)) return stock(inputs, false, false)
  const biasRank1 = bias == null || bias.shape.length === 1
  const swap = swapIsCheaper(d, transposeA, transposeB)
  return withScope(backend, (s) => {
    if (!swap && d.batchB === 1 && biasRank1 && prelu == null) {
      // One XNNPACK call with the bias and activation fused (batches of `a` folded into M).
      const p = plan(s, a, b, transposeA, transposeB)
      return product(s, p, a.shape, b.shape, (sc, x, y) => sc.track(stock({ a: x, b: y, bias }, false, false)))
    }
    // General case: product, then bias and activation as separate (fast, elementwise) kernels.
    let out = swap ? swappedProduct(s, a, b, transposeA, transposeB) : product(s, plan(s, a, b, transposeA, transposeB), a.shape, b.shape, plainProduct)
    if (bias != null) out = s.run('Add', { a: out, b: bias })
    const act = attrs.activation ?? 'linear'
    if (act !== 'linear') {
      const kernel = ACTIVATION_KERNELS[act]
      if (kernel == null) throw new Error(`wasm-kernels: _FusedMatMul activation '${act}' is not supported`)
      if (act === 'prelu') out = s.run(kernel, { x: out, alpha: prelu as TensorInfo })
      else if (act === 'leakyrelu') out = s.run(kernel, { x: out }, { alpha: attrs.leakyreluAlpha ?? 0.2 })
      else out = s.run(kernel, { x: out })
    }
    return out
  })
}

export const batchMatMulConfig: KernelConfig = {
  kernelName: 'BatchMatMul',
  backendName: BACKEND,
  kernelFunc: batchMatMul as unknown as KernelFunc
}

export const fusedMatMulConfig: KernelConfig = {
  kernelName: '_FusedMatMul',
  backendName: BACKEND,
  kernelFunc: fusedMatMul as unknown as KernelFunc
}
