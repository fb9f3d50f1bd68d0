// Rasterising a map's points straight into RGBA pixels: each point is an antialiased disc
// (a coverage mask computed once per radius) blended over the opaque background and the points
// already there. A canvas path of
// 20 000 discs costs the browser tens of milliseconds to rasterise on the CPU at every redraw;
// writing the pixels here and handing the canvas one bitmap costs a few, so zooming and panning a
// large map keeps to the frame rate. Pure: no DOM, so it is tested like the rest of the maths.
import type { View } from './map-view'

interface Mask {
  /** Half-width: the mask covers offsets -h..h on both axes. */
  h: number
  /** Coverage 0..1 of each pixel, row-major, (2h + 1)² values. */
  cov: Float32Array
  /** The covered pixels only: their offsets and coverage (what the blend loop walks). */
  dx: Int32Array
  dy: Int32Array
  weight: Float32Array
}

const masks = new Map<number, Mask>()

/** The coverage of a disc of radius `r` pixels centred on a pixel centre (4×4 samples a pixel). */
export function discMask(r: number): Mask {
  const key = Math.max(0.5, Math.round(r * 4) / 4)
  const hit = masks.get(key)
  if (hit) return hit
  const h = Math.ceil(key)
  const side = 2 * h + 1
  const cov = new Float32Array(side * side)
  const r2 = key * key
  const dx: number[] = []
  const dy: number[] = []
  const weight: number[] = []
  for (let y = -h; y <= h; y++) {
    for (let x = -h; x <= h; x++) {
      let inside = 0
      for (let sy = 0; sy < 4; sy++) {
        for (let sx = 0; sx < 4; sx++) {
          const ex = x - 0.375 + sx * 0.25
          const ey = y - 0.375 + sy * 0.25
          if (ex * ex + ey * ey <= r2) inside++
        }
      }
      cov[(y + h) * side + (x + h)] = inside / 16
      if (inside) {
        dx.push(x)
        dy.push(y)
        weight.push(inside / 16)
      }
    }
  }
  const m = { h, cov, dx: Int32Array.from(dx), dy: Int32Array.from(dy), weight: Float32Array.from(weight) }
  masks.set(key, m)
  return m
}

/** "#2f5bd3" or "rgb(47, 91, 211)" (a computed CSS colour) → [47, 91, 211]; grey if neither. */
export function rgbOf(colour: string): [number, number, number] {
  if (/^#[0-9a-f]{6}$/i.test(colour)) {
    const v = parseInt(colour.slice(1), 16)
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255]
  }
  const m = /^rgba?\(\s*(\d+)[\s,]+(\d+)[\s,]+(\d+)/.exec(colour)
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [128, 128, 128]
}

export interface RasterLayer {
  /** Point indices to draw, in order. */
  points: ArrayLike<number>
  colour: string
  alpha: number
}

/**
 * Paint `rgba` (`width`×`height` device pixels, `dpr` device pixels per CSS pixel) with the
 * opaque `background`, then blend discs of radius `r` CSS pixels over it, layer after layer
 * (later layers land on top). Over an opaque image blending needs no division: each covered
 * pixel moves towards the point's colour by its coverage times the layer's alpha. Returns how
 * many points were drawn (the others were off the image).
 */
export function rasterPoints(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  dpr: number,
  xy: ArrayLike<number>,
  view: View,
  r: number,
  layers: RasterLayer[],
  background: string
): number {
  // One 32-bit word per pixel, bytes R, G, B, A in memory order (every machine Electron and
  // Chromium run on is little-endian): a blend is one read and one write.
  const words = new Uint32Array(rgba.buffer, rgba.byteOffset, width * height)
  const [br, bg, bb] = rgbOf(background)
  words.fill(((255 << 24) | (bb << 16) | (bg << 8) | br) >>> 0)
  const mask = discMask(r * dpr)
  const { h, dx, dy } = mask
  const count = dx.length
  const offset = Int32Array.from({ length: count }, (_, j) => dy[j]! * width + dx[j]!)
  const a256 = new Int32Array(count)
  const k = view.scale * dpr
  const ox = view.tx * dpr
  const oy = view.ty * dpr
  let drawn = 0
  for (const layer of layers) {
    const [cr, cg, cb] = rgbOf(layer.colour)
    // Coverage times the layer's alpha, in 256ths: the blend is integer arithmetic.
    for (let j = 0; j < count; j++) a256[j] = Math.round(mask.weight[j]! * layer.alpha * 256)
    const idx = layer.points
    for (let n = 0; n < idx.length; n++) {
      const i = idx[n]!
      const fx = xy[2 * i]! * k + ox
      const fy = xy[2 * i + 1]! * k + oy
      // Off the image (or not a number): nothing to blend.
      if (!(fx >= -h - 0.5 && fx < width + h - 0.5 && fy >= -h - 0.5 && fy < height + h - 0.5)) continue
      // The nearest pixel, as an integer (Math.round's -0 would cost the compiled loop a bailout).
      const px = Math.floor(fx + 0.5) | 0
      const py = Math.floor(fy + 0.5) | 0
      drawn++
      const inside = px >= h && px < width - h && py >= h && py < height - h
      const base = py * width + px
      for (let j = 0; j < count; j++) {
        if (!inside) {
          const x = px + dx[j]!
          const y = py + dy[j]!
          if (x < 0 || x >= width || y < 0 || y >= height) continue
        }
        const q = base + offset[j]!
        const w = words[q]!
        const a = a256[j]!
        const r0 = w & 255
        const g0 = (w >>> 8) & 255
        const b0 = (w >>> 16) & 255
        words[q] = ((255 << 24) | ((b0 + (((cb - b0) * a) >> 8)) << 16) | ((g0 + (((cg - g0) * a) >> 8)) << 8) | (r0 + (((cr - r0) * a) >> 8))) >>> 0
      }
    }
  }
  return drawn
}

/**
 * Run every branch of rasterPoints once on a tiny image (inside, clipped at an edge, off the
 * image, not a number; two layers). The engine compiles a hot loop with the type feedback it
 * has: a branch first taken mid-zoom (the first point clipped at an edge) would throw the
 * compiled code away and stall a frame or two. Costs well under a millisecond.
 */
export function warmUpRaster(): void {
  const w = 12
  const rgba = new Uint8ClampedArray(w * w * 4)
  const xy = Float64Array.from([6, 6, 0, 5, 11.6, 11, -40, 3, Number.NaN, 2, 3, 3])
  const points = Int32Array.from([0, 1, 2, 3, 4, 5])
  for (let k = 0; k < 3; k++) {
    rasterPoints(
      rgba,
      w,
      w,
      1,
      xy,
      { scale: 1, tx: 0, ty: 0 },
      2,
      [
        { points, colour: '#2f5bd3', alpha: 0.13 },
        { points, colour: 'rgb(1, 2, 3)', alpha: 0.9 }
      ],
      'rgb(247, 247, 245)'
    )
  }
}
