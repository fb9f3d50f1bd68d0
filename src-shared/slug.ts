// Names made from free text (dataset ids, run ids, export file names): lower-case letters and
// digits joined by single dashes, accents folded to their base letter, cut to `max` characters.
export function slugify(text: string, max: number, fallback: string): string {
  const s = text
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, max)
  return s || fallback
}
