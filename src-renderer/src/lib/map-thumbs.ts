// Thumbnails of the images behind map points, fetched one at a time as the pointer rests on a
// point and kept (a few thousand small PNG data URLs) so going back to a point is instant.
import { api } from '../api'

export interface Thumb {
  index: number
  label: number
  png: string
}

const KEEP = 3000
const cache = new Map<string, Promise<Thumb | null>>()

/** The thumbnail of image `index` of a run's split (null when the host has none). */
export function thumbnail(runId: string, split: 'train' | 'test', index: number): Promise<Thumb | null> {
  const key = `${runId}|${split}|${index}`
  const hit = cache.get(key)
  if (hit) {
    // Most recently used last: the oldest entries are the ones dropped.
    cache.delete(key)
    cache.set(key, hit)
    return hit
  }
  const p = api.call('runs.images', { id: runId, split, indices: [index] }).then(
    (r) => r.items.find((it) => it.index === index) ?? null,
    () => {
      cache.delete(key)
      return null
    }
  )
  cache.set(key, p)
  while (cache.size > KEEP) cache.delete(cache.keys().next().value!)
  return p
}
