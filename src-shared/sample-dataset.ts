// The built-in sample dataset: ten classes of procedurally drawn objects, each with a clear
// upright shape (a roof, a crown on a trunk, a tip, a head, a flame), varied in colour, size,
// position, a slight tilt and the background. Deterministic for a seed, so it needs no download
// and its licence is the project's own.
//
// Only the object tells which way is up. The background is drawn so that its distribution is the
// same under a quarter turn: plain, blotchy or striped at any angle, with scattered round and
// square specks, no horizon, no sky gradient, no sun. The object stays clear of the borders and is
// placed anywhere in the middle, not low in the frame. An earlier version had a ground band along
// the bottom edge: a network solved rotation from it within a few steps and learnt nothing about
// shape, so pretraining barely beat random weights. test/unit/shared/sample-dataset.test.ts holds this.
import { Rng } from './rng'
import type { ImageSet } from './image-set'

export const SAMPLE_CLASSES = ['house', 'tree', 'arrow', 'tee', 'mushroom', 'person', 'lamp', 'rocket', 'goblet', 'flag'] as const

/**
 * Which drawing the images come from. A registered sample drawn by an older version is drawn
 * again when this changes (src-host/datasets/sample.ts).
 */
export const SAMPLE_DRAWING = 2

/**
 * The sample is one dataset, registered in the workspace under this id (datasets.addSample) and
 * drawn the first time a run names it: presets and the run form train on it. A run config's
 * older `dataset: { kind: 'sample' }` draws the same images in memory (same classes, same seeds),
 * so both notions of "the sample" are the same pictures.
 */
export const SAMPLE_ID = 'sample'

/** How the sample is drawn unless asked otherwise: 200 training and 50 test images per class, seed 1. */
export const SAMPLE_DEFAULTS = { perClass: 200, testPerClass: 50, seed: 1 } as const

/** The test split's seed: different objects from the same distribution, a held-out set. */
export const sampleTestSeed = (seed: number): number => seed + 7919

type RGB = [number, number, number]

/** An object's own coordinates (u right, v down, the upright object inside [-0.5, 0.5]²) placed in the image. */
interface Frame {
  cx: number
  cy: number
  scale: number
  cos: number
  sin: number
}

class Canvas {
  readonly px: Float32Array
  constructor(readonly s: number) {
    this.px = new Float32Array(s * s * 3)
  }

  set(i: number, j: number, c: RGB): void {
    const o = (j * this.s + i) * 3
    this.px[o] = c[0]
    this.px[o + 1] = c[1]
    this.px[o + 2] = c[2]
  }

  /** Paint every pixel whose centre, taken into the frame's coordinates, passes `inside`; (u0, v0)-(u1, v1) bounds the shape there. */
  fill(f: Frame, inside: (u: number, v: number) => boolean, c: RGB, u0: number, v0: number, u1: number, v1: number): void {
    const s = this.s
    let xa = Infinity,
      xb = -Infinity,
      ya = Infinity,
      yb = -Infinity
    for (const [u, v] of [
      [u0, v0],
      [u1, v0],
      [u0, v1],
      [u1, v1]
    ] as const) {
      const x = f.cx + f.scale * (u * f.cos - v * f.sin)
      const y = f.cy + f.scale * (u * f.sin + v * f.cos)
      xa = Math.min(xa, x)
      xb = Math.max(xb, x)
      ya = Math.min(ya, y)
      yb = Math.max(yb, y)
    }
    const ia = Math.max(0, Math.floor(xa * s)),
      ib = Math.min(s, Math.ceil(xb * s))
    const ja = Math.max(0, Math.floor(ya * s)),
      jb = Math.min(s, Math.ceil(yb * s))
    for (let j = ja; j < jb; j++)
      for (let i = ia; i < ib; i++) {
        const dx = (i + 0.5) / s - f.cx
        const dy = (j + 0.5) / s - f.cy
        if (inside((dx * f.cos + dy * f.sin) / f.scale, (-dx * f.sin + dy * f.cos) / f.scale)) this.set(i, j, c)
      }
  }
  rect(f: Frame, u: number, v: number, w: number, h: number, c: RGB): void {
    this.fill(f, () => true, c, u, v, u + w, v + h)
  }
  circle(f: Frame, cu: number, cv: number, r: number, c: RGB, upperHalfOnly = false): void {
    this.fill(f, (u, v) => (u - cu) ** 2 + (v - cv) ** 2 <= r * r && (!upperHalfOnly || v <= cv), c, cu - r, cv - r, cu + r, cv + r)
  }
  /** Triangle with apex (au, av) and a base parallel to u from (bu0, bv) to (bu1, bv). */
  triangle(f: Frame, au: number, av: number, bu0: number, bu1: number, bv: number, c: RGB): void {
    this.fill(
      f,
      (u, v) => {
        if (v < Math.min(av, bv) || v > Math.max(av, bv)) return false
        const t = (v - av) / (bv - av)
        const l = au + (bu0 - au) * t
        const r = au + (bu1 - au) * t
        return u >= Math.min(l, r) && u <= Math.max(l, r)
      },
      c,
      Math.min(bu0, au),
      Math.min(av, bv),
      Math.max(bu1, au),
      Math.max(av, bv)
    )
  }
}

/** A colour whose mean lies in [lo, hi]: backgrounds take one luminance band, objects the other, so an object never melts into its background. */
function colour(rng: Rng, lo: number, hi: number): RGB {
  const mean = lo + rng.uniform() * (hi - lo)
  const spread = Math.min(mean, 255 - mean, 70)
  const c = [0, 0, 0].map(() => (rng.uniform() * 2 - 1) * spread) as RGB
  const shift = (c[0] + c[1] + c[2]) / 3
  return [mean + c[0] - shift, mean + c[1] - shift, mean + c[2] - shift]
}

const DARK: [number, number] = [25, 95]
const LIGHT: [number, number] = [160, 235]

/**
 * Every choice here has the same distribution after a quarter turn: stripes at a uniform angle,
 * blotches on a grid symmetric about the centre, specks that are round or axis-aligned squares,
 * placed uniformly, and grain per pixel.
 */
function background(cv: Canvas, rng: Rng, band: [number, number]): void {
  const s = cv.s
  const c1 = colour(rng, band[0], band[1])
  const c2 = colour(rng, band[0], band[1])
  const style = rng.int(3)
  const grain = 4 + rng.uniform() * 14
  const angle = rng.uniform() * Math.PI
  const freq = 2 + rng.uniform() * 5
  const phase = rng.uniform() * 2 * Math.PI
  const g = 3 + rng.int(4)
  const grid = Float32Array.from({ length: g * g }, () => rng.uniform())
  const smooth = (t: number): number => t * t * (3 - 2 * t)
  for (let j = 0; j < s; j++)
    for (let i = 0; i < s; i++) {
      const x = (i + 0.5) / s
      const y = (j + 0.5) / s
      let t = 0
      if (style === 1) t = 0.5 + 0.5 * Math.sin(2 * Math.PI * freq * (x * Math.cos(angle) + y * Math.sin(angle)) + phase)
      else if (style === 2) {
        const gx = x * (g - 1),
          gy = y * (g - 1)
        const ix = Math.min(g - 2, Math.floor(gx)),
          iy = Math.min(g - 2, Math.floor(gy))
        const fx = smooth(gx - ix),
          fy = smooth(gy - iy)
        const at = (a: number, b: number): number => grid[b * g + a]!
        t = (at(ix, iy) * (1 - fx) + at(ix + 1, iy) * fx) * (1 - fy) + (at(ix, iy + 1) * (1 - fx) + at(ix + 1, iy + 1) * fx) * fy
      }
      const o = (j * s + i) * 3
      for (let k = 0; k < 3; k++) cv.px[o + k] = c1[k]! * (1 - t) + c2[k]! * t + (rng.uniform() - 0.5) * grain
    }
  const whole: Frame = { cx: 0, cy: 0, scale: 1, cos: 1, sin: 0 }
  const specks = rng.int(5)
  for (let n = 0; n < specks; n++) {
    const x = rng.uniform(),
      y = rng.uniform(),
      r = 0.02 + rng.uniform() * 0.04
    const c = colour(rng, band[0], band[1])
    if (rng.uniform() < 0.5) cv.circle(whole, x, y, r, c)
    else cv.rect(whole, x - r, y - r, 2 * r, 2 * r, c)
  }
}

/** The object of class `cls`, upright in its own frame: top at v = -0.5, bottom at v = 0.5, centred on u = 0. */
function drawObject(cv: Canvas, f: Frame, cls: number, rng: Rng, band: [number, number]): void {
  const w = 0.55 + rng.uniform() * 0.2
  const a = colour(rng, band[0], band[1])
  let b = colour(rng, band[0], band[1])
  // Two parts in nearly the same colour would read as one blob: push the second away.
  if (Math.abs(a[0] - b[0]) + Math.abs(a[1] - b[1]) + Math.abs(a[2] - b[2]) < 60) b = a.map((x) => (x > 127 ? x - 50 : x + 50)) as RGB
  switch (cls) {
    case 0: // house: walls under a roof, a door at the bottom
      cv.rect(f, -w / 2, -0.05, w, 0.55, a)
      cv.triangle(f, 0, -0.5, -w * 0.65, w * 0.65, -0.05, b)
      cv.rect(f, -w * 0.12, 0.22, w * 0.24, 0.28, b)
      break
    case 1: // tree: a round crown on a trunk
      cv.rect(f, -w * 0.1, 0.05, w * 0.2, 0.45, b)
      cv.circle(f, 0, -0.2, 0.3, a)
      break
    case 2: // arrow pointing up
      cv.triangle(f, 0, -0.5, -w / 2, w / 2, -0.05, a)
      cv.rect(f, -w * 0.15, -0.06, w * 0.3, 0.56, a)
      break
    case 3: // the letter T
      cv.rect(f, -w / 2, -0.5, w, 0.2, a)
      cv.rect(f, -w * 0.12, -0.5, w * 0.24, 1, a)
      break
    case 4: // mushroom: a cap on a stalk
      cv.rect(f, -w * 0.13, -0.05, w * 0.26, 0.55, b)
      cv.circle(f, 0, 0, w * 0.62, a, true)
      cv.circle(f, -w * 0.22, -w * 0.3, 0.06, b)
      break
    case 5: // person: head above body above legs
      cv.circle(f, 0, -0.38, 0.12, b)
      cv.rect(f, -w * 0.25, -0.24, w * 0.5, 0.4, a)
      cv.rect(f, -w * 0.22, 0.16, w * 0.16, 0.34, b)
      cv.rect(f, w * 0.06, 0.16, w * 0.16, 0.34, b)
      break
    case 6: // lamp post: a light on a pole on a foot
      cv.rect(f, -0.04, -0.35, 0.08, 0.85, b)
      cv.rect(f, -w * 0.3, 0.42, w * 0.6, 0.08, b)
      cv.circle(f, 0, -0.38, 0.12, a)
      break
    case 7: // rocket: nose cone up, fins down
      cv.rect(f, -w * 0.18, -0.2, w * 0.36, 0.6, a)
      cv.triangle(f, 0, -0.5, -w * 0.18, w * 0.18, -0.2, b)
      cv.triangle(f, -w * 0.18, 0.15, -w * 0.45, -w * 0.18, 0.5, b)
      cv.triangle(f, w * 0.18, 0.15, w * 0.18, w * 0.45, 0.5, b)
      break
    case 8: // goblet: a wide bowl on a thin stem on a foot
      cv.triangle(f, 0, 0.05, -w / 2, w / 2, -0.5, a)
      cv.rect(f, -0.04, 0, 0.08, 0.42, a)
      cv.rect(f, -w * 0.3, 0.42, w * 0.6, 0.08, a)
      break
    case 9: // flag flying from the top of a pole
      cv.rect(f, -w * 0.4, -0.5, 0.06, 1, b)
      cv.rect(f, -w * 0.4 + 0.06, -0.5, w * 0.8, 0.35, a)
      cv.rect(f, -w * 0.4 + 0.06, -0.38, w * 0.8, 0.1, b)
      break
  }
}

const MAX_TILT = (12 * Math.PI) / 180
/** Kept clear of the borders, in image units, so no part of the object touches an edge. */
const MARGIN = 0.05

/** Draw one image of class `cls` at `size` pixels into `out` (uint8 RGB). */
export function drawSample(cls: number, size: number, rng: Rng, out: Uint8Array, offset = 0): void {
  const cv = new Canvas(size)
  const darkBackground = rng.uniform() < 0.5
  background(cv, rng, darkBackground ? DARK : LIGHT)
  const scale = 0.45 + rng.uniform() * 0.2
  const tilt = (rng.uniform() * 2 - 1) * MAX_TILT
  // Half the side of the square that holds the tilted object: the centre keeps this far from an edge.
  const reach = (scale * (Math.abs(Math.cos(tilt)) + Math.abs(Math.sin(tilt)))) / 2 + MARGIN
  const place = (): number => reach + rng.uniform() * Math.max(0, 1 - 2 * reach)
  const f: Frame = { cx: place(), cy: place(), scale, cos: Math.cos(tilt), sin: Math.sin(tilt) }
  drawObject(cv, f, cls, rng, darkBackground ? LIGHT : DARK)
  for (let i = 0; i < cv.px.length; i++) out[offset + i] = Math.max(0, Math.min(255, Math.round(cv.px[i]!)))
}

/** `perClass` images of each of the ten classes, interleaved by class, deterministic per seed. */
export function generateSampleDataset(opts: { perClass: number; size?: number; seed?: number }): ImageSet {
  const size = opts.size ?? 64
  const n = opts.perClass * SAMPLE_CLASSES.length
  const images = new Uint8Array(n * size * size * 3)
  const labels = new Int32Array(n)
  const rng = new Rng(opts.seed ?? 1)
  for (let i = 0; i < n; i++) {
    const cls = i % SAMPLE_CLASSES.length
    labels[i] = cls
    drawSample(cls, size, rng, images, i * size * size * 3)
  }
  return { images, labels, n, size, classNames: [...SAMPLE_CLASSES] }
}
