// The safetensors file format (https://github.com/huggingface/safetensors), read and written here:
//   8 bytes   N, the header's length, unsigned 64-bit little-endian
//   N bytes   a UTF-8 JSON object: {"__metadata__": {string: string}, "<name>": {"dtype": "F32",
//             "shape": [..], "data_offsets": [begin, end]}, ...}, padded with spaces
//   the rest  the tensors' bytes, little-endian, row-major, back to back; offsets are relative to
//             the first byte after the header
// Written by hand because no npm package for it is well kept, and the format is a page long.
// The writer lays tensors out as the reference implementation does (by dtype alignment, largest
// first, then by name), pads the header with spaces to a multiple of 8 so every tensor starts
// aligned, and writes the header's keys in that same order after "__metadata__". The reader
// checks everything a hostile or damaged file could get wrong (sizes, overlapping or uncovered
// ranges, unknown dtypes, shapes that disagree with byte counts) and names what is wrong.

export type SafeDType = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL'

const BYTES: Record<SafeDType, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 }

/** A tensor to write: float32 values, or integers written as I64 (BatchNorm's num_batches_tracked). */
export type TensorIn = { dtype: 'F32'; shape: number[]; data: Float32Array } | { dtype: 'I64'; shape: number[]; data: BigInt64Array }

/** A tensor read back: floating dtypes as float32 values, integer ones as bigint or number arrays. */
export interface TensorOut {
  dtype: SafeDType
  shape: number[]
  /** The values as float32 (every dtype converts; I64 beyond 2^24 loses precision). */
  values: Float32Array
  /** The raw little-endian bytes (a view into the file's buffer). */
  bytes: Uint8Array
}

/** Largest header accepted: the reference reader's limit. */
export const MAX_HEADER_BYTES = 100_000_000

export class SafetensorsError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'SafetensorsError'
  }
}

const sizeOf = (shape: number[]): number => shape.reduce((a, b) => a * b, 1)

/** Order of tensors in the file: larger dtype alignment first, then by name (code-point order). */
function layoutOrder(entries: [string, TensorIn][]): [string, TensorIn][] {
  return [...entries].sort(([an, a], [bn, b]) => BYTES[b.dtype] - BYTES[a.dtype] || (an < bn ? -1 : an > bn ? 1 : 0))
}

/** The bytes of a safetensors file holding `tensors` and string `metadata`. */
export function encodeSafetensors(tensors: Record<string, TensorIn>, metadata: Record<string, string> = {}): Uint8Array {
  const ordered = layoutOrder(Object.entries(tensors))
  // Entries kept as a list and joined by hand: a JS object would move integer-like names ("0") first.
  const header: [string, unknown][] = []
  if (Object.keys(metadata).length > 0) header.push(['__metadata__', metadata])
  let offset = 0
  for (const [name, t] of ordered) {
    if (name === '__metadata__') throw new SafetensorsError('a tensor cannot be named __metadata__')
    if (!t.shape.every((d) => Number.isInteger(d) && d >= 0)) throw new SafetensorsError(`tensor ${name}: shape [${t.shape}] is not a list of sizes`)
    const n = sizeOf(t.shape)
    if (t.data.length !== n) throw new SafetensorsError(`tensor ${name}: shape [${t.shape}] holds ${n} values but ${t.data.length} were given`)
    const bytes = n * BYTES[t.dtype]
    header.push([name, { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] }])
    offset += bytes
  }
  const json = new TextEncoder().encode(`{${header.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`)
  const padded = Math.ceil(json.length / 8) * 8
  const out = new Uint8Array(8 + padded + offset)
  const view = new DataView(out.buffer)
  view.setBigUint64(0, BigInt(padded), true)
  out.set(json, 8)
  out.fill(0x20, 8 + json.length, 8 + padded)
  let at = 8 + padded
  for (const [, t] of ordered) {
    // Typed arrays are host-endian; write element by element through DataView to be little-endian everywhere.
    if (t.dtype === 'F32') for (let i = 0; i < t.data.length; i++, at += 4) view.setFloat32(at, t.data[i]!, true)
    else for (let i = 0; i < t.data.length; i++, at += 8) view.setBigInt64(at, t.data[i]!, true)
  }
  return out
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1
  const e = (h >> 10) & 0x1f
  const f = h & 0x3ff
  if (e === 0) return s * f * 2 ** -24
  if (e === 31) return f ? NaN : s * Infinity
  return s * (1 + f / 1024) * 2 ** (e - 15)
}

function toFloat32(dtype: SafeDType, bytes: Uint8Array): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const n = bytes.byteLength / BYTES[dtype]
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) {
    switch (dtype) {
      case 'F32':
        out[i] = view.getFloat32(i * 4, true)
        break
      case 'F64':
        out[i] = view.getFloat64(i * 8, true)
        break
      case 'F16':
        out[i] = f16ToF32(view.getUint16(i * 2, true))
        break
      case 'BF16':
        out[i] = new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0]!
        break
      case 'I64':
        out[i] = Number(view.getBigInt64(i * 8, true))
        break
      case 'I32':
        out[i] = view.getInt32(i * 4, true)
        break
      case 'I16':
        out[i] = view.getInt16(i * 2, true)
        break
      case 'I8':
        out[i] = view.getInt8(i)
        break
      case 'U8':
      case 'BOOL':
        out[i] = view.getUint8(i)
        break
    }
  }
  return out
}

/** Parse a safetensors file; `source` names it in errors. Throws SafetensorsError naming the first problem. */
export function decodeSafetensors(buf: Uint8Array, source = 'the file'): { tensors: Record<string, TensorOut>; metadata: Record<string, string> } {
  const bad = (why: string): SafetensorsError => new SafetensorsError(`${source} is not a valid safetensors file: ${why}`)
  if (buf.byteLength < 8) throw bad(`it is ${buf.byteLength} bytes long, shorter than the 8-byte header length`)
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const n = view.getBigUint64(0, true)
  if (n > BigInt(Math.min(MAX_HEADER_BYTES, buf.byteLength - 8)))
    throw bad(`the header claims ${n} bytes but the file has ${buf.byteLength - 8} after the length`)
  const headerLen = Number(n)
  let header: unknown
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + headerLen)))
  } catch (err) {
    throw bad(`its header is not UTF-8 JSON (${(err as Error).message})`)
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw bad('its header is not a JSON object')
  const data = buf.subarray(8 + headerLen)
  const metadata: Record<string, string> = {}
  const ranges: { name: string; begin: number; end: number }[] = []
  const tensors: Record<string, TensorOut> = {}
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('__metadata__ is not an object')
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw bad(`metadata "${k}" is not a string`)
        metadata[k] = v
      }
      continue
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown }
    if (!e || typeof e !== 'object') throw bad(`tensor "${name}" is not an object`)
    if (typeof e.dtype !== 'string' || !(e.dtype in BYTES))
      throw bad(`tensor "${name}" has dtype ${JSON.stringify(e.dtype)}, not one of ${Object.keys(BYTES).join(', ')}`)
    const dtype = e.dtype as SafeDType
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw bad(`tensor "${name}" has shape ${JSON.stringify(e.shape)}`)
    const off = e.data_offsets
    if (!Array.isArray(off) || off.length !== 2 || !off.every((d) => Number.isSafeInteger(d) && d >= 0) || off[0] > off[1])
      throw bad(`tensor "${name}" has data_offsets ${JSON.stringify(off)}`)
    const [begin, end] = off as [number, number]
    const shape = e.shape as number[]
    if (end > data.byteLength) throw bad(`tensor "${name}" ends at byte ${end} but the data is ${data.byteLength} bytes`)
    if (end - begin !== sizeOf(shape) * BYTES[dtype])
      throw bad(`tensor "${name}": shape [${shape}] of ${dtype} needs ${sizeOf(shape) * BYTES[dtype]} bytes, its range holds ${end - begin}`)
    ranges.push({ name, begin, end })
    const bytes = data.subarray(begin, end)
    tensors[name] = { dtype, shape, bytes, values: toFloat32(dtype, bytes) }
  }
  // The ranges must tile the data exactly: no gaps, no overlaps, nothing after the last.
  ranges.sort((a, b) => a.begin - b.begin || a.end - b.end)
  let at = 0
  for (const r of ranges) {
    if (r.begin !== at)
      throw bad(r.begin < at ? `tensor "${r.name}" overlaps the one before it` : `there are ${r.begin - at} unused bytes before tensor "${r.name}"`)
    at = r.end
  }
  if (at !== data.byteLength) throw bad(`${data.byteLength - at} bytes after the last tensor belong to none`)
  return { tensors, metadata }
}
