// Linked highlighting between maps shown together: a class highlighted in one map is
// highlighted in every other map on the page that has a class of that name. Linked by name,
// not index: two runs' maps may come from datasets whose classes are numbered differently.
import { ref } from 'vue'

/** The class name highlighted in some map on the page, or null. */
export const linkedClass = ref<string | null>(null)

/** Index of the linked class in a map's class names, or null when it has none of that name. */
export function linkedIndex(classNames: readonly string[], name: string | null): number | null {
  if (name === null) return null
  const i = classNames.indexOf(name)
  return i < 0 ? null : i
}
