// The embedding-map view's pure parts: the screen transform (fit, zoom about the cursor, pan),
// the grid that finds the point under the cursor (checked against a full scan), the rasteriser
// that draws the points into pixels, and the SVG figure the view exports.
import { describe, expect, it } from 'vitest'
import { boundsOf, fitView, MAX_ZOOM, MIN_ZOOM, panBy, recentre, toMap, toScreen, wheelFactor, zoomAt } from '../../../src-shared/report/map-view'
import { nearestBrute, PointGrid } from '../../../src-shared/report/map-index'
import { classColour, svgMap } from '../../../src-shared/report/map-svg'
import { discMask, rasterPoints, rgbOf, warmUpRaster } from '../../../src-shared/report/map-raster'
import { colour } from '../../../src-shared/report/svg'
import { Rng } from '../../../src-shared/rng'

function randomLayout(rng: Rng, n: number, kind: 'uniform' | 'blobs' | 'line' | 'duplicates'): number[] {
  const xy: number[] = []
  for (let i = 0; i < n; i++) {
    if (kind === 'uniform') xy.push(rng.uniform() * 200 - 100, rng.uniform() * 50 - 25)
    else if (kind === 'blobs') {
      const c = rng.int(6)
      xy.push(c * 30 + rng.normal() * (c + 1), (c % 2) * 40 + rng.normal() * 2)
    } else if (kind === 'line') xy.push(rng.uniform() * 10, 3)
    else xy.push(rng.int(5), rng.int(3))
  }
  return xy
}

describe('map view transform', () => {
  it('fits every point inside the box, less the padding, centred', () => {
    const rng = new Rng(1)
    const xy = randomLayout(rng, 500, 'blobs')
    const v = fitView(boundsOf(xy), 640, 420, 16)
    let [minX, maxX, minY, maxY] = [Infinity, -Infinity, Infinity, -Infinity]
    for (let i = 0; i < xy.length; i += 2) {
      const [sx, sy] = toScreen(v, xy[i]!, xy[i + 1]!)
      ;[minX, maxX, minY, maxY] = [Math.min(minX, sx), Math.max(maxX, sx), Math.min(minY, sy), Math.max(maxY, sy)]
    }
    expect(minX).toBeGreaterThanOrEqual(16 - 1e-9)
    expect(maxX).toBeLessThanOrEqual(640 - 16 + 1e-9)
    expect(minY).toBeGreaterThanOrEqual(16 - 1e-9)
    expect(maxY).toBeLessThanOrEqual(420 - 16 + 1e-9)
    // Centred, and one axis fills the box exactly.
    expect((minX + maxX) / 2).toBeCloseTo(320, 6)
    expect((minY + maxY) / 2).toBeCloseTo(210, 6)
    expect(Math.max((maxX - minX) / (640 - 32), (maxY - minY) / (420 - 32))).toBeCloseTo(1, 6)
  })

  it('gives a single point or a flat layout a box to fit', () => {
    const b = boundsOf([2, 3])
    expect(b.x1 - b.x0).toBeGreaterThan(0)
    expect(b.y1 - b.y0).toBeGreaterThan(0)
    const v = fitView(boundsOf([0, 5, 10, 5]), 300, 200)
    expect(Number.isFinite(v.scale) && v.scale > 0).toBe(true)
    expect(toScreen(v, 5, 5)[1]).toBeCloseTo(100, 6)
    expect(boundsOf([])).toEqual({ x0: -1, x1: 1, y0: -1, y1: 1 })
  })

  it('maps screen to map and back', () => {
    const v = { scale: 3.7, tx: -12, ty: 40 }
    const [x, y] = toMap(v, 123, -45)
    const [sx, sy] = toScreen(v, x, y)
    expect(sx).toBeCloseTo(123, 9)
    expect(sy).toBeCloseTo(-45, 9)
  })

  it('zooming about a point keeps the map point under it fixed', () => {
    const rng = new Rng(7)
    for (let t = 0; t < 200; t++) {
      const v = { scale: 0.5 + rng.uniform() * 10, tx: rng.uniform() * 400 - 200, ty: rng.uniform() * 400 - 200 }
      const sx = rng.uniform() * 640
      const sy = rng.uniform() * 420
      const factor = Math.exp(rng.uniform() * 2 - 1)
      const before = toMap(v, sx, sy)
      const z = zoomAt(v, factor, sx, sy, 1)
      expect(z.scale).toBeCloseTo(Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, v.scale * factor)), 9)
      const after = toMap(z, sx, sy)
      expect(after[0]).toBeCloseTo(before[0], 9)
      expect(after[1]).toBeCloseTo(before[1], 9)
    }
  })

  it('zooming in and out again returns to the same view; the scale stays within its limits', () => {
    const v = { scale: 2, tx: 30, ty: -10 }
    const back = zoomAt(zoomAt(v, 1.5, 100, 80, 2), 1 / 1.5, 100, 80, 2)
    expect(back.scale).toBeCloseTo(2, 12)
    expect(back.tx).toBeCloseTo(30, 9)
    expect(back.ty).toBeCloseTo(-10, 9)
    expect(zoomAt(v, 1e9, 0, 0, 2).scale).toBe(2 * MAX_ZOOM)
    expect(zoomAt(v, 1e-9, 0, 0, 2).scale).toBe(2 * MIN_ZOOM)
    // At the limit the point under the cursor still stays put.
    const z = zoomAt(v, 1e9, 50, 60, 2)
    expect(toMap(z, 50, 60)[0]).toBeCloseTo(toMap(v, 50, 60)[0], 9)
  })

  it('pans by screen pixels and keeps the centre when the box is resized', () => {
    const v = { scale: 4, tx: 10, ty: 20 }
    const p = panBy(v, 15, -5)
    const [sx, sy] = toScreen(v, 1, 1)
    const [px, py] = toScreen(p, 1, 1)
    expect([px - sx, py - sy]).toEqual([15, -5])
    const r = recentre(v, 400, 300, 600, 500)
    const centre = toMap(v, 200, 150)
    const moved = toMap(r, 300, 250)
    expect(moved[0]).toBeCloseTo(centre[0], 9)
    expect(moved[1]).toBeCloseTo(centre[1], 9)
  })

  it('turns wheel deltas into symmetric zoom factors', () => {
    expect(wheelFactor(-100, 0)).toBeGreaterThan(1)
    expect(wheelFactor(100, 0)).toBeLessThan(1)
    expect(wheelFactor(100, 0) * wheelFactor(-100, 0)).toBeCloseTo(1, 12)
    expect(wheelFactor(3, 1)).toBeCloseTo(wheelFactor(48, 0), 12)
    expect(wheelFactor(1e6, 0)).toBeGreaterThan(0.3)
  })
})

describe('point under the cursor', () => {
  for (const kind of ['uniform', 'blobs', 'line', 'duplicates'] as const) {
    it(`finds the same nearest point as a full scan (${kind})`, () => {
      const rng = new Rng(kind.length * 31)
      for (const n of [1, 2, 17, 500, 5000]) {
        const xy = randomLayout(rng, n, kind)
        const grid = new PointGrid(xy)
        const b = boundsOf(xy)
        for (let q = 0; q < 300; q++) {
          // Queries inside the box and well outside it.
          const x = b.x0 + (rng.uniform() * 1.6 - 0.3) * (b.x1 - b.x0)
          const y = b.y0 + (rng.uniform() * 1.6 - 0.3) * (b.y1 - b.y0)
          expect(grid.nearest(x, y)).toBe(nearestBrute(xy, x, y))
          const maxDist = rng.uniform() * 5
          expect(grid.nearest(x, y, maxDist)).toBe(nearestBrute(xy, x, y, maxDist))
          const odd = (i: number): boolean => i % 2 === 1
          expect(grid.nearest(x, y, Infinity, odd)).toBe(nearestBrute(xy, x, y, Infinity, odd))
        }
      }
    })
  }

  it('answers -1 for an empty map or nothing within reach', () => {
    expect(new PointGrid([]).nearest(0, 0)).toBe(-1)
    const grid = new PointGrid([0, 0, 10, 10])
    expect(grid.nearest(5, 5, 1)).toBe(-1)
    expect(grid.nearest(9, 9, 2)).toBe(1)
  })

  it('looks at a small part of a 20 000-point map per lookup', () => {
    const rng = new Rng(3)
    const xy = randomLayout(rng, 20000, 'blobs')
    const grid = new PointGrid(xy)
    let checked = 0
    const b = boundsOf(xy)
    for (let q = 0; q < 1000; q++) {
      const x = b.x0 + rng.uniform() * (b.x1 - b.x0)
      const y = b.y0 + rng.uniform() * (b.y1 - b.y0)
      // Count the points the grid hands to the filter: every candidate closer than the best so far.
      grid.nearest(x, y, 3, () => (checked++, true))
    }
    expect(checked / 1000).toBeLessThan(50)
  })
})

describe('point rasteriser', () => {
  const W = 40
  const H = 30
  const identity = { scale: 1, tx: 0, ty: 0 }
  const pixel = (rgba: Uint8ClampedArray, x: number, y: number): number[] => Array.from(rgba.subarray((y * W + x) * 4, (y * W + x) * 4 + 4))

  it('covers about πr² pixels with a symmetric disc', () => {
    for (const r of [1.5, 3, 5.5]) {
      const m = discMask(r)
      const side = 2 * m.h + 1
      const area = m.cov.reduce((a, b) => a + b, 0)
      expect(Math.abs(area - Math.PI * r * r) / (Math.PI * r * r)).toBeLessThan(0.06)
      for (let y = 0; y < side; y++) for (let x = 0; x < side; x++) expect(m.cov[y * side + x]).toBe(m.cov[x * side + (side - 1 - y)])
      expect(m.cov[m.h * side + m.h]).toBe(1)
    }
  })

  const BG = [247, 247, 245, 255]
  const near = (got: number[], want: number[]): void =>
    got.forEach((v, i) => expect(Math.abs(v - want[i]!), `channel ${i}: ${got} vs ${want}`).toBeLessThanOrEqual(1))
  const changed = (rgba: Uint8ClampedArray): number =>
    Array.from({ length: W * H }, (_, i) => pixel(rgba, i % W, Math.floor(i / W))).filter((p) => p.some((v, c) => v !== BG[c])).length

  it('paints the background, then a point in its colour and alpha where the view puts it', () => {
    const rgba = new Uint8ClampedArray(W * H * 4)
    const drawn = rasterPoints(rgba, W, H, 1, [5, 4], { scale: 2, tx: 3, ty: 2 }, 2, [{ points: [0], colour: '#2f5bd3', alpha: 0.9 }], '#f7f7f5')
    expect(drawn).toBe(1)
    // (5, 4) * 2 + (3, 2) = (13, 10): 90% of the way from the background to the colour.
    near(pixel(rgba, 13, 10), [247 + (47 - 247) * 0.9, 247 + (91 - 247) * 0.9, 245 + (211 - 245) * 0.9, 255])
    expect(pixel(rgba, 30, 20)).toEqual(BG)
    expect(changed(rgba)).toBeGreaterThan(9)
    expect(changed(rgba)).toBeLessThanOrEqual(25)
  })

  it('draws later layers over earlier ones, and faded points faintly', () => {
    const rgba = new Uint8ClampedArray(W * H * 4)
    rasterPoints(
      rgba,
      W,
      H,
      1,
      [10, 10, 10, 10, 30, 20],
      identity,
      2,
      [
        { points: [0, 2], colour: '#ff0000', alpha: 0.13 },
        { points: [1], colour: '#00ff00', alpha: 1 }
      ],
      '#ffffff'
    )
    expect(pixel(rgba, 10, 10)).toEqual([0, 255, 0, 255])
    near(pixel(rgba, 30, 20), [255, 255 * 0.87, 255 * 0.87, 255])
  })

  it('places points in device pixels and skips those off the image without writing outside it', () => {
    const buffer = new Uint8ClampedArray(W * H * 4 + 8).fill(7)
    const rgba = buffer.subarray(4, 4 + W * H * 4)
    const drawn = rasterPoints(
      rgba,
      W,
      H,
      2,
      [5, 5, -50, 3, 19.8, 0, Number.NaN, 1],
      identity,
      1,
      [{ points: [0, 1, 2, 3], colour: '#000000', alpha: 1 }],
      '#f7f7f5'
    )
    // (5,5) at 2 device pixels per CSS pixel is (10,10); (19.8, 0) overlaps the top right corner.
    expect(drawn).toBe(2)
    expect(pixel(rgba, 10, 10)).toEqual([0, 0, 0, 255])
    expect(pixel(rgba, 39, 0)).not.toEqual(BG)
    expect(pixel(rgba, 20, 15)).toEqual(BG)
    expect([...buffer.subarray(0, 4), ...buffer.subarray(4 + W * H * 4)]).toEqual([7, 7, 7, 7, 7, 7, 7, 7])
  })

  it('warms up without touching anything of the caller’s', () => {
    const rgba = new Uint8ClampedArray(W * H * 4)
    rasterPoints(rgba, W, H, 1, [5, 5], identity, 1, [{ points: [0], colour: '#000000', alpha: 1 }], '#ffffff')
    const before = rgba.slice()
    warmUpRaster()
    expect(rgba).toEqual(before)
  })

  it('reads hex and computed CSS colours', () => {
    expect(rgbOf('#2f5bd3')).toEqual([47, 91, 211])
    expect(rgbOf('rgb(95, 102, 112)')).toEqual([95, 102, 112])
    expect(rgbOf('rgba(1, 2, 3, 0.5)')).toEqual([1, 2, 3])
  })
})

describe('map SVG export', () => {
  const classNames = ['cat', 'dog', 'a <b> & "c"']
  const rng = new Rng(11)
  const n = 90
  const xy = randomLayout(rng, n, 'uniform')
  const labels = Array.from({ length: n }, (_, i) => i % 3)

  it('draws one circle per point in its class colour, and a legend entry per class', () => {
    const svg = svgMap(xy, labels, classNames, { title: 't-SNE of fc', subtitle: '90 points' })
    const circles = [...svg.matchAll(/<circle [^>]*fill="(#[0-9a-f]{6})"/g)].map((m) => m[1])
    expect(circles).toHaveLength(n)
    for (let c = 0; c < 3; c++) expect(circles.filter((f) => f === classColour(c))).toHaveLength(30)
    const entries = [...svg.matchAll(/<g class="legend-entry"[^>]*><rect [^>]*fill="(#[0-9a-f]{6})"\/><text [^>]*>([^<]*)<\/text>/g)]
    expect(entries.map((e) => e[1])).toEqual([0, 1, 2].map(classColour))
    expect(entries.map((e) => e[2])).toEqual(['cat (30)', 'dog (30)', 'a &lt;b&gt; &amp; &quot;c&quot; (30)'])
    expect(svg).toContain('<title>t-SNE of fc</title>')
    expect(svg).toContain('90 points')
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true)
    // Every circle lies inside the plot area.
    const width = Number(/viewBox="0 0 (\d+) /.exec(svg)![1])
    for (const m of svg.matchAll(/<circle cx="([\d.-]+)" cy="([\d.-]+)"/g)) {
      expect(Number(m[1])).toBeGreaterThanOrEqual(0)
      expect(Number(m[1])).toBeLessThanOrEqual(width - 170)
    }
  })

  it('fades the other classes when one is highlighted, and draws the highlighted class on top', () => {
    const svg = svgMap(xy, labels, classNames, { title: 'map', highlight: 1 })
    const circles = [...svg.matchAll(/<circle [^>]*fill="(#[0-9a-f]{6})"( fill-opacity="0.15")?/g)]
    expect(circles).toHaveLength(n)
    expect(circles.filter((c) => c[2]).length).toBe(60)
    expect(circles.slice(-30).every((c) => c[1] === classColour(1) && !c[2])).toBe(true)
    expect([...svg.matchAll(/<g class="legend-entry" opacity="0.45">/g)]).toHaveLength(2)
  })

  it('leaves out the points outside a zoomed window', () => {
    const window = { x0: -50, x1: 0, y0: -25, y1: 0 }
    const inside = labels.filter((_, i) => xy[2 * i]! >= -50 && xy[2 * i]! <= 0 && xy[2 * i + 1]! <= 0).length
    const svg = svgMap(xy, labels, classNames, { title: 'zoomed', window })
    const count = [...svg.matchAll(/<circle /g)].length
    expect(count).toBeGreaterThanOrEqual(inside)
    expect(count).toBeLessThan(n)
  })

  it('gives the report’s colours to the first classes and twenty distinct ones in all', () => {
    for (let i = 0; i < 8; i++) expect(classColour(i)).toBe(colour(i))
    expect(new Set(Array.from({ length: 20 }, (_, i) => classColour(i))).size).toBe(20)
    expect(classColour(20)).toBe(classColour(0))
  })
})
