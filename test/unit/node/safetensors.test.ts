// The safetensors reader and writer: the writer's bytes against a file assembled by hand from the
// format's definition, round trips, the other dtypes a PyTorch file may hold, and damaged or
// hostile files, each refused with a message that names what is wrong.
import { describe, expect, it } from 'vitest'
import { SafetensorsError, decodeSafetensors, encodeSafetensors, type TensorIn } from '../../../src-node/safetensors'

/** A file put together by hand: 8-byte LE header length, the JSON, space padding, then the data. */
function assemble(json: string, data: number[], pad = true): Uint8Array {
  const j = new TextEncoder().encode(json)
  const n = pad ? Math.ceil(j.length / 8) * 8 : j.length
  const out = new Uint8Array(8 + n + data.length)
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true)
  out.set(j, 8)
  out.fill(0x20, 8 + j.length, 8 + n)
  out.set(data, 8 + n)
  return out
}

const f32le = (...v: number[]): number[] => {
  const b = new Uint8Array(v.length * 4)
  v.forEach((x, i) => new DataView(b.buffer).setFloat32(i * 4, x, true))
  return [...b]
}
const i64le = (...v: bigint[]): number[] => {
  const b = new Uint8Array(v.length * 8)
  v.forEach((x, i) => new DataView(b.buffer).setBigInt64(i * 8, x, true))
  return [...b]
}

const expectError = (buf: Uint8Array, fragment: RegExp): void => {
  let caught: unknown
  try {
    decodeSafetensors(buf, 'w.safetensors')
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(SafetensorsError)
  expect((caught as Error).message).toMatch(/^w\.safetensors is not a valid safetensors file: /)
  expect((caught as Error).message).toMatch(fragment)
}

describe('encodeSafetensors', () => {
  it('writes exactly the bytes the format defines: header length, JSON, space padding, LE data by dtype alignment then name', () => {
    const tensors: Record<string, TensorIn> = {
      'fc.weight': { dtype: 'F32', shape: [2, 1], data: Float32Array.of(1.5, -2) },
      'bn.num_batches_tracked': { dtype: 'I64', shape: [], data: BigInt64Array.of(300n) },
      'a.bias': { dtype: 'F32', shape: [1], data: Float32Array.of(0.25) }
    }
    const json =
      '{"__metadata__":{"format":"pt"},' +
      '"bn.num_batches_tracked":{"dtype":"I64","shape":[],"data_offsets":[0,8]},' +
      '"a.bias":{"dtype":"F32","shape":[1],"data_offsets":[8,12]},' +
      '"fc.weight":{"dtype":"F32","shape":[2,1],"data_offsets":[12,20]}}'
    const expected = assemble(json, [...i64le(300n), ...f32le(0.25), ...f32le(1.5, -2)])
    const got = encodeSafetensors(tensors, { format: 'pt' })
    expect(json.length % 8).not.toBe(0) // so the padding is exercised
    expect(Buffer.from(got).equals(Buffer.from(expected))).toBe(true)
    // The data section starts 8-byte aligned.
    expect(Number(new DataView(got.buffer).getBigUint64(0, true)) % 8).toBe(0)
  })

  it('keeps integer-like tensor names in layout order, and omits __metadata__ when there is none', () => {
    const got = encodeSafetensors({ b: { dtype: 'F32', shape: [1], data: Float32Array.of(1) }, '0': { dtype: 'F32', shape: [1], data: Float32Array.of(2) } })
    const expected = assemble('{"0":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}', [
      ...f32le(2),
      ...f32le(1)
    ])
    expect(Buffer.from(got).equals(Buffer.from(expected))).toBe(true)
  })

  it('round-trips values, shapes, int64 counters and metadata', () => {
    const w = Float32Array.from({ length: 24 }, (_, i) => Math.sin(i) * 1e3)
    const buf = encodeSafetensors(
      {
        w: { dtype: 'F32', shape: [2, 3, 4], data: w },
        n: { dtype: 'I64', shape: [], data: BigInt64Array.of(9_007_199_254_740_993n) },
        empty: { dtype: 'F32', shape: [0, 5], data: new Float32Array(0) }
      },
      { arch: 'alexnet64', width: '0.25' }
    )
    const { tensors, metadata } = decodeSafetensors(buf)
    expect(metadata).toEqual({ arch: 'alexnet64', width: '0.25' })
    expect(tensors.w!.shape).toEqual([2, 3, 4])
    expect(tensors.w!.values).toEqual(w)
    expect(tensors.n!.dtype).toBe('I64')
    expect(tensors.n!.shape).toEqual([])
    expect(new DataView(tensors.n!.bytes.buffer, tensors.n!.bytes.byteOffset, 8).getBigInt64(0, true)).toBe(9_007_199_254_740_993n)
    expect(tensors.empty!.values.length).toBe(0)
  })

  it('refuses data that disagrees with its shape', () => {
    expect(() => encodeSafetensors({ x: { dtype: 'F32', shape: [2, 2], data: new Float32Array(3) } })).toThrow(/shape \[2,2\] holds 4 values but 3 were given/)
    expect(() => encodeSafetensors({ __metadata__: { dtype: 'F32', shape: [1], data: new Float32Array(1) } })).toThrow(SafetensorsError)
  })
})

describe('decodeSafetensors', () => {
  it('reads F16, BF16, F64, I64 and I32 tensors as float32 values', () => {
    const f16 = [0x3c00, 0xc000, 0x3555, 0x0001, 0x7c00] // 1, -2, 0.33325, smallest subnormal, +inf
    const bf16 = [0x3f80, 0xc0a0] // 1, -5
    const bytes: number[] = []
    for (const h of f16) bytes.push(h & 0xff, h >> 8)
    for (const h of bf16) bytes.push(h & 0xff, h >> 8)
    const f64 = new Uint8Array(16)
    new DataView(f64.buffer).setFloat64(0, Math.PI, true)
    new DataView(f64.buffer).setFloat64(8, -1e-300, true)
    const json =
      '{"h":{"dtype":"F16","shape":[5],"data_offsets":[0,10]},"b":{"dtype":"BF16","shape":[2],"data_offsets":[10,14]},' +
      '"d":{"dtype":"F64","shape":[2],"data_offsets":[14,30]},"l":{"dtype":"I64","shape":[1],"data_offsets":[30,38]},' +
      '"i":{"dtype":"I32","shape":[1],"data_offsets":[38,42]}}'
    const i32 = new Uint8Array(4)
    new DataView(i32.buffer).setInt32(0, -7, true)
    const { tensors } = decodeSafetensors(assemble(json, [...bytes, ...f64, ...i64le(-12345n), ...i32]))
    expect([...tensors.h!.values]).toEqual([1, -2, Math.fround(0.333251953125), Math.fround(2 ** -24), Infinity])
    expect([...tensors.b!.values]).toEqual([1, -5])
    expect(tensors.d!.values[0]).toBe(Math.fround(Math.PI))
    expect(Object.is(tensors.d!.values[1], -0)).toBe(true) // underflows float32
    expect([...tensors.l!.values]).toEqual([-12345])
    expect([...tensors.i!.values]).toEqual([-7])
  })

  it('reads an unpadded header (files written by other tools need not pad)', () => {
    const { tensors } = decodeSafetensors(assemble('{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32le(3), false))
    expect([...tensors.x!.values]).toEqual([3])
  })

  const good = '{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'

  it('names a truncated file', () => {
    expectError(new Uint8Array(5), /5 bytes long, shorter than the 8-byte header length/)
    const full = assemble(good, f32le(1, 2))
    expectError(full.subarray(0, full.length - 3), /tensor "x" ends at byte 8 but the data is 5 bytes/)
  })

  it('names a header length beyond the file', () => {
    const buf = assemble(good, f32le(1, 2))
    new DataView(buf.buffer).setBigUint64(0, 10_000n, true)
    expectError(buf, /the header claims 10000 bytes but the file has \d+ after the length/)
    new DataView(buf.buffer).setBigUint64(0, 2n ** 63n, true)
    expectError(buf, /the header claims 9223372036854775808 bytes/)
  })

  it('names a header that is not JSON or not an object', () => {
    expectError(assemble('{"x": [1, 2', f32le(1, 2)), /header is not UTF-8 JSON/)
    expectError(assemble('[1,2]', []), /header is not a JSON object/)
    const bad = assemble('{"x":1}', [])
    bad[10] = 0xff // not UTF-8
    expectError(bad, /header is not UTF-8 JSON/)
  })

  it('names an unknown dtype, a bad shape and bad offsets', () => {
    expectError(assemble('{"x":{"dtype":"F8","shape":[2],"data_offsets":[0,8]}}', f32le(1, 2)), /tensor "x" has dtype "F8", not one of F64, F32/)
    expectError(assemble('{"x":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}', f32le(1, 2)), /tensor "x" has shape \[-2\]/)
    expectError(assemble('{"x":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}', f32le(1, 2)), /tensor "x" has data_offsets \[8,0\]/)
    expectError(assemble('{"x":{"dtype":"F32","shape":[2]}}', f32le(1, 2)), /tensor "x" has data_offsets undefined/)
    expectError(assemble('{"__metadata__":{"n":1}}', []), /metadata "n" is not a string/)
  })

  it('names a shape that disagrees with its byte range', () => {
    expectError(assemble('{"x":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}', f32le(1, 2)), /shape \[3\] of F32 needs 12 bytes, its range holds 8/)
  })

  it('names overlapping and gapped ranges, and trailing bytes', () => {
    const two = (a: [number, number], b: [number, number]): string =>
      `{"a":{"dtype":"F32","shape":[1],"data_offsets":[${a}]},"b":{"dtype":"F32","shape":[1],"data_offsets":[${b}]}}`
    expectError(assemble(two([0, 4], [0, 4]), f32le(1, 2)), /tensor "b" overlaps the one before it/)
    expectError(assemble(two([0, 4], [8, 12]), f32le(1, 2, 3)), /4 unused bytes before tensor "b"/)
    expectError(assemble(two([0, 4], [4, 8]), f32le(1, 2, 3)), /4 bytes after the last tensor belong to none/)
  })
})
