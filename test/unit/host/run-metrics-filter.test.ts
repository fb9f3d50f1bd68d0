// A run's metrics read for one curve: one stage's records, only the metrics asked for (with each
// record's place: stage, epoch, step, t), thinned after filtering so a short stage keeps every
// record however long the others are.
import { afterEach, describe, expect, it } from 'vitest'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { readRunMetrics } from '../../../src-host/runs/run-files'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'

afterEach(() => cleanupTmp())

function runDir(): string {
  const dir = tmpDir('qt-metrics-')
  mkdirSync(dir, { recursive: true })
  const lines: string[] = []
  for (let step = 0; step < 3000; step++)
    lines.push(
      JSON.stringify({ stage: 'pretrain', epoch: Math.floor(step / 100), step, lr: 0.1, ms: 3, loss: 2 - step / 1000, ce: 1, acc_rot: 0.5, t: 1000 + step })
    )
  for (let epoch = 0; epoch < 5; epoch++)
    lines.push(JSON.stringify({ stage: 'linear:sample', epoch, step: epoch, lr: 0.1, loss: 1 / (epoch + 1), acc: 0.1 * epoch, t: 5000 + epoch }))
  writeFileSync(path.join(dir, 'metrics.jsonl'), lines.join('\n') + '\n')
  return dir
}

describe('readRunMetrics', () => {
  it('returns one stage’s records with only the metrics asked for', async () => {
    const dir = runDir()
    const recs = await readRunMetrics(dir, 20000, { stage: 'pretrain', keys: ['loss'] })
    expect(recs).toHaveLength(3000)
    expect(recs[7]).toEqual({ stage: 'pretrain', epoch: 0, step: 7, t: 1007, loss: 2 - 7 / 1000 })
    expect(await readRunMetrics(dir, 20000, { stage: 'pretrain', keys: ['acc'] })).toEqual([])
  })

  it('thins after filtering: a short stage keeps every record', async () => {
    const dir = runDir()
    const thinned = await readRunMetrics(dir, 100)
    expect(thinned.length).toBeLessThanOrEqual(101)
    expect(thinned.filter((r) => r.stage === 'linear:sample').map((r) => r.step)).toEqual([0, 1, 2, 3, 4])
    expect(thinned.filter((r) => r.stage === 'pretrain').length).toBeGreaterThan(80)
    const probe = await readRunMetrics(dir, 100, { stage: 'linear:sample' })
    expect(probe.map((r) => r.step)).toEqual([0, 1, 2, 3, 4])
    expect(probe[2]).toMatchObject({ loss: 1 / 3, acc: 0.2, lr: 0.1 })
  })
})
