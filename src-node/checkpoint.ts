// Checkpoints: a folder per checkpoint under runs/<id>/checkpoints/<seq>/ holding state.json
// (everything but the big arrays) and state.bin (every typed array, concatenated). Written to a
// temporary folder, fsynced, then renamed into place, so a crash or a full disk leaves either the
// previous checkpoint or the new one, never half of one. state.json carries a SHA-256 of
// state.bin: a damaged newest checkpoint is detected and the previous one is used instead.
import { createHash, randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'

type Typed = Float32Array | Int32Array | Uint8Array

interface ArrayRef {
  __array: 'f32' | 'i32' | 'u8'
  offset: number
  length: number
}

/** Replace typed arrays in `value` by references into one binary buffer. */
export function encodeBundle(value: unknown): { json: unknown; bin: Buffer } {
  const parts: Buffer[] = []
  let offset = 0
  const walk = (v: unknown): unknown => {
    if (v instanceof Float32Array || v instanceof Int32Array || v instanceof Uint8Array) {
      const kind = v instanceof Float32Array ? 'f32' : v instanceof Int32Array ? 'i32' : 'u8'
      const buf = Buffer.from(v.buffer, v.byteOffset, v.byteLength)
      // Keep every array 4-byte aligned so it can be viewed without copying on load.
      const pad = (4 - (buf.length % 4)) % 4
      parts.push(buf, Buffer.alloc(pad))
      const ref: ArrayRef = { __array: kind, offset, length: v.length }
      offset += buf.length + pad
      return ref
    }
    if (Array.isArray(v)) return v.map(walk)
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
    return v
  }
  const json = walk(value)
  return { json, bin: Buffer.concat(parts) }
}

export function decodeBundle(json: unknown, bin: Buffer): unknown {
  const walk = (v: unknown): unknown => {
    if (v && typeof v === 'object' && '__array' in (v as object)) {
      const r = v as ArrayRef
      const copy = new Uint8Array(bin.subarray(r.offset, r.offset + r.length * (r.__array === 'u8' ? 1 : 4))).buffer
      return r.__array === 'f32' ? new Float32Array(copy) : r.__array === 'i32' ? new Int32Array(copy) : new Uint8Array(copy)
    }
    if (Array.isArray(v)) return v.map(walk)
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]))
    return v
  }
  return walk(json)
}

export interface CheckpointMeta {
  seq: number
  createdAt: string
  /** Free-form position info (stage, epoch, step) for listings. */
  label: Record<string, unknown>
}

const SEQ_DIGITS = 6
const seqName = (n: number): string => String(n).padStart(SEQ_DIGITS, '0')

async function fsyncFile(file: string): Promise<void> {
  const h = await fs.open(file, 'r')
  try {
    await h.sync()
  } finally {
    await h.close()
  }
}

/** Checkpoints of one run, newest last. */
export class CheckpointStore {
  constructor(
    readonly dir: string,
    /** How many to keep (older ones are deleted after a successful write). */
    readonly keep = 3
  ) {}

  async list(): Promise<number[]> {
    const names = await fs.readdir(this.dir).catch(() => [] as string[])
    return names
      .filter((n) => /^\d+$/.test(n))
      .map(Number)
      .sort((a, b) => a - b)
  }

  /** Write a checkpoint atomically; returns its sequence number. */
  async save(state: unknown, label: Record<string, unknown>): Promise<number> {
    await fs.mkdir(this.dir, { recursive: true })
    const seqs = await this.list()
    const seq = (seqs.at(-1) ?? 0) + 1
    const tmp = path.join(this.dir, `.tmp-${seqName(seq)}-${randomBytes(3).toString('hex')}`)
    await fs.mkdir(tmp)
    try {
      const { json, bin } = encodeBundle(state)
      const sha256 = createHash('sha256').update(bin).digest('hex')
      const meta: CheckpointMeta & { sha256: string; bytes: number } = { seq, createdAt: new Date().toISOString(), label, sha256, bytes: bin.length }
      await fs.writeFile(path.join(tmp, 'state.bin'), bin)
      await fs.writeFile(path.join(tmp, 'state.json'), JSON.stringify({ meta, state: json }))
      await fsyncFile(path.join(tmp, 'state.bin'))
      await fsyncFile(path.join(tmp, 'state.json'))
      await fs.rename(tmp, path.join(this.dir, seqName(seq)))
    } catch (err) {
      await fs.rm(tmp, { recursive: true, force: true }).catch(() => {})
      throw err
    }
    for (const old of (await this.list()).slice(0, -this.keep)) {
      await fs.rm(path.join(this.dir, seqName(old)), { recursive: true, force: true })
    }
    return seq
  }

  /**
   * The newest checkpoint that reads back intact (checksum verified), with the ones skipped and
   * why; null when there is none.
   */
  async loadLatest(): Promise<{ seq: number; label: Record<string, unknown>; state: unknown; skipped: string[] } | null> {
    const skipped: string[] = []
    for (const seq of (await this.list()).reverse()) {
      try {
        return { seq, ...(await this.read(seq)), skipped }
      } catch (err) {
        skipped.push(`checkpoint ${seq}: ${(err as Error).message}`)
      }
    }
    return null
  }

  /** One checkpoint by number, checksum verified; throws naming what is wrong. */
  async load(seq: number): Promise<{ seq: number; label: Record<string, unknown>; state: unknown }> {
    if (!(await this.list()).includes(seq)) throw new Error(`checkpoint ${seq} is not on disk (only the newest ${this.keep} are kept)`)
    return { seq, ...(await this.read(seq)) }
  }

  private async read(seq: number): Promise<{ label: Record<string, unknown>; state: unknown }> {
    const dir = path.join(this.dir, seqName(seq))
    const doc = JSON.parse(await fs.readFile(path.join(dir, 'state.json'), 'utf8')) as { meta: CheckpointMeta & { sha256: string }; state: unknown }
    const bin = await fs.readFile(path.join(dir, 'state.bin'))
    const sha = createHash('sha256').update(bin).digest('hex')
    if (sha !== doc.meta.sha256) throw new Error('checksum mismatch (the file is damaged)')
    return { label: doc.meta.label, state: decodeBundle(doc.state, bin) }
  }

  /** Labels of every checkpoint on disk (for listings), newest last. */
  async describe(): Promise<CheckpointMeta[]> {
    const out: CheckpointMeta[] = []
    for (const seq of await this.list()) {
      try {
        const doc = JSON.parse(await fs.readFile(path.join(this.dir, seqName(seq), 'state.json'), 'utf8')) as { meta: CheckpointMeta }
        out.push(doc.meta)
      } catch {
        // A damaged checkpoint is simply not listed.
      }
    }
    return out
  }
}

export type { Typed }
