// What both preview panels share: which images (a seeded random draw or a hand-picked list, of
// the train or test split), input checks, and one request in flight with its result or error.
import { computed, ref, shallowRef, type Ref } from 'vue'

export interface ImagePick {
  split: 'train' | 'test'
  seed: number
  count?: number
  indices?: number[]
}

export function useImagePick<R>(o: { split: 'train' | 'test'; count: number; request: (pick: ImagePick) => Promise<R>; extraError?: () => string | null }) {
  const split = ref(o.split)
  const count = ref(o.count)
  const seed = ref(0)
  const mode = ref<'random' | 'picked'>('random')
  const picked = ref<number[]>([])
  const busy = ref(false)
  const error = ref<string | null>(null)
  const result = shallowRef<R | null>(null) as Ref<R | null>

  const inputError = computed(() => {
    if (mode.value === 'random' && !(Number.isInteger(count.value) && count.value >= 1 && count.value <= 16)) return 'images: a whole number from 1 to 16'
    return o.extraError?.() ?? null
  })

  async function show(newSeed = false): Promise<void> {
    if (inputError.value) return
    if (mode.value === 'picked' && !picked.value.length) {
      error.value = 'Pick at least one image below first.'
      return
    }
    if (newSeed) seed.value = Math.floor(Math.random() * 1_000_000)
    busy.value = true
    error.value = null
    try {
      result.value = await o.request(
        mode.value === 'picked' ? { split: split.value, seed: seed.value, indices: picked.value } : { split: split.value, seed: seed.value, count: count.value }
      )
    } catch (err) {
      error.value = (err as Error).message
    } finally {
      busy.value = false
    }
  }

  return { split, count, seed, mode, picked, busy, error, result, inputError, show }
}
