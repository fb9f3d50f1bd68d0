// Mirrors the workspace in use (path, disk space), kept current by workspace.changed events.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { BackendStatus, WorkspaceInfo } from '../../../src-shared/contract'
import { api } from '../api'

export const useWorkspaceStore = defineStore('workspace', () => {
  const info = ref<WorkspaceInfo | null>(null)
  const backends = ref<BackendStatus[] | null>(null)
  const error = ref<string | null>(null)
  let subscribed = false

  async function load(): Promise<void> {
    if (!subscribed) {
      api.on('workspace.changed', (w) => (info.value = w))
      subscribed = true
    }
    try {
      info.value = await api.call('workspace.get', {})
      error.value = null
    } catch (err) {
      error.value = (err as Error).message
    }
  }

  async function open(path: string): Promise<void> {
    info.value = await api.call('workspace.open', { path })
  }

  /** Native picker (Electron only); null when the user cancels. */
  async function pick(): Promise<string | null> {
    return (await api.call('workspace.pickFolder', {})).path
  }

  async function detectBackends(): Promise<void> {
    backends.value = await api.call('backends.detect', {})
  }

  return { info, backends, error, load, open, pick, detectBackends }
})
