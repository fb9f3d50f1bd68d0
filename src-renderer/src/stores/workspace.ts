// Mirrors the workspace in use (path, disk space), kept current by workspace.changed events.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import type { BackendStatus, WorkspaceInfo } from '../../../src-shared/contract'
import type { ExecutorReport } from '../../../src-shared/contract/executor'
import { api } from '../api'

export const useWorkspaceStore = defineStore('workspace', () => {
  const info = ref<WorkspaceInfo | null>(null)
  const backends = ref<BackendStatus[] | null>(null)
  const executors = ref<ExecutorReport | null>(null)
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

  /** Where runs train (the workspace's executor.json) and whether Slurm can be used from the host. */
  async function detectExecutors(): Promise<void> {
    executors.value = await api.call('executors.describe', {})
  }

  return { info, backends, executors, error, load, open, pick, detectBackends, detectExecutors }
})
