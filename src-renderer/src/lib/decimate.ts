// Min-max decimation: a series of n points becomes, per bucket of consecutive points, its lowest
// and highest point in x order (plus the very first and last point), so spikes survive and a
// 100 000-point curve draws as ~2 points per two pixels. Done by the chart component and cached
// per series, so a redraw that does not add points (a hover, a legend toggle, a theme change)
// reuses it instead of decimating every dataset again as Chart.js's own plugin would.
import type { Point } from './metrics'

export function minMaxDecimate(src: Point[], buckets: number): Point[] {
  const n = src.length
  if (n <= buckets * 2 + 2) return src.slice()
  const out: Point[] = [src[0]!]
  for (let b = 0; b < buckets; b++) {
    const lo = Math.floor((b * n) / buckets)
    const hi = Math.floor(((b + 1) * n) / buckets)
    let iMin = lo
    let iMax = lo
    for (let i = lo + 1; i < hi; i++) {
      const y = src[i]!.y
      if (y < src[iMin]!.y) iMin = i
      if (y > src[iMax]!.y) iMax = i
    }
    if (iMin === iMax) out.push(src[iMin]!)
    else if (iMin < iMax) out.push(src[iMin]!, src[iMax]!)
    else out.push(src[iMax]!, src[iMin]!)
  }
  const last = src[n - 1]!
  if (out[out.length - 1] !== last) out.push(last)
  return out
}
