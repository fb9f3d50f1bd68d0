// Append-only JSON-lines metrics of a run. Each checkpoint records the file's byte length; a
// resumed run truncates the file back to that length first, so steps after the checkpoint are
// recorded once (by the resumed run), never twice.
import { promises as fs } from 'node:fs'

export class MetricsLog {
  private handle: fs.FileHandle | null = null
  private bytes = 0
  constructor(readonly file: string) {}

  /** Open for appending, first truncating to `truncateTo` bytes when given. */
  async open(truncateTo?: number): Promise<void> {
    this.handle = await fs.open(this.file, 'a+')
    const size = (await this.handle.stat()).size
    if (truncateTo !== undefined && truncateTo < size) {
      await this.handle.truncate(truncateTo)
      this.bytes = truncateTo
    } else {
      this.bytes = size
    }
  }

  get length(): number {
    return this.bytes
  }

  async append(record: Record<string, unknown>): Promise<void> {
    if (!this.handle) throw new Error('metrics log is not open')
    const line = JSON.stringify(record) + '\n'
    await this.handle.appendFile(line)
    this.bytes += Buffer.byteLength(line)
  }

  async sync(): Promise<void> {
    await this.handle?.sync()
  }

  async close(): Promise<void> {
    await this.handle?.close()
    this.handle = null
  }
}

/** All records of a metrics file (a torn last line from a crash is ignored). */
export async function readMetrics(file: string): Promise<Record<string, unknown>[]> {
  const text = await fs.readFile(file, 'utf8').catch(() => '')
  const out: Record<string, unknown>[] = []
  for (const line of text.split('\n')) {
    if (!line.trim()) continue
    try {
      out.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // A partial line from a killed writer.
    }
  }
  return out
}
