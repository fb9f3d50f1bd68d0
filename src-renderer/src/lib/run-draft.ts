// The New-run form's draft, kept for the session so leaving the view does not lose it.
import { ref } from 'vue'
import { RunConfigSchema } from '../../../src-shared/config/run'

const fresh = (): Record<string, unknown> => structuredClone(RunConfigSchema.parse({})) as unknown as Record<string, unknown>

export const draft = ref<Record<string, unknown>>(fresh())
/** The preset the draft was filled from (sent with the run, shown in its summary). */
export const draftPreset = ref<string | null>(null)

export function resetDraft(): void {
  draft.value = fresh()
  draftPreset.value = null
}
