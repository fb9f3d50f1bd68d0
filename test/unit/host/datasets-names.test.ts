// File and folder names that are not UTF-8 (bytes of another encoding): read, cached under a
// name that maps back to their bytes (in index.json too), reused on re-index, shown readably.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { main } from '../../../src-host/cli'
import { decodeImage } from '../../../src-host/datasets/decode'
import { runIndex, type IndexJob } from '../../../src-host/datasets/indexer'
import { bytesOfName, displayName, nameFromBytes } from '../../../src-host/datasets/scan'
import { IndexOptionsSchema, type IndexOptionsInput } from '../../../src-shared/contract/datasets'
import { openCacheSplit } from '../../../src-node/dataset-folder'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { makeImageFolder } from '../../helpers/datasets'
import { blockyRgb, pngRgb } from '../../helpers/images'

afterEach(() => {
  cleanupTmp()
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

const noHooks = { progress: () => {}, isCancelled: () => false }
function job(mode: IndexJob['mode'], source: string, datasetDir: string | null, options: IndexOptionsInput = {}): IndexJob {
  return { mode, source, datasetDir, options: IndexOptionsSchema.parse(options) }
}

describe('file and folder names that are not UTF-8', () => {
  it('names as bytes: every byte string survives the round trip; UTF-8 names are unchanged', () => {
    const samples: number[][] = [
      [...Buffer.from('plain.png')],
      [...Buffer.from('café-日本-😀.png')],
      [0xff, 0xfe, 0x2e, 0x70, 0x6e, 0x67], // invalid bytes
      [0x63, 0x61, 0x66, 0xe9], // "café" in Latin-1
      [0xf0, 0x9f, 0x92, 0x80, 0xff], // U+1F480 (a pair whose low half is in the escape range), then a bad byte
      [0xc0, 0x80, 0xed, 0xa0, 0x80, 0xf4, 0x90, 0x80, 0x80, 0xe2, 0x82] // overlong, surrogate, past U+10FFFF, cut short
    ]
    let seed = 7
    for (let k = 0; k < 300; k++) {
      const n = 1 + (k % 12)
      const b: number[] = []
      for (let i = 0; i < n; i++) b.push((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24)
      samples.push(b)
    }
    for (const s of samples) {
      const bytes = Buffer.from(s)
      expect(bytesOfName(nameFromBytes(bytes)).equals(bytes), bytes.toString('hex')).toBe(true)
    }
    expect(nameFromBytes(Buffer.from('café-😀.png'))).toBe('café-😀.png')
    expect(displayName(nameFromBytes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2f, 0xff])))).toBe('caf\\xe9/\\xff')
    // Different bytes stay different names (the replacement character would merge them).
    expect(nameFromBytes(Buffer.from([0xff]))).not.toBe(nameFromBytes(Buffer.from([0xfe])))
  })

  it.runIf(process.platform === 'linux')('indexes them, stores their paths in index.json, and reuses them on re-index', async () => {
    const src = tmpDir()
    const ds = tmpDir()
    makeImageFolder(src, { dog: 3 })
    const bSrc = Buffer.from(src)
    const cafe = Buffer.concat([bSrc, Buffer.from([0x2f, 0x63, 0x61, 0x66, 0xe9])]) // <src>/caf\xe9 (Latin-1)
    mkdirSync(cafe)
    for (let i = 0; i < 3; i++) writeFileSync(Buffer.concat([cafe, Buffer.from(`/c${i}.png`)]), pngRgb(blockyRgb(32, 32, 500 + i), 32, 32))
    const dogDir = Buffer.concat([bSrc, Buffer.from('/dog')])
    writeFileSync(Buffer.concat([dogDir, Buffer.from([0x2f, 0xff, 0xfe, 0x2e, 0x70, 0x6e, 0x67])]), pngRgb(blockyRgb(32, 32, 900), 32, 32)) // dog/\xff\xfe.png
    writeFileSync(Buffer.concat([dogDir, Buffer.from([0x2f, 0xfe, 0xff, 0x2e, 0x70, 0x6e, 0x67])]), pngRgb(blockyRgb(32, 32, 901), 32, 32)) // dog/\xfe\xff.png

    const o = await runIndex(job('index', src, ds, { split: { valFraction: 0, testFraction: 0 } }), noHooks)
    expect(o.problems).toEqual([])
    expect(o.usable).toBe(8)
    expect(o.classes.map((c) => displayName(c.name))).toEqual(['caf\\xe9', 'dog'])
    const train = await openCacheSplit(ds, 'train')
    const names = train.paths.map(displayName)
    expect(names).toEqual(expect.arrayContaining(['caf\\xe9/c0.png', 'dog/\\xff\\xfe.png', 'dog/\\xfe\\xff.png']))
    // index.json holds each path as a JSON escape that reads back as the same name, which is the
    // file's own bytes: each cached image is the file at that path.
    const onDisk = readFileSync(path.join(ds, 'cache', 'index.json'), 'utf8')
    expect(onDisk).toContain('\\udcff\\udcfe.png')
    const k = train.paths.findIndex((p) => displayName(p) === 'dog/\\xff\\xfe.png')
    const pixels = (await decodeImage(readFileSync(Buffer.concat([bSrc, Buffer.from('/'), bytesOfName(train.paths[k]!)])), 32)).rgb!
    expect(Buffer.from(train.images.subarray(k * 3072, (k + 1) * 3072)).equals(Buffer.from(pixels))).toBe(true)
    expect(pixels).toEqual(blockyRgb(32, 32, 900))

    // Unchanged on re-index: every image found again by its path.
    const again = await runIndex(job('index', src, ds, { split: { valFraction: 0, testFraction: 0 } }), noHooks)
    expect([again.decoded, again.reused]).toEqual([0, 8])
    expect(again.fingerprint).toEqual(o.fingerprint)
  })

  it.runIf(process.platform === 'linux')('inspect shows such a name readably', async () => {
    vi.stubEnv('QUARTERTURN_INDEX_IN_PROCESS', '1')
    vi.stubEnv('QUARTERTURN_WORKSPACE', path.join(tmpDir(), 'ws'))
    const src = tmpDir()
    makeImageFolder(src, { a: 2, b: 2 })
    writeFileSync(Buffer.concat([Buffer.from(src), Buffer.from('/a/'), Buffer.from([0xff, 0x2e, 0x6a, 0x70, 0x67])]), 'not an image')
    const out: string[] = []
    const code = await main(['dataset', 'inspect', src, '--config-dir', tmpDir()], { out: (l) => out.push(l), err: () => {} })
    expect(code).toBe(0)
    expect(out.join('\n')).toMatch(/not-an-image\s+a\/\\xff\.jpg: not a JPEG/)
  })
})
