// How well a 2-D map separates the classes: for each point, the fraction of its k nearest
// neighbours in the map (Euclidean, the point itself excluded) that share its class, averaged over
// the points. 1 means every neighbourhood is pure; a map that mixes the classes at random scores
// about the share of the point's own class. Beside the neighbour preservation (how much of the
// embedding's neighbourhoods the map keeps) it says how much of the class structure is visible.
// Maps hold up to 20 000 points: above `maxQueries` points, an even stride of them is scored
// (against all points), which keeps a renderer's computation to some tens of millions of distances.

/** Mean fraction of each point's k nearest map neighbours that share its class; NaN under 2 points. */
export function classSeparation(xy: ArrayLike<number>, labels: ArrayLike<number>, k = 10, maxQueries = 2000): number {
  const n = Math.min(Math.floor(xy.length / 2), labels.length)
  if (n < 2) return NaN
  const kk = Math.min(k, n - 1)
  const stride = Math.max(1, n / maxQueries)
  const bestD = new Float64Array(kk)
  const bestI = new Int32Array(kk)
  let total = 0
  let queries = 0
  for (let q = 0; q < n; q = Math.floor((queries + 1) * stride)) {
    queries++
    const qx = xy[2 * q]!
    const qy = xy[2 * q + 1]!
    bestD.fill(Infinity)
    bestI.fill(-1)
    for (let j = 0; j < n; j++) {
      if (j === q) continue
      const dx = xy[2 * j]! - qx
      const dy = xy[2 * j + 1]! - qy
      const d = dx * dx + dy * dy
      if (d >= bestD[kk - 1]!) continue
      // Insert into the sorted k-best list.
      let p = kk - 1
      while (p > 0 && bestD[p - 1]! > d) {
        bestD[p] = bestD[p - 1]!
        bestI[p] = bestI[p - 1]!
        p--
      }
      bestD[p] = d
      bestI[p] = j
    }
    let same = 0
    for (let p = 0; p < kk; p++) if (labels[bestI[p]!] === labels[q]) same++
    total += same / kk
  }
  return total / queries
}
