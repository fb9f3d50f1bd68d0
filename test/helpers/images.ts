// Real image files for dataset tests: PNG (every colour type, written here with zlib), baseline
// JPEG in grey, YCbCr and Adobe CMYK (a small DC-only encoder: every 8x8 block is flat, so a
// decoder reproduces it exactly), WebP and BMP through @napi-rs/image's encoders, GIF through
// omggif's, and CIFAR-10 binary records.
import { deflateSync, crc32 } from 'node:zlib'
import { Transformer } from '@napi-rs/image'
import { GifWriter } from 'omggif'

/** RGB image of w x h made of flat 8x8 blocks, deterministic for `seed` (blocks survive JPEG exactly). */
export function blockyRgb(w: number, h: number, seed: number): Uint8Array {
  const out = new Uint8Array(w * h * 3)
  let s = (seed * 2654435761) >>> 0
  const bw = Math.ceil(w / 8)
  const bh = Math.ceil(h / 8)
  const colours: number[][] = []
  for (let b = 0; b < bw * bh; b++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0
    colours.push([(s >>> 24) & 0xff, (s >>> 16) & 0xff, (s >>> 8) & 0xff])
  }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const c = colours[Math.floor(y / 8) * bw + Math.floor(x / 8)]!
      out.set(c, (y * w + x) * 3)
    }
  return out
}

function rgba(rgb: Uint8Array, alpha = 255): Uint8Array {
  const n = rgb.length / 3
  const out = new Uint8Array(n * 4)
  for (let p = 0; p < n; p++) {
    out[p * 4] = rgb[p * 3]!
    out[p * 4 + 1] = rgb[p * 3 + 1]!
    out[p * 4 + 2] = rgb[p * 3 + 2]!
    out[p * 4 + 3] = alpha
  }
  return out
}

// ---- PNG --------------------------------------------------------------------------------

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'ascii')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0)
  return Buffer.concat([head, data, crc])
}

/**
 * PNG of raw samples: colorType 0 grey, 2 RGB, 3 palette, 4 grey+alpha, 6 RGBA; bitDepth 8 or 16
 * (16-bit samples given as numbers 0..65535). `palette` (RGB triples) and `trns` for type 3.
 */
export function encodePng(opts: {
  width: number
  height: number
  colorType: 0 | 2 | 3 | 4 | 6
  bitDepth?: 8 | 16
  samples: ArrayLike<number>
  palette?: number[][]
  trns?: number[]
}): Buffer {
  const { width, height, colorType } = opts
  const depth = opts.bitDepth ?? 8
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colorType]
  const bps = depth / 8
  const rowBytes = width * channels * bps
  const raw = Buffer.alloc((rowBytes + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (rowBytes + 1)] = 0 // filter: none
    for (let i = 0; i < width * channels; i++) {
      const v = opts.samples[y * width * channels + i]!
      const o = y * (rowBytes + 1) + 1 + i * bps
      if (depth === 16) raw.writeUInt16BE(v, o)
      else raw[o] = v
    }
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = depth
  ihdr[9] = colorType
  const parts = [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr)]
  if (opts.palette) parts.push(chunk('PLTE', Buffer.from(opts.palette.flat())))
  if (opts.trns) parts.push(chunk('tRNS', Buffer.from(opts.trns)))
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)))
  return Buffer.concat(parts)
}

export const pngRgb = (rgb: Uint8Array, w: number, h: number): Buffer => encodePng({ width: w, height: h, colorType: 2, samples: rgb })

// ---- JPEG (baseline, DC only) ----------------------------------------------------------

class BitWriter {
  bytes: number[] = []
  private acc = 0
  private n = 0
  write(code: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((code >> i) & 1)
      if (++this.n === 8) this.push()
    }
  }
  private push(): void {
    this.bytes.push(this.acc)
    if (this.acc === 0xff) this.bytes.push(0) // byte stuffing
    this.acc = 0
    this.n = 0
  }
  flush(): void {
    while (this.n !== 0) this.write(1, 1)
  }
}

// Standard luminance DC table (ITU T.81 K.3) and a one-symbol AC table holding only EOB.
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
const AC_BITS = [0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
const AC_VALS = [0x00]

function huffCodes(bits: number[], vals: number[]): Map<number, { code: number; len: number }> {
  const out = new Map<number, { code: number; len: number }>()
  let code = 0
  let k = 0
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]!; i++) out.set(vals[k++]!, { code: code++, len })
    code <<= 1
  }
  return out
}

function segment(marker: number, data: number[]): number[] {
  const len = data.length + 2
  return [0xff, marker, len >> 8, len & 0xff, ...data]
}

/**
 * Baseline JPEG, no subsampling, quantisation 1, DC coefficients only (each 8x8 block decodes to
 * its mean). components: 1 grey, 3 YCbCr from RGB, 4 Adobe CMYK (stored inverted, as Photoshop
 * and Pillow write it). `planes` holds the component samples interleaved per pixel.
 */
export function encodeJpegDC(width: number, height: number, components: 1 | 3 | 4, planes: Uint8Array): Buffer {
  const out: number[] = [0xff, 0xd8]
  if (components === 4)
    out.push(...segment(0xee, [...Buffer.from('Adobe'), 0, 100, 0, 0, 0, 0, 0])) // transform 0: no colour transform
  else out.push(...segment(0xe0, [...Buffer.from('JFIF'), 0, 1, 1, 0, 0, 1, 0, 1, 0, 0]))
  out.push(...segment(0xdb, [0x00, ...new Array(64).fill(1)]))
  const ids = components === 4 ? [67, 77, 89, 75] : [1, 2, 3].slice(0, components)
  out.push(...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, components, ...ids.flatMap((id) => [id, 0x11, 0])]))
  out.push(...segment(0xc4, [0x00, ...DC_BITS, ...DC_VALS]), ...segment(0xc4, [0x10, ...AC_BITS, ...AC_VALS]))
  out.push(...segment(0xda, [components, ...ids.flatMap((id) => [id, 0x00]), 0, 63, 0]))
  const dc = huffCodes(DC_BITS, DC_VALS)
  const eob = huffCodes(AC_BITS, AC_VALS).get(0)!
  const bw = new BitWriter()
  const pred = new Array(components).fill(0)
  for (let by = 0; by < Math.ceil(height / 8); by++)
    for (let bx = 0; bx < Math.ceil(width / 8); bx++)
      for (let c = 0; c < components; c++) {
        let sum = 0
        for (let y = 0; y < 8; y++)
          for (let x = 0; x < 8; x++) {
            const px = Math.min(width - 1, bx * 8 + x)
            const py = Math.min(height - 1, by * 8 + y)
            sum += planes[(py * width + px) * components + c]!
          }
        const coef = Math.round(sum / 8 - 1024) // F(0,0) = 8 * (mean - 128)
        const diff = coef - pred[c]
        pred[c] = coef
        const mag = Math.abs(diff)
        const cat = mag === 0 ? 0 : Math.floor(Math.log2(mag)) + 1
        const h = dc.get(cat)!
        bw.write(h.code, h.len)
        if (cat > 0) bw.write(diff > 0 ? diff : diff + (1 << cat) - 1, cat)
        bw.write(eob.code, eob.len)
      }
  bw.flush()
  out.push(...bw.bytes, 0xff, 0xd9)
  return Buffer.from(out)
}

/** YCbCr (JFIF, full range) of RGB, for encodeJpegDC with 3 components. */
export function rgbToYcbcr(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length)
  for (let i = 0; i < rgb.length; i += 3) {
    const r = rgb[i]!,
      g = rgb[i + 1]!,
      b = rgb[i + 2]!
    out[i] = Math.round(0.299 * r + 0.587 * g + 0.114 * b)
    out[i + 1] = Math.max(0, Math.min(255, Math.round(128 - 0.168736 * r - 0.331264 * g + 0.5 * b)))
    out[i + 2] = Math.max(0, Math.min(255, Math.round(128 + 0.5 * r - 0.418688 * g - 0.081312 * b)))
  }
  return out
}

/** Insert an EXIF APP1 segment with orientation `o` (1..8) right after a JPEG's SOI marker. */
export function withExifOrientation(jpeg: Uint8Array, o: number): Buffer {
  // TIFF, big-endian: header, IFD0 with one entry (0x0112 SHORT 1 = o), no next IFD.
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0]
  const app1 = segment(0xe1, [...Buffer.from('Exif\0\0', 'binary'), ...tiff])
  return Buffer.concat([Buffer.from(jpeg.subarray(0, 2)), Buffer.from(app1), Buffer.from(jpeg.subarray(2))])
}

// ---- through the libraries' own encoders --------------------------------------------------

export function jpegRgb(rgb: Uint8Array, w: number, h: number, quality = 92): Buffer {
  return Transformer.fromRgbaPixels(rgba(rgb), w, h).jpegSync(quality)
}
export function webpRgb(rgb: Uint8Array, w: number, h: number): Buffer {
  return Transformer.fromRgbaPixels(rgba(rgb), w, h).webpLosslessSync()
}
export function bmpRgb(rgb: Uint8Array, w: number, h: number): Buffer {
  return Transformer.fromRgbaPixels(rgba(rgb), w, h).bmpSync()
}

/** GIF of an image with at most 256 distinct colours (exact round trip). */
export function gifRgb(rgb: Uint8Array, w: number, h: number): Buffer {
  const colours = new Map<number, number>()
  const indexed: number[] = []
  for (let i = 0; i < rgb.length; i += 3) {
    const key = (rgb[i]! << 16) | (rgb[i + 1]! << 8) | rgb[i + 2]!
    let k = colours.get(key)
    if (k === undefined) colours.set(key, (k = colours.size))
    indexed.push(k)
  }
  if (colours.size > 256) throw new Error('gifRgb: more than 256 colours')
  let size = 2
  while (size < colours.size) size *= 2
  const palette = [...colours.keys()]
  while (palette.length < size) palette.push(0)
  const buf = Buffer.alloc(w * h * 2 + 1024 + size * 3)
  const writer = new GifWriter(buf, w, h, { palette })
  writer.addFrame(0, 0, w, h, indexed)
  return buf.subarray(0, writer.end())
}

// ---- CIFAR-10 binary ----------------------------------------------------------------------

/** One CIFAR record: label byte, then 32x32 R, G and B planes. */
export function cifarRecord(label: number, rgb: Uint8Array): Buffer {
  const rec = Buffer.alloc(3073)
  rec[0] = label
  for (let p = 0; p < 1024; p++) {
    rec[1 + p] = rgb[p * 3]!
    rec[1 + 1024 + p] = rgb[p * 3 + 1]!
    rec[1 + 2048 + p] = rgb[p * 3 + 2]!
  }
  return rec
}

/**
 * A 35-byte GIF whose header claims a `w` x `h` screen and a first frame of `frame` (default the
 * same) but holds two bytes of image data: what a decompression bomb looks like to a decoder.
 */
export function gifHeaderOnly(w: number, h: number, frame: { width: number; height: number } = { width: w, height: h }): Buffer {
  const u16 = (n: number): number[] => [n & 0xff, n >> 8]
  return Buffer.from([
    ...Buffer.from('GIF89a', 'ascii'),
    ...u16(w),
    ...u16(h),
    0x80,
    0,
    0, // logical screen, global palette of 2 colours
    0,
    0,
    0,
    255,
    255,
    255,
    0x2c,
    ...u16(0),
    ...u16(0),
    ...u16(frame.width),
    ...u16(frame.height),
    0, // image descriptor
    2,
    2,
    0x4c,
    0x01,
    0, // LZW minimum code size, one 2-byte sub-block, terminator
    0x3b
  ])
}
