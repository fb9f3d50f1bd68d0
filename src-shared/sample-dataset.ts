// The built-in sample dataset: ten classes of procedurally drawn objects with a clear upright
// orientation (roofs, crowns, heads and tips point up; sky above, ground below), varied in
// colour, size, position and background texture. Deterministic for a seed, so it needs no
// download and its licence is the project's own. Rotation prediction is learnable on it, and the
// classes are separable, so every method and evaluation can be tried in minutes.
import { Rng } from './rng'
import type { ImageSet } from './image-set'

export const SAMPLE_CLASSES = ['house', 'tree', 'arrow', 'tee', 'mushroom', 'person', 'lamp', 'rocket', 'goblet', 'flag'] as const


type RGB = [number, number, number]

class Canvas {
  readonly px: Float32Array
  constructor(readonly s: number) {
    this.px = new Float32Array(s * s * 3)
  }
  /** Paint every pixel whose centre (in unit coordinates, y down) passes `inside`. */
  fill(inside: (x: number, y: number) => boolean, c: RGB, x0 = 0, y0 = 0, x1 = 1, y1 = 1): void {
    const s = this.s
    const ia = Math.max(0, Math.floor(x0 * s)), ib = Math.min(s, Math.ceil(x1 * s))
    const ja = Math.max(0, Math.floor(y0 * s)), jb = Math.min(s, Math.ceil(y1 * s))
    for (let j = ja; j < jb; j++)
      for (let i = ia; i < ib; i++) {
        if (!inside((i + 0.5) / s, (j + 0.5) / s)) continue
        const o = (j * s + i) * 3
        this.px[o] = c[0]
        this.px[o + 1] = c[1]
        this.px[o + 2] = c[2]
      }
  }
  rect(x: number, y: number, w: number, h: number, c: RGB): void {
    this.fill(() => true, c, x, y, x + w, y + h)
  }
  circle(cx: number, cy: number, r: number, c: RGB, upperHalfOnly = false): void {
    this.fill((x, y) => (x - cx) ** 2 + (y - cy) ** 2 <= r * r && (!upperHalfOnly || y <= cy), c, cx - r, cy - r, cx + r, cy + r)
  }
  /** Triangle with apex (ax, ay) and a horizontal base from (bx0, by) to (bx1, by). */
  triangle(ax: number, ay: number, bx0: number, bx1: number, by: number, c: RGB): void {
    this.fill(
      (x, y) => {
        if (y < Math.min(ay, by) || y > Math.max(ay, by)) return false
        const t = (y - ay) / (by - ay)
        const l = ax + (bx0 - ax) * t
        const r = ax + (bx1 - ax) * t
        return x >= Math.min(l, r) && x <= Math.max(l, r)
      },
      c,
      Math.min(bx0, ax),
      Math.min(ay, by),
      Math.max(bx1, ax),
      Math.max(ay, by)
    )
  }
}

function colour(rng: Rng, lo = 40, hi = 230): RGB {
  return [lo + rng.uniform() * (hi - lo), lo + rng.uniform() * (hi - lo), lo + rng.uniform() * (hi - lo)]
}

function background(cv: Canvas, rng: Rng): void {
  const s = cv.s
  const sky = colour(rng, 150, 250)
  const ground = colour(rng, 20, 110)
  const horizon = 0.62 + rng.uniform() * 0.2
  const grain = 6 + rng.uniform() * 18
  const freq = 2 + rng.uniform() * 6
  for (let j = 0; j < s; j++) {
    const y = (j + 0.5) / s
    for (let i = 0; i < s; i++) {
      const o = (j * s + i) * 3
      const x = (i + 0.5) / s
      const wave = Math.sin((x * freq + y * freq * 0.7) * Math.PI) * 0.5 + 0.5
      for (let k = 0; k < 3; k++) {
        // Sky brightens towards the top; ground darkens towards the bottom: an upright cue.
        const base = y < horizon ? sky[k]! * (1.05 - 0.35 * (y / horizon)) : ground[k]! * (1.1 - 0.5 * ((y - horizon) / (1 - horizon)))
        cv.px[o + k] = base + (rng.uniform() - 0.5) * grain + (y >= horizon ? wave * grain : 0)
      }
    }
  }
  if (rng.uniform() < 0.6) cv.circle(0.1 + rng.uniform() * 0.8, 0.08 + rng.uniform() * 0.12, 0.05 + rng.uniform() * 0.04, [250, 230, 120])
}

function drawObject(cv: Canvas, cls: number, rng: Rng): void {
  const sz = 0.45 + rng.uniform() * 0.3
  const cx = sz / 2 + 0.05 + rng.uniform() * (0.9 - sz)
  const bottom = 0.7 + rng.uniform() * 0.25
  const top = bottom - sz
  const w = sz * (0.55 + rng.uniform() * 0.25)
  const a = colour(rng)
  const b = colour(rng)
  switch (cls) {
    case 0: // house: walls and a roof
      cv.rect(cx - w / 2, top + sz * 0.45, w, sz * 0.55, a)
      cv.triangle(cx, top, cx - w * 0.65, cx + w * 0.65, top + sz * 0.45, b)
      cv.rect(cx - w * 0.12, bottom - sz * 0.28, w * 0.24, sz * 0.28, [40, 30, 20])
      break
    case 1: // tree: trunk below a round crown
      cv.rect(cx - w * 0.1, top + sz * 0.55, w * 0.2, sz * 0.45, [110, 70, 30])
      cv.circle(cx, top + sz * 0.3, sz * 0.3, [30 + a[0] * 0.2, 110 + a[1] * 0.4, 30 + a[2] * 0.2])
      break
    case 2: // arrow pointing up
      cv.triangle(cx, top, cx - w / 2, cx + w / 2, top + sz * 0.45, a)
      cv.rect(cx - w * 0.15, top + sz * 0.44, w * 0.3, sz * 0.56, a)
      break
    case 3: // the letter T
      cv.rect(cx - w / 2, top, w, sz * 0.2, a)
      cv.rect(cx - w * 0.12, top, w * 0.24, sz, a)
      break
    case 4: // mushroom: cap on a stalk
      cv.rect(cx - w * 0.13, top + sz * 0.45, w * 0.26, sz * 0.55, [235, 225, 200])
      cv.circle(cx, top + sz * 0.5, w * 0.55, a, true)
      cv.circle(cx - w * 0.2, top + sz * 0.3, sz * 0.05, [250, 250, 250])
      break
    case 5: // person: head above body above legs
      cv.circle(cx, top + sz * 0.12, sz * 0.12, [230, 190, 150])
      cv.rect(cx - w * 0.25, top + sz * 0.26, w * 0.5, sz * 0.4, a)
      cv.rect(cx - w * 0.22, top + sz * 0.66, w * 0.16, sz * 0.34, b)
      cv.rect(cx + w * 0.06, top + sz * 0.66, w * 0.16, sz * 0.34, b)
      break
    case 6: // lamp post: pole with a light on top
      cv.rect(cx - sz * 0.03, top + sz * 0.15, sz * 0.06, sz * 0.85, [60, 60, 70])
      cv.rect(cx - w * 0.3, bottom - sz * 0.05, w * 0.6, sz * 0.05, [60, 60, 70])
      cv.circle(cx, top + sz * 0.1, sz * 0.1, [255, 240, 140])
      break
    case 7: // rocket: nose cone up, fins down
      cv.rect(cx - w * 0.18, top + sz * 0.3, w * 0.36, sz * 0.6, a)
      cv.triangle(cx, top, cx - w * 0.18, cx + w * 0.18, top + sz * 0.3, b)
      cv.triangle(cx - w * 0.18, top + sz * 0.65, cx - w * 0.45, cx - w * 0.18, bottom, b)
      cv.triangle(cx + w * 0.18, top + sz * 0.65, cx + w * 0.18, cx + w * 0.45, bottom, b)
      break
    case 8: // goblet: wide bowl, thin stem, base
      cv.triangle(cx, top + sz * 0.55, cx - w / 2, cx + w / 2, top, a)
      cv.rect(cx - sz * 0.04, top + sz * 0.5, sz * 0.08, sz * 0.42, a)
      cv.rect(cx - w * 0.3, bottom - sz * 0.08, w * 0.6, sz * 0.08, a)
      break
    case 9: // flag on a pole, flying at the top right
      cv.rect(cx - w * 0.4, top, sz * 0.05, sz, [70, 60, 50])
      cv.rect(cx - w * 0.4 + sz * 0.05, top, w * 0.8, sz * 0.35, a)
      cv.rect(cx - w * 0.4 + sz * 0.05, top + sz * 0.12, w * 0.8, sz * 0.1, b)
      break
  }
}

/** Draw one image of class `cls` at `size` pixels into `out` (uint8 RGB). */
export function drawSample(cls: number, size: number, rng: Rng, out: Uint8Array, offset = 0): void {
  const cv = new Canvas(size)
  background(cv, rng)
  drawObject(cv, cls, rng)
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
