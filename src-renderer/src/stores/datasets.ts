// Mirrors the workspace's datasets: listed once, then kept current by datasets.changed; indexing
// progress from datasets.progress, by dataset id (and by job id for inspect jobs).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { DatasetSummary, IndexProgress } from '../../../src-shared/contract'
import { api } from '../api'

export const useDatasetsStore = defineStore('datasets', () => {
  const datasets = ref<DatasetSummary[]>([])
  const loaded = ref(false)
  const error = ref<string | null>(null)
  /** Latest progress per dataset id (indexing) or job id (inspect). */
  const progress = ref(new Map<string, IndexProgress>())
  let subscribed = false

  const byId = computed(() => new Map(datasets.value.map((d) => [d.id, d])))

  function subscribe(): void {
    if (subscribed) return
    subscribed = true
    api.on('datasets.changed', ({ id, dataset }) => {
      const i = datasets.value.findIndex((d) => d.id === id)
      if (!dataset) {
        if (i >= 0) datasets.value.splice(i, 1)
      } else if (i >= 0) datasets.value[i] = dataset
      else datasets.value.push(dataset)
      if (dataset && dataset.status !== 'indexing') progress.value.delete(id)
    })
    api.on('datasets.progress', (p) => {
      const key = p.datasetId ?? p.jobId
      if (['done', 'failed', 'cancelled'].includes(p.phase) && p.datasetId) progress.value.delete(key)
      else progress.value.set(key, p)
    })
  }

  async function load(): Promise<void> {
    subscribe()
    try {
      datasets.value = await api.call('datasets.list', {})
      loaded.value = true
      error.value = null
    } catch (err) {
      error.value = (err as Error).message
    }
  }

  function upsert(d: DatasetSummary): void {
    const i = datasets.value.findIndex((x) => x.id === d.id)
    if (i >= 0) datasets.value[i] = d
    else datasets.value.push(d)
  }

  return { datasets, loaded, error, progress, byId, load, upsert, subscribe }
})
