// What a catalog entry says about a method: its name, the words the UI shows, its config schema
// and the traits the rest of the app asks about (which previews, maps and estimates apply, what a
// batch becomes, what it logs). TensorFlow-free: the renderer reads entries to build the run form.
import type { z } from 'zod'

/**
 * What a batch of B images becomes before the backbone sees it:
 * - 'rotations': 4B views, each image turned 0°, 90°, 180° and 270° (after the batcher's flip/crop);
 * - 'simclr-pair': 2B views, two SimCLR augmentations of the raw [0,1] images; the config carries
 *   their settings (`minCropScale`, `jitter`);
 * - 'images': the B images as the batcher makes them.
 */
export type MethodViews = 'rotations' | 'simclr-pair' | 'images'

export interface MethodTraits {
  /** Predicts which rotation each view had: rotation previews and PU estimation read this head. */
  rotationHead: boolean
  /** Projects features for a contrastive or instance loss: the maps' 'proj' layer reads this head. */
  projectionHead: boolean
  /** Trains on class labels; the trainer passes them with each batch. */
  needsLabels: boolean
  views: MethodViews
  /** Takes per-image PU weights (`pu.enabled` applies to it only). */
  puWeights: boolean
  /** The scalars each step logs besides `loss` (names in metrics.jsonl). */
  metrics: readonly string[]
}

/** Words the run form shows for one config key of a method (missing parts fall back to the form's own). */
export interface FieldWords {
  label?: string
  unit?: string
  hint?: string
}

/**
 * A method's config slice: a strict object (an unknown key is an error naming it) whose `method`
 * key is the method's name.
 */
export type MethodSchema<N extends string = string> = z.ZodObject<{ method: z.ZodLiteral<N> } & z.ZodRawShape, z.core.$strict>

export interface MethodEntry<N extends string = string, S extends MethodSchema<N> = MethodSchema<N>> {
  readonly name: N
  /** What the form's method select, the run plan and the summaries call it. */
  readonly label: string
  /** One line: what it trains the network to do. */
  readonly summary: string
  readonly schema: S
  readonly traits: MethodTraits
  /** Form words for the method's own config keys; keys several methods share are worded in the form. */
  readonly fields?: Readonly<Record<string, FieldWords>>
}

/** Type a catalog entry (its config type comes from its schema). */
export function defineMethod<const N extends string, S extends MethodSchema<N>>(entry: MethodEntry<N, S>): MethodEntry<N, S> {
  return entry
}

/** The parsed config of an entry. */
export type ConfigOf<E extends MethodEntry> = z.output<E['schema']>
