// File helpers shared by the host and the workers (plain Node: no Electron, no TensorFlow).
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { randomBytes } from 'node:crypto'

/**
 * Replace `file` with `data` atomically: write a temporary sibling, fsync it, rename over.
 * A crash or a full disk leaves either the old file or the new one, never a torn mix.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(4).toString('hex')}.tmp`)
  const handle = await fs.open(tmp, 'w')
  try {
    await handle.writeFile(data)
    await handle.sync()
  } catch (err) {
    await handle.close().catch(() => {})
    await fs.rm(tmp, { force: true }).catch(() => {})
    throw err
  }
  await handle.close()
  try {
    await fs.rename(tmp, file)
  } catch (err) {
    await fs.rm(tmp, { force: true }).catch(() => {})
    throw err
  }
}

/** The closest ancestor of `p` (or `p` itself) that exists. */
export async function nearestExisting(p: string): Promise<string> {
  let cur = path.resolve(p)
  for (;;) {
    try {
      await fs.stat(cur)
      return cur
    } catch {
      const parent = path.dirname(cur)
      if (parent === cur) return cur
      cur = parent
    }
  }
}

/** Free and total bytes of the volume that holds `p` (or would hold it, once created). */
export async function diskSpace(p: string): Promise<{ freeBytes: number; totalBytes: number }> {
  const s = await fs.statfs(await nearestExisting(p))
  return { freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize }
}
