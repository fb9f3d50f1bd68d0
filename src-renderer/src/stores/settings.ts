// Mirrors the host's settings: fetched once, then kept current by settings.changed events.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { Settings, SettingsPatch } from '../../../src-shared/contract'
import { api } from '../api'

export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<Settings | null>(null)
  const error = ref<string | null>(null)
  let subscribed = false

  async function load(): Promise<void> {
    if (!subscribed) {
      api.on('settings.changed', (s) => (settings.value = s))
      subscribed = true
    }
    try {
      settings.value = await api.call('settings.get', {})
      error.value = null
    } catch (err) {
      error.value = (err as Error).message
    }
  }

  async function update(patch: SettingsPatch): Promise<Settings> {
    const next = await api.call('settings.update', patch)
    settings.value = next
    return next
  }

  return { settings, error, load, update }
})
