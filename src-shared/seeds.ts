// "Repeat with N seeds": the New-run form's Seeds field and `quarterturn run --seeds` read the
// same text, either a list of seeds ("0,1,2", "1 5 9") or a count ("3", meaning seeds 0, 1, 2).

export const MAX_SEEDS = 20

/** The seeds the text names, or why it names none (a sentence to show as it is). */
export function parseSeeds(text: string): { seeds: number[] } | { error: string } {
  const parts = text
    .trim()
    .split(/[\s,;]+/)
    .filter(Boolean)
  if (!parts.length) return { error: 'Seeds: give a count (3) or a list of seeds (0,1,2).' }
  if (parts.some((p) => !/^\d+$/.test(p))) return { error: `Seeds: “${text.trim()}” is neither a count nor a list of whole numbers like 0,1,2.` }
  const nums = parts.map(Number)
  if (nums.length === 1) {
    const n = nums[0]!
    if (n < 2 || n > MAX_SEEDS) return { error: `Seeds: a count from 2 to ${MAX_SEEDS}, got ${n}.` }
    return { seeds: Array.from({ length: n }, (_, i) => i) }
  }
  if (nums.length > MAX_SEEDS) return { error: `Seeds: at most ${MAX_SEEDS}, got ${nums.length}.` }
  if (nums.some((n) => n > 2 ** 31 - 1)) return { error: `Seeds: each seed at most ${2 ** 31 - 1}.` }
  const dup = nums.find((n, i) => nums.indexOf(n) !== i)
  if (dup !== undefined) return { error: `Seeds: ${dup} appears twice.` }
  return { seeds: nums }
}
