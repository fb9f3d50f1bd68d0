// Small display helpers.
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = n
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`
}

// Intl formatters are costly to build (about a millisecond each): build each once.
const dateTime = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })
const fullDateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' })
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' })

/** "Nov 28, 02:30 AM" */
export function formatWhen(iso: string): string {
  return dateTime.format(new Date(iso))
}
export function formatDateTime(iso: string): string {
  return fullDateTime.format(new Date(iso))
}
export function formatTime(t: number): string {
  return timeOnly.format(new Date(t))
}

/** A metric value: 4 decimals for losses and accuracies, fewer for big numbers, exponent for tiny. */
export function formatValue(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—'
  const a = Math.abs(v)
  if (a >= 1000) return Math.round(v).toLocaleString()
  if (a >= 100) return v.toFixed(1)
  if (a !== 0 && a < 1e-3) return v.toExponential(2)
  return v.toFixed(4)
}

/**
 * A value at full precision for tooltips: four significant digits, an exponent for the tiny and
 * the huge (a learning rate of 1.9e-5 reads "1.900e-5", never "0.00").
 */
export function formatPrecise(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return '—'
  if (v === 0) return '0'
  const a = Math.abs(v)
  if (a < 1e-3 || a >= 1e6) return v.toExponential(3).replace('e+', 'e')
  if (a >= 1e4) return Math.round(v).toLocaleString()
  return v.toPrecision(4)
}
