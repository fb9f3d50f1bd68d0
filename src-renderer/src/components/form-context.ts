// What a generated form shares with its fields: the value being edited, the messages per field
// path, and optional choices for fields whose allowed values live elsewhere (registered datasets).
import type { ComputedRef, InjectionKey } from 'vue'
import type { Path } from '../lib/schema-form'

export interface Choice {
  value: string
  label: string
}

export interface FormContext {
  get(path: Path): unknown
  set(path: Path, value: unknown): void
  /** Messages by dotted path ("pretrain.batchSize"). */
  errors: ComputedRef<Map<string, string[]>>
  /** Options for a free-text field that should be a choice, or null. */
  choices(path: Path): Choice[] | null
  /** Default for a union variant at a path, when the schema's own is not helpful. */
  variantOverride(path: Path, variant: string): Record<string, unknown> | null
}

export const FORM_CONTEXT: InjectionKey<FormContext> = Symbol('form-context')
