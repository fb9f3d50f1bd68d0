// Append-only JSON-lines metrics of a run. Each checkpoint records the file's byte length; a
// resumed run truncates the file back to that length first, so steps after the checkpoint are
// recorded once (by the resumed run), never twice.
import { promises as fs } from 'node:fs'

export class MetricsLog {
  private handle: fs.FileHandle | null = null
  private bytes = 0
  constructor(readonly file: string) {}

  /**
   * Open for appending, first truncating to `truncateTo` bytes when given. A torn last line (a
   * writer killed mid-line, or a file cut short) is dropped, so the next record starts on a line of
   * its own. Returns how many bytes the file lacked of `truncateTo` (records written after the
   * checkpoint's predecessor and lost since): 0 when none.
   */
  async open(truncateTo?: number): Promise<{ missingBytes: number; tornBytes: number }> {
    this.handle = await fs.open(this.file, 'a+')
    const size = (await this.handle.stat()).size
    const keep = truncateTo !== undefined && truncateTo < size ? truncateTo : size
    const whole = await this.wholeLines(keep)
    if (whole < size) await this.handle.truncate(whole)
    this.bytes = whole
    return { missingBytes: truncateTo !== undefined && truncateTo > size ? truncateTo - size : 0, tornBytes: keep - whole }
  }

  /** The length of the first `n` bytes cut back to the end of their last complete line. */
  private async wholeLines(n: number): Promise<number> {
    const chunk = Buffer.alloc(64 * 1024)
    let end = n
    while (end > 0) {
      const start = Math.max(0, end - chunk.length)
      const { bytesRead } = await this.handle!.read(chunk, 0, end - start, start)
      const nl = chunk.subarray(0, bytesRead).lastIndexOf(0x0a)
      if (nl >= 0) return start + nl + 1
      end = start
    }
    return 0
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
