// How curves are drawn, shared by every chart (a run's page, the runs list, Compare) and kept
// across sessions: smoothing, log-scale y and the x axis, as TensorBoard keeps its one smoothing
// slider for all charts. Stored in localStorage, read once.
import { ref, watch, type Ref } from 'vue'
import { MAX_SMOOTHING, X_AXES, type XAxis } from './curves'

function stored<T>(key: string, fallback: T, valid: (v: unknown) => v is T): Ref<T> {
  let initial = fallback
  try {
    const raw = localStorage.getItem(key)
    if (raw !== null) {
      const v: unknown = JSON.parse(raw)
      if (valid(v)) initial = v
    }
  } catch {
    // A value from another version: keep the default.
  }
  const r = ref(initial) as Ref<T>
  watch(r, (v) => localStorage.setItem(key, JSON.stringify(v)))
  return r
}

const isSmoothing = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v <= MAX_SMOOTHING
const isAxis = (v: unknown): v is XAxis => X_AXES.some((a) => a.id === v)
const isBool = (v: unknown): v is boolean => typeof v === 'boolean'

/** EMA weight, 0 (raw curves only) to 0.99. TensorBoard's default is 0.6. */
export const smoothing = stored('curves.smoothing', 0, isSmoothing)
export const logScale = stored('curves.logY', false, isBool)
export const xAxis = stored<XAxis>('curves.xAxis', 'step', isAxis)
