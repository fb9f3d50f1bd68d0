// The append-only metrics file: truncation to a checkpoint's length, torn lines, files cut short.
import { afterEach, describe, expect, it } from 'vitest'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { MetricsLog, readMetrics } from '../../../src-node/metrics-log'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'

afterEach(cleanupTmp)

async function written(file: string, n: number): Promise<number[]> {
  const log = new MetricsLog(file)
  await log.open()
  const lengths: number[] = []
  for (let step = 0; step < n; step++) {
    await log.append({ stage: 'pretrain', step, loss: 1 / (step + 1) })
    lengths.push(log.length)
  }
  await log.close()
  return lengths
}

describe('MetricsLog', () => {
  it('truncates back to a checkpoint length, so resumed steps are recorded once', async () => {
    const file = path.join(tmpDir(), 'metrics.jsonl')
    const lengths = await written(file, 6)
    const log = new MetricsLog(file)
    expect(await log.open(lengths[2])).toEqual({ missingBytes: 0, tornBytes: 0 })
    await log.append({ stage: 'pretrain', step: 3, loss: 0 })
    await log.close()
    expect((await readMetrics(file)).map((r) => r.step)).toEqual([0, 1, 2, 3])
  })

  it('a file cut mid-line below the checkpoint length: the torn line is dropped, the gap reported, the next record on its own line', async () => {
    const file = path.join(tmpDir(), 'metrics.jsonl')
    const lengths = await written(file, 6)
    const cut = lengths[3]! - 7
    await fs.truncate(file, cut)
    const log = new MetricsLog(file)
    const opened = await log.open(lengths[5])
    expect(opened).toEqual({ missingBytes: lengths[5]! - cut, tornBytes: cut - lengths[2]! })
    expect(log.length).toBe(lengths[2])
    await log.append({ stage: 'pretrain', step: 6, loss: 0 })
    await log.close()
    const text = await fs.readFile(file, 'utf8')
    // Every line is a whole record: nothing glued onto a torn one.
    expect(
      text
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { step: number }).step)
    ).toEqual([0, 1, 2, 6])
  })

  it('a fresh open drops a torn last line left by a killed writer', async () => {
    const file = path.join(tmpDir(), 'metrics.jsonl')
    await written(file, 2)
    await fs.appendFile(file, '{"stage":"pretrain","st')
    const log = new MetricsLog(file)
    expect((await log.open()).tornBytes).toBe(23)
    await log.append({ stage: 'pretrain', step: 2 })
    await log.close()
    expect(
      (await fs.readFile(file, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => (JSON.parse(l) as { step: number }).step)
    ).toEqual([0, 1, 2])
  })
})
