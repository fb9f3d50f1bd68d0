// Minimal PNG encoder for 8-bit RGB thumbnails sent to the renderer as data URLs. Written by
// hand because it is ~30 lines over node:zlib, and it keeps the preview path free of native
// modules (it runs in the host for thumbnails and in the analysis worker for previews).
import { deflateSync } from 'node:zlib'

const CRC_TABLE = (() => {
  const t = new Uint32Array(256)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    t[n] = c >>> 0
  }
  return t
})()

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff
  for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length)
  out.writeUInt32BE(data.length, 0)
  out.write(type, 4, 'ascii')
  Buffer.from(data).copy(out, 8)
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length)
  return out
}

/** PNG bytes of an RGB image (row-major, 3 bytes per pixel). */
export function encodePngRgb(rgb: Uint8Array, width: number, height: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (width * 3 + 1)] = 0 // filter: none
    Buffer.from(rgb.buffer, rgb.byteOffset + y * width * 3, width * 3).copy(raw, y * (width * 3 + 1) + 1)
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 2 // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0))
  ])
}

export function pngDataUrl(rgb: Uint8Array, width: number, height: number): string {
  return `data:image/png;base64,${encodePngRgb(rgb, width, height).toString('base64')}`
}

/** Counter-clockwise quarter turns of a square RGB image (np.rot90 semantics, as the network's views). */
export function rotateRgb(rgb: Uint8Array, size: number, k: number): Uint8Array {
  const out = new Uint8Array(rgb.length)
  for (let i = 0; i < size; i++)
    for (let j = 0; j < size; j++) {
      // out[i][j] = in[src]
      const [si, sj] = k === 1 ? [j, size - 1 - i] : k === 2 ? [size - 1 - i, size - 1 - j] : k === 3 ? [size - 1 - j, i] : [i, j]
      const o = (i * size + j) * 3
      const s = (si * size + sj) * 3
      out[o] = rgb[s]!
      out[o + 1] = rgb[s + 1]!
      out[o + 2] = rgb[s + 2]!
    }
  return out
}
