// The image size limit: a header that claims an enormous image (any format; a 35-byte GIF can
// claim 65535x65535) is a per-file problem found before anything is decoded, never failing the
// folder, and the GIF decoder's console output never reaches stdout (`inspect --json` stays JSON).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { execFile } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { IMAGE_LIMITS, ImageProblem, decodeImage } from '../../../src-host/datasets/decode'
import { readCacheIndex } from '../../../src-node/dataset-folder'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { makeImageFolder } from '../../helpers/datasets'
import { blockyRgb, bmpRgb, encodeJpegDC, gifHeaderOnly, gifRgb, pngRgb, rgbToYcbcr, webpRgb } from '../../helpers/images'

afterEach(() => {
  cleanupTmp()
  vi.unstubAllEnvs()
  vi.restoreAllMocks()
})

async function problemOf(bytes: Uint8Array, size: number | null = 32): Promise<ImageProblem> {
  const err = await decodeImage(bytes, size).then(
    () => null,
    (e: unknown) => e
  )
  expect(err).toBeInstanceOf(ImageProblem)
  return err as ImageProblem
}

const ROOT = path.resolve(__dirname, '../../..')

/** The CLI in a child process, as `quarterturn` runs it: stdout and stderr kept apart. */
async function cliProcess(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const runner = path.join(tmpDir(), 'run-cli.mjs')
  writeFileSync(
    runner,
    `const { main } = await import(${JSON.stringify(path.join(ROOT, 'src-host/cli.ts'))})\nprocess.exitCode = await main(process.argv.slice(2))\n`
  )
  try {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', runner, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      maxBuffer: 64 << 20
    })
    return { code: 0, stdout: r.stdout, stderr: r.stderr }
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string }
    return { code: e.code, stdout: e.stdout, stderr: e.stderr }
  }
}

describe('image size limit', () => {
  const rgb = blockyRgb(16, 16, 5)

  it('rejects a header over the limit in every format before decoding anything', async () => {
    const png = pngRgb(rgb, 16, 16)
    png.writeUInt32BE(70000, 16) // IHDR width
    png.writeUInt32BE(70000, 20) // IHDR height
    const jpeg = encodeJpegDC(16, 16, 3, rgbToYcbcr(rgb))
    const sof = jpeg.indexOf(Buffer.from([0xff, 0xc0]))
    jpeg.writeUInt16BE(60000, sof + 5) // height
    jpeg.writeUInt16BE(60000, sof + 7) // width
    const webp = webpRgb(rgb, 16, 16)
    expect(webp.toString('ascii', 12, 16)).toBe('VP8L')
    webp.writeUInt32LE((webp.readUInt32LE(21) & ~0x0fffffff) | 16383 | (16383 << 14), 21) // 16384 x 16384
    const bmp = bmpRgb(rgb, 16, 16)
    bmp.writeInt32LE(100000, 18)
    bmp.writeInt32LE(-100000, 22) // top-down
    const cases: [string, Buffer, RegExp][] = [
      ['png', png, /70000×70000/],
      ['jpeg', jpeg, /60000×60000/],
      ['webp', webp, /16384×16384/],
      ['bmp', bmp, /100000×100000/],
      ['gif', gifHeaderOnly(65535, 65535), /65535×65535/],
      ['gif', gifHeaderOnly(16000, 16000), /16000×16000/],
      // One side over the limit, the area within it.
      [
        'png (one side)',
        (() => {
          const b = pngRgb(rgb, 16, 16)
          b.writeUInt32BE(40000, 16)
          b.writeUInt32BE(16, 20)
          return b
        })(),
        /40000×16/
      ],
      // A small screen whose first frame claims to be huge (omggif allocates the frame too).
      ['gif (frame)', gifHeaderOnly(16, 16, { width: 16000, height: 16000 }), /16000×16000/]
    ]
    for (const [name, bytes, size] of cases) {
      for (const target of [32, null]) {
        const p = await problemOf(bytes, target)
        expect(p.kind, name).toBe('too-large')
        expect(p.message, name).toMatch(size)
        expect(p.message, name).toMatch(/^image too large: .*the limit is 64 megapixels/)
      }
    }
  })

  it('keeps images within the limit, and the limit is one documented constant', async () => {
    expect(IMAGE_LIMITS.maxPixels).toBe(8192 * 8192)
    for (const bytes of [pngRgb(rgb, 16, 16), webpRgb(rgb, 16, 16), bmpRgb(rgb, 16, 16), gifRgb(rgb, 16, 16)]) {
      expect((await decodeImage(bytes, 16)).rgb).toEqual(rgb)
    }
  })

  it('a GIF whose data ends early is truncated, and the decoder prints nothing', async () => {
    const log = vi.spyOn(console, 'log')
    const write = vi.spyOn(process.stdout, 'write')
    const p = await problemOf(gifHeaderOnly(64, 64))
    expect(p.kind).toBe('truncated')
    expect(p.message).toMatch(/GIF image data ends before its 64x64 frame is complete/)
    expect(log).not.toHaveBeenCalled()
    expect(write).not.toHaveBeenCalled()
  })

  it('inspect and add list GIF bombs as problems, keep the good images, and inspect --json stays JSON', { timeout: 60_000 }, async () => {
    const src = tmpDir()
    makeImageFolder(src, { cat: 3, dog: 3 })
    writeFileSync(path.join(src, 'cat', 'bomb.gif'), gifHeaderOnly(65535, 65535))
    writeFileSync(path.join(src, 'dog', 'big.gif'), gifHeaderOnly(16000, 16000))
    writeFileSync(path.join(src, 'dog', 'short.gif'), gifHeaderOnly(32, 32))
    const ws = path.join(tmpDir(), 'ws')
    // Not in-process: the indexing worker thread, whose output goes to the process's stdout.
    const env = { QUARTERTURN_WORKSPACE: ws, QUARTERTURN_INDEX_IN_PROCESS: '0' }

    // In a child process with the indexing worker thread, as a user runs it.
    const r = await cliProcess(['dataset', 'inspect', src, '--json', '--config-dir', tmpDir()], env)
    expect(r.code, r.stderr).toBe(0)
    const j = JSON.parse(r.stdout)
    expect(j).toMatchObject({ layout: 'imagefolder', usableImages: 6, files: 9, suggestedWorkingSize: 32, problemCounts: { 'too-large': 2, truncated: 1 } })
    const byPath = new Map((j.problems as { path: string; kind: string; reason: string; skipped: boolean }[]).map((p) => [p.path, p]))
    expect(byPath.get('cat/bomb.gif')).toMatchObject({ kind: 'too-large', skipped: true, reason: expect.stringMatching(/image too large: 65535×65535/) })
    expect(byPath.get('dog/big.gif')).toMatchObject({ kind: 'too-large', skipped: true, reason: expect.stringMatching(/image too large: 16000×16000/) })
    expect(byPath.get('dog/short.gif')).toMatchObject({ kind: 'truncated' })

    const a = await cliProcess(['dataset', 'add', src, '--id', 'pets', '--config-dir', tmpDir()], env)
    expect(a.code, a.stderr).toBe(0)
    expect(a.stdout).toMatch(/Added ".*" as pets: imagefolder, 6 images in 2 classes at 32x32/)
    expect(a.stdout).toMatch(/3 problems \(.*2 too-large/)
    expect(a.stdout).not.toMatch(/Warning/)
    const index = await readCacheIndex(path.join(ws, 'datasets', 'pets'))
    expect(Object.values(index.splits).reduce((n, s) => n + s!.count, 0)).toBe(6)
  })
})
