// Symmetric eigen-decomposition: Householder reduction to tridiagonal form followed by the
// implicit QL algorithm (the EISPACK routines tred2/tql2, in the formulation of the public-domain
// JAMA library). O(n^3), exact to machine precision, deterministic; fine for the D x D covariance
// matrices of feature vectors (D up to ~1000 in well under a second).
//
// Pure TypeScript on typed arrays: runs in Node, browsers and workers.

export interface SymmetricEigen {
  /** Eigenvalues in DESCENDING order. */
  values: Float64Array
  /** Eigenvectors as ROWS, row-major [n, n]: row r is the unit eigenvector of values[r]. */
  vectors: Float64Array
}

/**
 * Eigen-decomposition of a symmetric matrix `a` (row-major [n, n]; only symmetry is assumed,
 * the input is not modified). Eigenvalues come back in descending order with unit eigenvectors as
 * rows; each eigenvector's sign is fixed so that its largest-magnitude entry is positive, which
 * makes the result deterministic.
 */
export function symmetricEigen(a: Float64Array, n: number): SymmetricEigen {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`symmetricEigen: n must be an integer >= 1 (got ${n})`)
  if (a.length < n * n) throw new RangeError(`symmetricEigen: matrix has ${a.length} entries, needs n*n = ${n * n}`)
  // V holds the matrix and then the eigenvectors as COLUMNS (JAMA layout), row-major V[i*n + j].
  const V = new Float64Array(n * n)
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) V[i * n + j] = 0.5 * (a[i * n + j]! + a[j * n + i]!)
  }
  const d = new Float64Array(n)
  const e = new Float64Array(n)
  if (n === 1) {
    return { values: Float64Array.of(V[0]!), vectors: Float64Array.of(1) }
  }
  tred2(V, d, e, n)
  tql2(V, d, e, n)
  // Sort descending; emit eigenvectors as rows with the sign convention.
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y]! - d[x]! || x - y)
  const values = new Float64Array(n)
  const vectors = new Float64Array(n * n)
  for (let r = 0; r < n; r++) {
    const c = order[r]!
    values[r] = d[c]!
    let best = 0
    let bestAbs = -1
    for (let i = 0; i < n; i++) {
      const v = Math.abs(V[i * n + c]!)
      if (v > bestAbs + 1e-12) {
        bestAbs = v
        best = i
      }
    }
    const sign = V[best * n + c]! < 0 ? -1 : 1
    for (let i = 0; i < n; i++) vectors[r * n + i] = sign * V[i * n + c]!
  }
  return { values, vectors }
}

function tred2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let j = 0; j < n; j++) d[j] = V[(n - 1) * n + j]!
  for (let i = n - 1; i > 0; i--) {
    let scale = 0
    let h = 0
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!)
    if (scale === 0) {
      e[i] = d[i - 1]!
      for (let j = 0; j < i; j++) {
        d[j] = V[(i - 1) * n + j]!
        V[i * n + j] = 0
        V[j * n + i] = 0
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] = d[k]! / scale
        h += d[k]! * d[k]!
      }
      let f = d[i - 1]!
      let g = Math.sqrt(h)
      if (f > 0) g = -g
      e[i] = scale * g
      h -= f * g
      d[i - 1] = f - g
      for (let j = 0; j < i; j++) e[j] = 0
      for (let j = 0; j < i; j++) {
        f = d[j]!
        V[j * n + i] = f
        g = e[j]! + V[j * n + j]! * f
        for (let k = j + 1; k <= i - 1; k++) {
          g += V[k * n + j]! * d[k]!
          e[k] = e[k]! + V[k * n + j]! * f
        }
        e[j] = g
      }
      f = 0
      for (let j = 0; j < i; j++) {
        e[j] = e[j]! / h
        f += e[j]! * d[j]!
      }
      const hh = f / (h + h)
      for (let j = 0; j < i; j++) e[j] = e[j]! - hh * d[j]!
      for (let j = 0; j < i; j++) {
        f = d[j]!
        g = e[j]!
        for (let k = j; k <= i - 1; k++) V[k * n + j] = V[k * n + j]! - (f * e[k]! + g * d[k]!)
        d[j] = V[(i - 1) * n + j]!
        V[i * n + j] = 0
      }
    }
    d[i] = h
  }
  for (let i = 0; i < n - 1; i++) {
    V[(n - 1) * n + i] = V[i * n + i]!
    V[i * n + i] = 1
    const h = d[i + 1]!
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = V[k * n + i + 1]! / h
      for (let j = 0; j <= i; j++) {
        let g = 0
        for (let k = 0; k <= i; k++) g += V[k * n + i + 1]! * V[k * n + j]!
        for (let k = 0; k <= i; k++) V[k * n + j] = V[k * n + j]! - g * d[k]!
      }
    }
    for (let k = 0; k <= i; k++) V[k * n + i + 1] = 0
  }
  for (let j = 0; j < n; j++) {
    d[j] = V[(n - 1) * n + j]!
    V[(n - 1) * n + j] = 0
  }
  V[(n - 1) * n + n - 1] = 1
  e[0] = 0
}

function tql2(V: Float64Array, d: Float64Array, e: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!
  e[n - 1] = 0
  let f = 0
  let tst1 = 0
  const eps = 2 ** -52
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!))
    let m = l
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break
      m++
    }
    if (m > l) {
      let iter = 0
      do {
        if (++iter > 200) throw new Error('symmetricEigen: QL iteration did not converge')
        let g = d[l]!
        let p = (d[l + 1]! - g) / (2 * e[l]!)
        let r = Math.hypot(p, 1)
        if (p < 0) r = -r
        d[l] = e[l]! / (p + r)
        d[l + 1] = e[l]! * (p + r)
        const dl1 = d[l + 1]!
        let h = g - d[l]!
        for (let i = l + 2; i < n; i++) d[i] = d[i]! - h
        f += h
        p = d[m]!
        let c = 1
        let c2 = c
        let c3 = c
        const el1 = e[l + 1]!
        let s = 0
        let s2 = 0
        for (let i = m - 1; i >= l; i--) {
          c3 = c2
          c2 = c
          s2 = s
          g = c * e[i]!
          h = c * p
          r = Math.hypot(p, e[i]!)
          e[i + 1] = s * r
          s = e[i]! / r
          c = p / r
          p = c * d[i]! - s * g
          d[i + 1] = h + s * (c * g + s * d[i]!)
          for (let k = 0; k < n; k++) {
            const row = k * n
            h = V[row + i + 1]!
            V[row + i + 1] = s * V[row + i]! + c * h
            V[row + i] = c * V[row + i]! - s * h
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1
        e[l] = s * p
        d[l] = c * p
      } while (Math.abs(e[l]!) > eps * tst1)
    }
    d[l] = d[l]! + f
    e[l] = 0
  }
}
