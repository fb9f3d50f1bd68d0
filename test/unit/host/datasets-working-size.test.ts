// The working size: one decision, so `dataset inspect` reports the size `dataset add` then uses.
import { afterEach, describe, expect, it } from 'vitest'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { Host } from '../../../src-host/host'
import { createSettingsStore, APP_VERSION } from '../../../src-host/headless'
import { runIndex, type IndexJob } from '../../../src-host/datasets/indexer'
import { DEFAULT_WORKING_SIZE, decideWorkingSize } from '../../../src-host/datasets/working-size'
import { IndexOptionsSchema, type IndexOptionsInput } from '../../../src-shared/contract/datasets'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { makeImageFolder } from '../../helpers/datasets'
import { blockyRgb, gifRgb, pngRgb } from '../../helpers/images'

afterEach(cleanupTmp)

const noHooks = { progress: () => {}, isCancelled: () => false }
function job(mode: IndexJob['mode'], source: string, datasetDir: string | null, options: IndexOptionsInput = {}): IndexJob {
  return { mode, source, datasetDir, options: IndexOptionsSchema.parse(options) }
}

describe('working size', () => {
  const probe = (...sizes: [number, number][]) => ({ probed: sizes.length, sizes: sizes.map(([width, height]) => ({ width, height })) })
  const folder = { kind: 'imagefolder' as const, nativeSize: null }

  it('one rule: the option, the native size, the one sampled size (at most 512), else 64', () => {
    expect(decideWorkingSize({ workingSize: 24 }, { kind: 'tiny-imagenet', nativeSize: 64 }, probe([40, 40]))).toMatchObject({
      size: 24,
      reason: expect.stringMatching(/as chosen/)
    })
    expect(decideWorkingSize({ workingSize: null }, { kind: 'tiny-imagenet', nativeSize: 64 }, probe([40, 40]))).toMatchObject({
      size: 64,
      reason: expect.stringMatching(/native size of tiny-imagenet/)
    })
    expect(decideWorkingSize({ workingSize: null }, folder, probe([40, 30], [40, 30]))).toMatchObject({
      size: 30,
      reason: expect.stringMatching(/every sampled image is 40x30 \(centre-cropped/)
    })
    expect(decideWorkingSize({ workingSize: null }, folder, probe([2000, 1000]))).toMatchObject({ size: 512 })
    expect(decideWorkingSize({ workingSize: null }, folder, probe([40, 40], [48, 48]))).toMatchObject({
      size: DEFAULT_WORKING_SIZE,
      reason: expect.stringMatching(/2 different sizes/)
    })
    expect(decideWorkingSize({ workingSize: null }, folder, { probed: 3, sizes: [] })).toMatchObject({
      size: DEFAULT_WORKING_SIZE,
      reason: expect.stringMatching(/none of the 3 sampled images/)
    })
  })

  it('inspect reports the size add then uses, for the same folder and options', async () => {
    // GIFs only (their size was not read when choosing it).
    const gifs = tmpDir()
    for (const c of ['a', 'b']) {
      mkdirSync(path.join(gifs, c))
      for (let i = 0; i < 3; i++) writeFileSync(path.join(gifs, c, `${i}.gif`), gifRgb(blockyRgb(40, 40, i + (c === 'a' ? 0 : 10)), 40, 40))
    }
    // 60 images of 40x40 but one of 48x48 that the sampling passes over.
    const flat = tmpDir()
    for (let i = 0; i < 60; i++) {
      const s = i === 4 ? 48 : 40
      writeFileSync(path.join(flat, `img_${String(i).padStart(3, '0')}.png`), pngRgb(blockyRgb(s, s, i), s, s))
    }
    const folders: [string, string, IndexOptionsInput, number][] = [
      ['gifs', gifs, {}, 40],
      ['flat', flat, {}, 40],
      ['flat, size asked for', flat, { workingSize: 24 }, 24]
    ]
    for (const [name, src, options, expected] of folders) {
      const inspected = await runIndex(job('inspect', src, null, options), noHooks)
      const added = await runIndex(job('index', src, tmpDir(), options), noHooks)
      expect([inspected.workingSize, added.workingSize], name).toEqual([expected, expected])
      expect(inspected.workingSizeReason, name).toBe(added.workingSizeReason)
    }
  })

  it('through the service: inspect suggests what add registers', async () => {
    const host = new Host({
      store: createSettingsStore(tmpDir()),
      shell: 'web',
      version: APP_VERSION,
      defaultWorkspace: path.join(tmpDir(), 'ws'),
      logError: () => {},
      indexInProcess: true
    })
    const src = tmpDir()
    makeImageFolder(src, { a: 3, b: 3 }, { size: 24 })
    writeFileSync(path.join(src, 'a', 'odd.gif'), gifRgb(blockyRgb(40, 40, 77), 40, 40))
    const r = await host.call('datasets.inspect', { path: src })
    const { id } = await host.call('datasets.add', { path: src })
    const { summary } = await host.datasets.waitForJob(id)
    expect(summary.workingSize).toBe(r.suggestedWorkingSize)
    expect(r.workingSizeReason).toMatch(/^working size \d+: /)
    await host.shutdown()
  })
})
