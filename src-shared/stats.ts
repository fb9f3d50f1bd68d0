// Uncertainty of accuracies: the Wilson score interval for one run's accuracy on n test images,
// mean and sample standard deviation over a group of runs repeated with different seeds, and
// Welch's t-test between two groups. Shared by the results table (Compare, CLI, exports, report).

/** Two-sided 95 % normal quantile. */
export const Z95 = 1.959963984540054

/**
 * 95 % Wilson score interval of a proportion `p` observed on `n` trials, as fractions. Unlike
 * the normal approximation p ± z·√(p(1−p)/n) it stays inside [0, 1] and is not zero-width at
 * 0 % or 100 %, which is exactly where small test sets land (9 of 9 correct).
 */
export function wilson(p: number, n: number, z = Z95): { low: number; high: number } {
  if (!(n > 0)) return { low: 0, high: 1 }
  // The evaluation stores a fraction; the interval is about counts of correct images.
  const k = Math.min(n, Math.max(0, Math.round(p * n)))
  const ph = k / n
  const z2 = z * z
  const denom = 1 + z2 / n
  const centre = (ph + z2 / (2 * n)) / denom
  const half = (z / denom) * Math.sqrt((ph * (1 - ph)) / n + z2 / (4 * n * n))
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) }
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length
}

/** Sample standard deviation (n − 1); 0 for fewer than two values. */
export function sampleSd(xs: readonly number[]): number {
  if (xs.length < 2) return 0
  const m = mean(xs)
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1))
}

/** ln Γ(x), Lanczos approximation (g = 7, 9 terms): about 15 significant digits for x > 0. */
function lnGamma(x: number): number {
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
    9.9843695780195716e-6, 1.5056327351493116e-7
  ]
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x)
  x -= 1
  let a = c[0]!
  const t = x + 7.5
  for (let i = 1; i < 9; i++) a += c[i]! / (x + i)
  return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(a)
}

/** Continued fraction of the incomplete beta function (modified Lentz). */
function betaCf(a: number, b: number, x: number): number {
  const tiny = 1e-300
  let c = 1
  let d = 1 - ((a + b) * x) / (a + 1)
  if (Math.abs(d) < tiny) d = tiny
  d = 1 / d
  let h = d
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m
    let aa = (m * (b - m) * x) / ((a - 1 + m2) * (a + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    h *= d * c
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + 1 + m2))
    d = 1 + aa * d
    if (Math.abs(d) < tiny) d = tiny
    c = 1 + aa / c
    if (Math.abs(c) < tiny) c = tiny
    d = 1 / d
    const del = d * c
    h *= del
    if (Math.abs(del - 1) < 1e-15) break
  }
  return h
}

/** Regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0
  if (x >= 1) return 1
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x))
  return x < (a + 1) / (a + b + 2) ? (front * betaCf(a, b, x)) / a : 1 - (front * betaCf(b, a, 1 - x)) / b
}

/** Two-sided p-value of Student's t with `df` degrees of freedom (df may be fractional). */
export function studentTwoSidedP(t: number, df: number): number {
  if (!Number.isFinite(t)) return 0
  return incompleteBeta(df / (df + t * t), df / 2, 0.5)
}

/**
 * Welch's unequal-variance t-test between two samples (each of at least two values): the t
 * statistic, Welch–Satterthwaite degrees of freedom and the two-sided p-value. Two groups with
 * no spread at all and equal means give p = 1; unequal means with no spread give p = 0.
 */
export function welch(a: readonly number[], b: readonly number[]): { t: number; df: number; p: number } {
  const va = sampleSd(a) ** 2 / a.length
  const vb = sampleSd(b) ** 2 / b.length
  const diff = mean(a) - mean(b)
  const se2 = va + vb
  if (se2 === 0) return diff === 0 ? { t: 0, df: a.length + b.length - 2, p: 1 } : { t: Math.sign(diff) * Infinity, df: a.length + b.length - 2, p: 0 }
  const t = diff / Math.sqrt(se2)
  const df = se2 ** 2 / ((va * va) / (a.length - 1) + (vb * vb) / (b.length - 1))
  return { t, df, p: studentTwoSidedP(t, df) }
}
