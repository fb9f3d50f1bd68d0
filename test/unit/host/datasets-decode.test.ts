// Image decoding for the dataset cache: every format and colour type to 8-bit RGB, the resize
// policy, and the problem each bad file is reported as.
import { describe, expect, it } from 'vitest'
import { decodeImage, sniffFormat, ImageProblem } from '../../../src-host/datasets/decode'
import { blockyRgb, bmpRgb, encodeJpegDC, encodePng, gifRgb, jpegRgb, pngRgb, rgbToYcbcr, webpRgb, withExifOrientation } from '../../helpers/images'

const W = 24
const H = 16
const rgb = blockyRgb(W, H, 5)
const grey = Uint8Array.from({ length: W * H }, (_, p) => rgb[p * 3]!)

async function problemOf(bytes: Uint8Array): Promise<ImageProblem> {
  try {
    await decodeImage(bytes, 16)
  } catch (err) {
    if (err instanceof ImageProblem) return err
    throw err
  }
  throw new Error('expected a problem')
}

/** Largest channel difference between two RGB buffers. */
function maxDiff(a: Uint8Array, b: Uint8Array): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

describe('decodeImage', () => {
  it('decodes lossless PNG, WebP, BMP and GIF to the exact RGB', async () => {
    for (const bytes of [pngRgb(rgb, W, H), webpRgb(rgb, W, H), bmpRgb(rgb, W, H), gifRgb(rgb, W, H)]) {
      const d = await decodeImage(bytes, null)
      expect([d.width, d.height]).toEqual([W, H])
      // 16x16 from 24x16: no scaling, centre crop of columns 4..19.
      const out = (await decodeImage(bytes, 16)).rgb!
      const want = new Uint8Array(16 * 16 * 3)
      for (let y = 0; y < 16; y++) want.set(rgb.subarray((y * W + 4) * 3, (y * W + 20) * 3), y * 16 * 3)
      expect(maxDiff(out, want)).toBe(0)
    }
  })

  it('converts grey, grey+alpha, palette, RGBA and 16-bit PNGs to RGB', async () => {
    const cases: [string, Buffer, (p: number) => number[]][] = [
      ['grey', encodePng({ width: W, height: H, colorType: 0, samples: grey }), (p) => [grey[p]!, grey[p]!, grey[p]!]],
      [
        'grey 16-bit',
        encodePng({ width: W, height: H, colorType: 0, bitDepth: 16, samples: Array.from(grey, (v) => v * 257) }),
        (p) => [grey[p]!, grey[p]!, grey[p]!]
      ],
      [
        'grey+alpha',
        encodePng({ width: W, height: H, colorType: 4, samples: Array.from(grey).flatMap((v) => [v, 128]) }),
        (p) => [grey[p]!, grey[p]!, grey[p]!]
      ],
      [
        'RGBA (alpha dropped)',
        encodePng({
          width: W,
          height: H,
          colorType: 6,
          samples: Array.from({ length: W * H }).flatMap((_, p) => [rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!, p % 3 ? 0 : 255])
        }),
        (p) => [rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!]
      ],
      [
        'RGB 16-bit',
        encodePng({ width: W, height: H, colorType: 2, bitDepth: 16, samples: Array.from(rgb, (v) => v * 257) }),
        (p) => [rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!]
      ]
    ]
    // A palette PNG with a transparent entry.
    const palette = [
      [10, 20, 30],
      [200, 100, 50],
      [0, 255, 0]
    ]
    const idx = Array.from({ length: W * H }, (_, p) => p % 3)
    cases.push(['palette + tRNS', encodePng({ width: W, height: H, colorType: 3, samples: idx, palette, trns: [0, 255, 255] }), (p) => palette[p % 3]!])
    for (const [name, bytes, want] of cases) {
      const d = await decodeImage(bytes, null)
      expect([name, d.width, d.height]).toEqual([name, W, H])
      // Full size: W x H is not square, so ask for the crop of the shorter side and compare it.
      const out = (await decodeImage(bytes, H)).rgb!
      const expected = new Uint8Array(H * H * 3)
      for (let y = 0; y < H; y++) for (let x = 0; x < H; x++) expected.set(want(y * W + x + 4), (y * H + x) * 3)
      expect([name, maxDiff(out, expected)]).toEqual([name, 0])
    }
  })

  it('decodes baseline JPEGs in grey, YCbCr and Adobe CMYK to RGB', async () => {
    // Flat 8x8 blocks decode exactly from a DC-only JPEG (YCbCr within rounding).
    const g = (await decodeImage(encodeJpegDC(W, H, 1, grey), H)).rgb!
    const c = (await decodeImage(encodeJpegDC(W, H, 3, rgbToYcbcr(rgb)), H)).rgb!
    // CMYK stored inverted (Adobe): R = C' * K' / 255; K' = 255 on even pixels, 204 on odd ones (block mean 229.5).
    const cmyk = new Uint8Array(W * H * 4)
    for (let p = 0; p < W * H; p++) cmyk.set([rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!, p % 2 ? 204 : 255], p * 4)
    const k = (await decodeImage(encodeJpegDC(W, H, 4, cmyk), H)).rgb!
    const crop = (f: (p: number) => number[]): Uint8Array => {
      const out = new Uint8Array(H * H * 3)
      for (let y = 0; y < H; y++) for (let x = 0; x < H; x++) out.set(f(y * W + x + 4), (y * H + x) * 3)
      return out
    }
    expect(
      maxDiff(
        g,
        crop((p) => [grey[p]!, grey[p]!, grey[p]!])
      )
    ).toBe(0)
    expect(
      maxDiff(
        c,
        crop((p) => [rgb[p * 3]!, rgb[p * 3 + 1]!, rgb[p * 3 + 2]!])
      )
    ).toBeLessThanOrEqual(2)
    expect(
      maxDiff(
        k,
        crop((p) => [0, 1, 2].map((i) => (rgb[p * 3 + i]! * 229.5) / 255))
      )
    ).toBeLessThanOrEqual(2)
    // And a regular (AC-coded, chroma-subsampled) JPEG from the library's encoder is close.
    const q = (await decodeImage(jpegRgb(blockyRgb(32, 32, 9), 32, 32, 95), 32)).rgb!
    expect(maxDiff(q, blockyRgb(32, 32, 9))).toBeLessThan(60)
  })

  it('resizes the shorter side to the working size and crops the centre', async () => {
    // 64x32: left half black, right half white, with a red 16-pixel stripe in the middle.
    const w = 64,
      h = 32
    const img = new Uint8Array(w * h * 3)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const v = x >= 24 && x < 40 ? [255, 0, 0] : x < 32 ? [0, 0, 0] : [255, 255, 255]
        img.set(v, (y * w + x) * 3)
      }
    const out = (await decodeImage(pngRgb(img, w, h), 16)).rgb!
    // Scaled by 1/2 to 32x16, then columns 8..23 kept: the red stripe fills the middle 8 columns.
    const px = (x: number, y: number): number[] => [...out.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3)]
    expect(px(8, 8)).toEqual([255, 0, 0])
    expect(px(0, 8)).toEqual([0, 0, 0])
    expect(px(15, 8)).toEqual([255, 255, 255])
  })

  it('applies the EXIF orientation of a JPEG (a photo shown upright is cached upright)', async () => {
    // 32x16: left half red, right half blue. Orientation 6 = shown turned 90 degrees clockwise,
    // so upright it is 16x32 with the red half on top.
    const w = 32,
      h = 16
    const img = new Uint8Array(w * h * 3)
    for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) img.set(x < 16 ? [255, 0, 0] : [0, 0, 255], (y * w + x) * 3)
    const jpg = withExifOrientation(encodeJpegDC(w, h, 3, rgbToYcbcr(img)), 6)
    const d = await decodeImage(jpg, null)
    expect([d.width, d.height]).toEqual([16, 32])
    const full = (await decodeImage(jpg, 16)).rgb! // centre 16x16 crop of the 16x32 upright image
    const top = [...full.subarray(0, 3)]
    const bottom = [...full.subarray(15 * 16 * 3, 15 * 16 * 3 + 3)]
    expect(top[0]).toBeGreaterThan(200)
    expect(bottom[2]).toBeGreaterThan(200)
    const plain = await decodeImage(encodeJpegDC(w, h, 3, rgbToYcbcr(img)), null)
    expect([plain.width, plain.height]).toEqual([32, 16])
  })

  it('reports empty, non-image, truncated and corrupt files with the reason', async () => {
    expect((await problemOf(new Uint8Array(0))).kind).toBe('empty-file')
    const text = await problemOf(Buffer.from('hello, this is text'))
    expect(text.kind).toBe('not-an-image')
    expect(text.message).toMatch(/starts with the text "hello, t"/)
    const jpg = jpegRgb(rgb, W, H)
    expect((await problemOf(jpg.subarray(0, Math.floor(jpg.length * 0.6)))).kind).toBe('truncated')
    const png = pngRgb(rgb, W, H)
    expect((await problemOf(png.subarray(0, Math.floor(png.length * 0.6)))).kind).toBe('truncated')
    const bad = Buffer.from(png)
    bad.fill(0x41, 40, 80) // garbage inside the compressed data
    expect(['corrupt', 'truncated']).toContain((await problemOf(bad)).kind)
    const gif = gifRgb(rgb, W, H)
    expect(['truncated', 'corrupt']).toContain((await problemOf(gif.subarray(0, 20))).kind)
  })

  it('recognises formats by their bytes, not their names', () => {
    expect(sniffFormat(pngRgb(rgb, W, H))).toBe('png')
    expect(sniffFormat(jpegRgb(rgb, W, H))).toBe('jpeg')
    expect(sniffFormat(webpRgb(rgb, W, H))).toBe('webp')
    expect(sniffFormat(gifRgb(rgb, W, H))).toBe('gif')
    expect(sniffFormat(bmpRgb(rgb, W, H))).toBe('bmp')
    expect(sniffFormat(Buffer.from('II*\0tiff'))).toBeNull()
  })
})
