// Image decoding for the indexer: recognise the format from the bytes, decode with @napi-rs/image
// (Rust `image` crate; GIF through omggif because the prebuilt binding has no GIF decoder), bring
// every colour type to 8-bit RGB, and resize to the working size.
//
// Why @napi-rs/image: prebuilt binaries in optional platform packages (no install script), and
// the fastest Node decoder measured on this machine (issue 4: 1 000 small JPEGs in 0.5-0.8 s;
// sharp 2.9-3.3 s, jpeg-js 3.1 s); bench/data.ts compares it with Pillow. Its async calls run on
// libuv's thread pool, so one indexing worker keeps every core busy with a few decodes in flight.
//
// Resize policy (the reference's evaluation transform, torchvision Resize(S) + CenterCrop(S)):
// the shorter side scaled to S with an antialiased bilinear filter (the `image` crate's Triangle,
// as Pillow's BILINEAR), then the centre S x S. An image whose shorter side is already S is only
// cropped, so a dataset at its native size is cached bit-exact.
// EXIF orientation is applied (a photo shown upright is stored upright: rotation prediction needs
// that). Alpha is dropped, as Pillow's convert('RGB') does; 16-bit channels keep their high byte.
//
// Size limit: the dimensions are read from the header and checked against IMAGE_LIMITS before any
// decoder runs, for every format, so a header that claims a huge image costs nothing.
import { Transformer, ResizeFilterType, ResizeFit } from '@napi-rs/image'
import { GifReader } from 'omggif'
import type { ProblemKind } from '../../src-shared/contract/datasets'

export type ImageFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'bmp'
export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.jpe', '.png', '.webp', '.gif', '.bmp'])

/**
 * The largest image the indexer decodes: 64 megapixels (2^26 pixels, e.g. 8192x8192 or a
 * 12000x5000 panorama), and no side over 32768. A decoder allocates the whole frame before
 * anything is resized (4 bytes a pixel as RGBA, up to 8 for 16-bit PNG), several decodes run at
 * once, and a header can claim any size: a 35-byte GIF may say 65535x65535 (17 GB of RGBA). 64 MP
 * is 256 MiB of RGBA, above any camera photo and far above the largest working size (512).
 */
export const IMAGE_LIMITS = { maxPixels: 2 ** 26, maxSide: 32768 } as const

export function overLimits(width: number, height: number): boolean {
  return width > IMAGE_LIMITS.maxSide || height > IMAGE_LIMITS.maxSide || width * height > IMAGE_LIMITS.maxPixels
}

/** Reject dimensions that are empty or over IMAGE_LIMITS (a per-file problem, before any decoding). */
export function checkDimensions(width: number, height: number, format: ImageFormat): void {
  if (width < 1 || height < 1) throw new ImageProblem('corrupt', `the ${format.toUpperCase()} header says ${width}x${height}`)
  if (overLimits(width, height)) {
    throw new ImageProblem(
      'too-large',
      `image too large: ${width}×${height} (${((width * height) / 1e6).toFixed(1)} megapixels), the limit is ${IMAGE_LIMITS.maxPixels / 2 ** 20} megapixels (${IMAGE_LIMITS.maxPixels.toLocaleString('en-US')} pixels, e.g. 8192×8192) and ${IMAGE_LIMITS.maxSide} pixels a side: left out`
    )
  }
}

/** A file the indexer cannot use: the problem kind and a reason a person understands. */
export class ImageProblem extends Error {
  constructor(
    readonly kind: ProblemKind,
    reason: string
  ) {
    super(reason)
    this.name = 'ImageProblem'
  }
}

/** The format from the first bytes, or null. */
export function sniffFormat(b: Uint8Array): ImageFormat | null {
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg'
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a) return 'png'
  if (b.length >= 6 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38) return 'gif'
  if (b.length >= 12 && ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp'
  if (b.length >= 26 && b[0] === 0x42 && b[1] === 0x4d) return 'bmp'
  return null
}

function ascii(b: Uint8Array, start: number, len: number): string {
  return String.fromCharCode(...b.subarray(start, start + len))
}

/** What a non-image file starts with, for the problem's reason. */
function describeStart(b: Uint8Array): string {
  const head = b.subarray(0, 8)
  const printable = [...head].every((c) => c >= 0x20 && c < 0x7f)
  if (printable && head.length > 0) return `starts with the text "${ascii(head, 0, head.length)}"`
  return `starts with bytes ${[...head].map((c) => c.toString(16).padStart(2, '0')).join(' ')}`
}

/**
 * A JPEG whose entropy-coded data has no end marker was cut short. The decoder fills the rest with
 * grey without complaint, so check it here: after the last start-of-scan marker (FF DA; inside
 * entropy-coded data an FF is always followed by 00 or a restart marker) an end marker (FF D9) must follow.
 */
function jpegIsTruncated(b: Uint8Array): boolean {
  // The common case, in O(1): the file ends with the end marker (FF D9 never occurs inside
  // entropy-coded data, so a cut-short file cannot end with it by chance).
  if (b.length >= 4 && b[b.length - 2] === 0xff && b[b.length - 1] === 0xd9) return false
  let lastSos = -1
  for (let i = b.length - 2; i >= 2; i--) {
    if (b[i] === 0xff && b[i + 1] === 0xda) {
      lastSos = i
      break
    }
  }
  if (lastSos < 0) return true
  for (let i = b.length - 2; i > lastSos; i--) if (b[i] === 0xff && b[i + 1] === 0xd9) return false
  return true
}

export interface Decoded {
  /** RGB at the requested size, or null when only validating. */
  rgb: Uint8Array | null
  width: number
  height: number
}

function classifyDecoderError(err: unknown, format: ImageFormat): ImageProblem {
  const msg = (err as Error)?.message ?? String(err)
  if (/end of file|fill whole buffer|unexpected eof|truncat|too short|insufficient|not enough data/i.test(msg)) {
    return new ImageProblem('truncated', `the ${format.toUpperCase()} data ends early (${msg.trim()})`)
  }
  return new ImageProblem('corrupt', `the ${format.toUpperCase()} decoder failed: ${msg.trim()}`)
}

export interface Header {
  width: number
  height: number
  /** 16-bit samples (PNG only). */
  deep: boolean
  /** EXIF orientation 1..8 (JPEG), 1 when absent. */
  orientation: number
}

/**
 * Dimensions (and what decoding needs to know) from the file header, without decoding: the
 * decoder's own metadata call decodes the whole image, which would double the cost of indexing.
 * Returns null when the header is cut short or malformed.
 */
export function readHeader(b: Uint8Array, format: ImageFormat): Header | null {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  try {
    switch (format) {
      case 'gif':
        // The logical screen; the first frame's own size is checked before it is decoded.
        return { width: dv.getUint16(6, true), height: dv.getUint16(8, true), deep: false, orientation: 1 }
      case 'png':
        if (ascii(b, 12, 4) !== 'IHDR') return null
        return { width: dv.getUint32(16), height: dv.getUint32(20), deep: b[24] === 16, orientation: 1 }
      case 'bmp':
        // OS/2 1.x (BITMAPCOREHEADER, 12 bytes) has 16-bit sizes; every later header 32-bit ones.
        if (dv.getUint32(14, true) === 12) return { width: dv.getUint16(18, true), height: dv.getUint16(20, true), deep: false, orientation: 1 }
        return { width: Math.abs(dv.getInt32(18, true)), height: Math.abs(dv.getInt32(22, true)), deep: false, orientation: 1 }
      case 'webp': {
        const chunk = ascii(b, 12, 4)
        if (chunk === 'VP8 ') return { width: dv.getUint16(26, true) & 0x3fff, height: dv.getUint16(28, true) & 0x3fff, deep: false, orientation: 1 }
        if (chunk === 'VP8L') {
          const bits = dv.getUint32(21, true)
          return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1, deep: false, orientation: 1 }
        }
        if (chunk === 'VP8X')
          return { width: (dv.getUint32(24, true) & 0xffffff) + 1, height: (dv.getUint32(27, true) & 0xffffff) + 1, deep: false, orientation: 1 }
        return null
      }
      case 'jpeg':
        return jpegHeader(b, dv)
    }
  } catch {
    return null // RangeError: the header is cut short
  }
}

function jpegHeader(b: Uint8Array, dv: DataView): Header | null {
  let orientation = 1
  let i = 2
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) return null
    const m = b[i + 1]!
    if (m === 0xff) {
      i++ // fill byte
      continue
    }
    if (m === 0xd8 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) {
      i += 2
      continue
    }
    const len = dv.getUint16(i + 2)
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC): frame header with the size.
    if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      return { height: dv.getUint16(i + 5), width: dv.getUint16(i + 7), deep: false, orientation }
    }
    if (m === 0xe1 && ascii(b, i + 4, 4) === 'Exif') orientation = exifOrientation(dv, i + 10, i + 2 + len) ?? 1
    if (m === 0xda || m === 0xd9) return null // scan data before any frame header
    i += 2 + len
  }
  return null
}

/** Tag 0x0112 of IFD0 in the TIFF structure at `start` (EXIF), or null. */
function exifOrientation(dv: DataView, start: number, end: number): number | null {
  const little = dv.getUint16(start) === 0x4949
  const ifd = start + dv.getUint32(start + 4, little)
  if (ifd + 2 > end) return null
  const n = dv.getUint16(ifd, little)
  for (let k = 0; k < n; k++) {
    const e = ifd + 2 + k * 12
    if (e + 12 > end) return null
    if (dv.getUint16(e, little) === 0x0112) {
      const v = dv.getUint16(e + 8, little)
      return v >= 1 && v <= 8 ? v : null
    }
  }
  return null
}

/** Raw decoder pixels of any supported layout -> packed 8-bit RGB. */
export function toRgb(raw: Uint8Array, pixels: number, channels: number, bytes: number): Uint8Array {
  const out = new Uint8Array(pixels * 3)
  if (channels === 3 && bytes === 1) {
    out.set(raw.subarray(0, pixels * 3))
    return out
  }
  // 16-bit samples are little-endian: the high byte is the second one.
  const hi = bytes === 2 ? 1 : 0
  const step = channels * bytes
  for (let p = 0, s = hi, d = 0; p < pixels; p++, s += step, d += 3) {
    if (channels <= 2) {
      const v = raw[s]!
      out[d] = v
      out[d + 1] = v
      out[d + 2] = v
    } else {
      out[d] = raw[s]!
      out[d + 1] = raw[s + bytes]!
      out[d + 2] = raw[s + 2 * bytes]!
    }
  }
  return out
}

/** The sample layout of decoded pixels from their byte count (16-bit only comes from PNGs whose header says so). */
function layoutOf(perPixel: number, deep: boolean): { channels: number; bytes: number } | null {
  if (deep)
    return perPixel === 2
      ? { channels: 1, bytes: 2 }
      : perPixel === 4
        ? { channels: 2, bytes: 2 }
        : perPixel === 6
          ? { channels: 3, bytes: 2 }
          : perPixel === 8
            ? { channels: 4, bytes: 2 }
            : null
  return perPixel >= 1 && perPixel <= 4 && Number.isInteger(perPixel) ? { channels: perPixel, bytes: 1 } : null
}

/**
 * Run omggif's decoder without its console.log: it prints warnings about the data stream ("gif
 * stream shorter than expected") to stdout, which would corrupt `inspect --json`. The call is
 * synchronous, so nothing else can log on this thread meanwhile. Returns what it tried to print.
 */
function quietly(fn: () => void): string[] {
  const said: string[] = []
  const log = console.log
  console.log = (...args: unknown[]) => void said.push(args.map(String).join(' '))
  try {
    fn()
  } finally {
    console.log = log
  }
  return said
}

/** GIF: the first frame, composed onto black where transparent (Pillow shows the palette colour; close enough). */
function gifToRgba(b: Uint8Array, width: number, height: number): Uint8Array {
  let reader: GifReader
  try {
    reader = new GifReader(b)
  } catch (err) {
    throw classifyDecoderError(err, 'gif')
  }
  if (reader.numFrames() < 1) throw new ImageProblem('truncated', 'the GIF has no complete frame')
  // The decoder allocates the frame's own size too, which the header check has not seen.
  const frame = reader.frameInfo(0)
  checkDimensions(frame.width, frame.height, 'gif')
  const rgba = new Uint8Array(width * height * 4)
  let said: string[]
  try {
    said = quietly(() => reader.decodeAndBlitFrameRGBA(0, rgba))
  } catch (err) {
    throw classifyDecoderError(err, 'gif')
  }
  // As with a JPEG cut short, the decoder would leave the rest of the frame blank without failing.
  if (said.some((m) => /shorter than expected/.test(m)))
    throw new ImageProblem('truncated', `the GIF image data ends before its ${frame.width}x${frame.height} frame is complete`)
  return rgba
}

/**
 * Decode `bytes` and return RGB of `size` x `size` (policy in the header), or, with size null,
 * only check that it decodes and report its dimensions. Throws ImageProblem for a file that is not
 * a usable image; anything else thrown is a bug. One decode per image: dimensions come from the
 * file header, the sample layout from the decoded byte count.
 */
export async function decodeImage(bytes: Uint8Array, size: number | null): Promise<Decoded> {
  if (bytes.length === 0) throw new ImageProblem('empty-file', 'the file is empty (0 bytes)')
  const format = sniffFormat(bytes)
  if (!format) throw new ImageProblem('not-an-image', `not a JPEG, PNG, WebP, GIF or BMP image: it ${describeStart(bytes)}`)
  if (format === 'jpeg' && jpegIsTruncated(bytes)) throw new ImageProblem('truncated', 'the JPEG ends before its end-of-image marker (the file was cut short)')

  // Dimensions from the header, checked before any decoder allocates the frame.
  const h = readHeader(bytes, format)
  if (!h)
    throw new ImageProblem(
      bytes.length < 64 ? 'truncated' : 'corrupt',
      `the ${format.toUpperCase()} header is ${bytes.length < 64 ? 'cut short' : 'malformed'}`
    )
  let { width, height } = h
  checkDimensions(width, height, format)
  let t: Transformer
  if (format === 'gif') {
    const rgba = gifToRgba(bytes, width, height)
    if (size === null) return { rgb: null, width, height }
    t = Transformer.fromRgbaPixels(rgba, width, height)
  } else {
    t = new Transformer(bytes)
    if (h.orientation !== 1) {
      t = t.rotate()
      // Orientations 5..8 turn the image a quarter: width and height swap.
      if (h.orientation >= 5) [width, height] = [height, width]
    }
  }
  if (size !== null && !(width === size && height === size)) {
    // Shorter side already the working size: crop the centre only (bit-exact). Otherwise the
    // image crate's cover fit: shorter side scaled (Triangle = antialiased bilinear, as Pillow's
    // BILINEAR), centre cropped. (Not fastResize: measured no faster here, its cover crop is not
    // centred, it does not chain after crop, and it always returns RGBA.)
    if (Math.min(width, height) === size) t = t.crop((width - size) >> 1, (height - size) >> 1, size, size)
    else t = t.resize({ width: size, height: size, filter: ResizeFilterType.Triangle, fit: ResizeFit.Cover })
  }
  let raw: Buffer
  try {
    raw = await t.rawPixels()
  } catch (err) {
    throw classifyDecoderError(err, format)
  }
  const outW = size ?? width
  const outH = size ?? height
  const layout = layoutOf(raw.length / (outW * outH), h.deep)
  if (!layout)
    throw new ImageProblem(
      'corrupt',
      `the ${format.toUpperCase()} decoder returned ${raw.length} bytes for ${outW}x${outH} pixels (the header and the image data disagree)`
    )
  if (size === null) return { rgb: null, width, height }
  return { rgb: toRgb(raw, outW * outH, layout.channels, layout.bytes), width, height }
}

function squareRgba(rgb: Uint8Array, n: number): Uint8Array {
  const rgba = new Uint8Array(n * 4)
  for (let p = 0; p < n; p++) {
    rgba[p * 4] = rgb[p * 3]!
    rgba[p * 4 + 1] = rgb[p * 3 + 1]!
    rgba[p * 4 + 2] = rgb[p * 3 + 2]!
    rgba[p * 4 + 3] = 255
  }
  return rgba
}

/** Resize a square of packed RGB (a CIFAR record) to `size` x `size`, same filter. */
export async function resizeRgb(rgb: Uint8Array, side: number, size: number): Promise<Uint8Array> {
  if (side === size) return rgb
  const raw = await Transformer.fromRgbaPixels(squareRgba(rgb, side * side), side, side)
    .resize({ width: size, height: size, filter: ResizeFilterType.Triangle, fit: ResizeFit.Fill })
    .rawPixels()
  return toRgb(raw, size * size, raw.length / (size * size), 1)
}

/** Encode packed RGB as a PNG data URL (thumbnails), downscaled to `thumb` when smaller. */
export function rgbToPngDataUrl(rgb: Uint8Array, size: number, thumb: number = size): string {
  let t = Transformer.fromRgbaPixels(squareRgba(rgb, size * size), size, size)
  if (thumb < size) t = t.resize({ width: thumb, height: thumb, filter: ResizeFilterType.Triangle, fit: ResizeFit.Fill })
  return 'data:image/png;base64,' + t.pngSync().toString('base64')
}
