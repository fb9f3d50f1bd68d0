// Settings schema shared by electron-store (app) and conf (headless): one zod schema gives the
// TypeScript type, the defaults, the JSON schema both stores validate with, and the form rules.
import { z } from 'zod'

export const ThemeSchema = z.enum(['system', 'light', 'dark'])
export const BackendPreferenceSchema = z.enum(['auto', 'tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu'])

export const SettingsSchema = z.object({
  /** Absolute path of the workspace folder; null until the user picks one (the default is then used). */
  workspacePath: z.string().min(1).nullable().default(null),
  theme: ThemeSchema.default('system'),
  /** Runs executed at the same time by the queue. */
  maxConcurrentRuns: z.number().int().min(1).max(8).default(1),
  /** Minutes between time-based checkpoints (in addition to every epoch end). */
  checkpointIntervalMin: z.number().int().min(1).max(240).default(10),
  preferredBackend: BackendPreferenceSchema.default('auto'),
  /** Dataset folders the user opened, most recent first. */
  recentFolders: z.array(z.string()).max(20).default([])
})
export type Settings = z.infer<typeof SettingsSchema>

export const SettingsPatchSchema = SettingsSchema.partial().strict()
export type SettingsPatch = z.infer<typeof SettingsPatchSchema>

export const DEFAULT_SETTINGS: Settings = SettingsSchema.parse({})

/**
 * JSON schema `properties` object for conf / electron-store (both validate with ajv).
 * Derived from the zod schema so the two can never drift apart.
 */
export function settingsJsonSchemaProperties(): Record<string, unknown> {
  const json = z.toJSONSchema(SettingsSchema, { io: 'input', target: 'draft-2020-12' }) as {
    properties: Record<string, unknown>
  }
  return json.properties
}
