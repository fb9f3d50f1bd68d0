// One generation of a dataset's cache as the indexer writes it, and the previous generation it
// copies unchanged images from. Nothing saved is lost on failure: new split files get new names
// (<split>-<generation>.u8) and cache/index.json, written atomically by `commit`, is the commit
// point. Until then readers keep using the previous generation; `close` removes whatever of this
// one was not committed. File names and places are src-node/dataset-folder.ts's.
import { promises as fs } from 'node:fs'
import { createHash, randomBytes } from 'node:crypto'
import type { SplitName } from '../../src-shared/contract/datasets'
import { SPLIT_NAMES } from '../../src-shared/contract/datasets'
import { RESIZE_POLICY, cacheFileName, cacheFileOf, datasetPaths, isCacheFileName, readCacheIndex, type CacheIndex } from '../../src-node/dataset-folder'
import { writeFileAtomic } from '../../src-node/fsutil'
import type { Item } from './layout'

/** Output goes to disk in chunks of this size, so memory stays bounded whatever the split's size. */
const FLUSH_BYTES = 4 << 20

/** Where an unchanged image can be copied from in the previous cache. */
export interface PrevRef {
  split: SplitName
  slot: number
}

/** The committed generation, when it was made the same way (same working size and resize policy). */
export class PreviousCache {
  private readonly byPath = new Map<string, { ref: PrevRef; bytes: number; mtime: number; hash: string; w: number; h: number }>()
  private readonly byHash = new Map<string, { ref: PrevRef; w: number; h: number }>()
  private readonly handles = new Map<SplitName, Promise<fs.FileHandle>>()
  constructor(
    readonly index: CacheIndex,
    private readonly datasetDir: string
  ) {
    for (const name of SPLIT_NAMES) {
      const s = index.splits[name]
      if (!s) continue
      for (let i = 0; i < s.count; i++) {
        const rec = { ref: { split: name, slot: i }, bytes: s.bytes[i]!, mtime: s.mtimes[i]!, hash: s.hashes[i]!, w: s.widths[i]!, h: s.heights[i]! }
        this.byPath.set(s.paths[i]!, rec)
        this.byHash.set(rec.hash, rec)
      }
    }
  }
  /** The same file as last time: same path, size and mtime. */
  unchanged(it: Item): { ref: PrevRef; hash: string; w: number; h: number } | null {
    const p = this.byPath.get(it.rel)
    return p && p.bytes === it.size && p.mtime === it.mtimeMs ? p : null
  }
  /** An image with the same bytes (moved or renamed files are not decoded again). */
  sameContent(hash: string): { ref: PrevRef; w: number; h: number } | null {
    return this.byHash.get(hash) ?? null
  }
  async read(ref: PrevRef, px: number): Promise<Uint8Array> {
    let h = this.handles.get(ref.split)
    if (!h) {
      h = fs.open(cacheFileOf(this.datasetDir, this.index.splits[ref.split]!.file), 'r')
      this.handles.set(ref.split, h)
    }
    const out = new Uint8Array(px)
    const { bytesRead } = await (await h).read(out, 0, px, ref.slot * px)
    if (bytesRead !== px) throw new Error('previous cache file is shorter than its index')
    return out
  }
  async close(): Promise<void> {
    for (const h of this.handles.values()) await (await h.catch(() => null))?.close()
  }
}

/**
 * One split's cache file being written, in order, and the SHA-256 of its bytes. Without a file
 * handle (an inspect job) it writes nothing and only names the file.
 */
export class SplitWriter {
  private readonly digest = createHash('sha256')
  private chunk: Buffer
  private fill = 0
  constructor(
    readonly file: string,
    private readonly handle: fs.FileHandle | null,
    private readonly px: number
  ) {
    this.chunk = handle ? Buffer.allocUnsafe(Math.max(FLUSH_BYTES, px)) : Buffer.alloc(0)
  }
  async add(rgb: Uint8Array | null): Promise<void> {
    if (!this.handle || !rgb) return
    if (this.fill + this.px > this.chunk.length) await this.flush()
    this.chunk.set(rgb, this.fill)
    this.fill += this.px
  }
  private async flush(): Promise<void> {
    if (!this.handle || this.fill === 0) return
    const part = this.chunk.subarray(0, this.fill)
    this.digest.update(part)
    await this.handle.write(part, 0, this.fill)
    this.chunk = Buffer.allocUnsafe(this.chunk.length)
    this.fill = 0
  }
  /** Write out what is buffered and sync; the SHA-256 of everything written. */
  async finish(): Promise<string> {
    await this.flush()
    if (this.handle) await this.handle.sync()
    return this.digest.digest('hex')
  }
  async close(): Promise<void> {
    await this.handle?.close()
  }
}

/** The generation an index job writes; a dry run (inspect) writes nothing and reuses nothing. */
export class CacheGeneration {
  /** Files of this generation not committed yet: removed by `close`. */
  private readonly written: string[] = []
  private constructor(
    private readonly datasetDir: string | null,
    private readonly id: string,
    private prev: PreviousCache | null
  ) {}

  /** Start a generation in datasets/<id>/cache/, next to the previous one. */
  static async open(datasetDir: string, workingSize: number): Promise<CacheGeneration> {
    await fs.mkdir(datasetPaths(datasetDir).cache, { recursive: true })
    const old = await readCacheIndex(datasetDir).catch(() => null)
    const prev = old && old.size === workingSize && old.resize === RESIZE_POLICY ? new PreviousCache(old, datasetDir) : null
    return new CacheGeneration(datasetDir, randomBytes(6).toString('hex'), prev)
  }

  static dryRun(): CacheGeneration {
    return new CacheGeneration(null, randomBytes(6).toString('hex'), null)
  }

  /** Whether images are decoded to the working size and written (index), or only measured (inspect). */
  get writes(): boolean {
    return this.datasetDir !== null
  }

  get previous(): PreviousCache | null {
    return this.prev
  }

  async openSplit(split: SplitName, px: number): Promise<SplitWriter> {
    const name = cacheFileName(split, this.id)
    if (!this.datasetDir) return new SplitWriter(name, null, px)
    const file = cacheFileOf(this.datasetDir, name)
    const handle = await fs.open(file, 'w')
    this.written.push(file)
    return new SplitWriter(name, handle, px)
  }

  /** A split that ended with no usable image: its file goes at once. */
  async dropSplit(w: SplitWriter): Promise<void> {
    if (!this.datasetDir) return
    const file = cacheFileOf(this.datasetDir, w.file)
    await fs.rm(file, { force: true })
    this.written.splice(this.written.indexOf(file), 1)
  }

  /** Write cache/index.json (the commit point), then remove the previous generation's files and orphans of crashed runs. */
  async commit(index: CacheIndex): Promise<void> {
    const dir = this.datasetDir!
    await writeFileAtomic(datasetPaths(dir).cacheIndex, JSON.stringify(index))
    await this.prev?.close()
    this.prev = null
    const keep = new Set(Object.values(index.splits).map((s) => s.file))
    for (const name of await fs.readdir(datasetPaths(dir).cache)) {
      if (!keep.has(name) && isCacheFileName(name)) await fs.rm(cacheFileOf(dir, name), { force: true })
    }
    this.written.length = 0
  }

  /** Release the previous generation; anything of this one not committed is removed, so the previous cache stays in force. */
  async close(): Promise<void> {
    await this.prev?.close()
    for (const f of this.written) await fs.rm(f, { force: true }).catch(() => {})
  }
}
