// Settings service: typed read/update over a key-value store. The store is electron-store in the
// app and conf headless (both expose `.store` and validate with the same JSON schema); the
// service itself knows nothing of either.
import { existsSync, renameSync } from 'node:fs'
import { DEFAULT_SETTINGS, SettingsPatchSchema, SettingsSchema, type Settings, type SettingsPatch } from '../../src-shared/contract'
import { ServiceError } from '../errors'

/** The part of conf / electron-store the service uses. */
export interface KeyValueStore {
  readonly store: Record<string, unknown>
  set(values: Record<string, unknown>): void
  clear(): void
}

export class SettingsService {
  private listeners = new Set<(s: Settings) => void>()
  constructor(private readonly kv: KeyValueStore) {}

  get(): Settings {
    // Keys missing or unknown (an older or newer version wrote the file) fall back to defaults
    // one by one, so one bad key never throws away the others.
    const raw = this.kv.store
    const out: Record<string, unknown> = { ...DEFAULT_SETTINGS }
    for (const key of Object.keys(SettingsSchema.shape) as (keyof Settings)[]) {
      if (!(key in raw)) continue
      const parsed = SettingsSchema.shape[key].safeParse(raw[key])
      if (parsed.success) out[key] = parsed.data
    }
    return out as Settings
  }

  update(patch: SettingsPatch): Settings {
    const checked = SettingsPatchSchema.safeParse(patch)
    if (!checked.success) throw new ServiceError(`Invalid setting: ${checked.error.issues[0]?.message}`, 'invalid-argument')
    const next = SettingsSchema.parse({ ...this.get(), ...checked.data })
    try {
      this.kv.set(next as unknown as Record<string, unknown>)
    } catch (err) {
      throw new ServiceError(`Could not save settings: ${(err as Error).message}`)
    }
    for (const l of this.listeners) l(next)
    return next
  }

  reset(): Settings {
    this.kv.clear()
    const s = this.get()
    for (const l of this.listeners) l(s)
    return s
  }

  onChanged(listener: (s: Settings) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}

/**
 * Open a schema-validated store (conf / electron-store). Both throw when the file on disk is not
 * valid JSON or breaks the schema (hand-edited, or written by another version). Rather than
 * refusing to start or silently clearing it, the bad file is kept beside as
 * `settings.invalid-<time>.json` and a fresh store is opened; `warn` tells the user where it went.
 */
export function openStoreKeepingBadFile<T>(create: () => T, file: string, warn: (msg: string) => void): T {
  try {
    return create()
  } catch (err) {
    if (!existsSync(file)) throw err
    const kept = file.replace(/\.json$/, '') + `.invalid-${new Date().toISOString().replace(/[:.]/g, '-')}.json`
    renameSync(file, kept)
    warn(`Settings file ${file} could not be read (${(err as Error).message}); it was kept as ${kept} and defaults are in use.`)
    return create()
  }
}
