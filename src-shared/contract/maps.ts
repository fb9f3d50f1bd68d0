// Embedding-map requests: every parameter is chosen before anything is computed.
import { z } from 'zod'

/** What every map shares: which features, of which images, from which weights. */
const MapCommon = z.object({
  /** fc-inv / fc-rot: RFD's invariant and rotation halves; proj: the projection head's output (RFD variants, SimCLR). */
  layer: z.enum(['conv5', 'pool5', 'fc', 'fc-inv', 'fc-rot', 'proj']).default('fc'),
  split: z.enum(['train', 'test']).default('test'),
  source: z.union([z.literal('latest'), z.number().int().positive()]).default('latest'),
  maxPoints: z.number().int().min(10).max(20000).default(2000),
  seed: z.number().int().min(0).default(0)
})

export const MapSpecSchema = z.discriminatedUnion('method', [
  MapCommon.extend({ method: z.literal('pca') }),
  MapCommon.extend({
    method: z.literal('tsne'),
    perplexity: z.number().min(2, 'perplexity must be at least 2').max(100, 'perplexity must be at most 100').default(30),
    iterations: z.number().int().min(250, 'at least 250 iterations').max(5000).default(1000),
    learningRate: z.number().positive().max(10000).nullable().default(null),
    earlyExaggeration: z.number().min(1).max(50).default(12),
    pcaDims: z.number().int().min(0).max(512).default(50)
  }),
  MapCommon.extend({ method: z.literal('umap'), neighbors: z.number().int().min(2).max(200).default(15) })
])
export type MapSpec = z.output<typeof MapSpecSchema>

export const MapResultSchema = z.object({
  key: z.string(),
  spec: z.record(z.string(), z.unknown()),
  n: z.number().int(),
  xy: z.array(z.number()),
  labels: z.array(z.number().int()),
  /** Index in the split of each point's image (for thumbnails); absent in maps stored by older versions. */
  indices: z.array(z.number().int()).optional(),
  classNames: z.array(z.string()),
  knnPreservation: z.number(),
  seconds: z.number(),
  /** The weights it was made from: 'random-init' when the run had no trained backbone yet. */
  weights: z.string().optional()
})

export type MapResult = z.infer<typeof MapResultSchema>

/** How far a map's worker is, as it reports it. */
export const MapProgressSchema = z.object({
  phase: z.enum(['features', 'pca', 'knn', 'affinities', 'optimize', 'umap', 'done']),
  fraction: z.number(),
  /** The layout so far (x, y per point), while t-SNE optimises. */
  preview: z.array(z.number()).optional(),
  /** The points' classes, sent once with the first layout preview (so it can be coloured). */
  labels: z.array(z.number().int()).optional(),
  classNames: z.array(z.string()).optional()
})
export type MapProgress = z.infer<typeof MapProgressSchema>

/** A map's progress as the host pushes it: the worker's, or phase 'failed' with the error. */
export const MapProgressEventSchema = MapProgressSchema.extend({
  id: z.string(),
  key: z.string(),
  phase: z.string(),
  error: z.string().optional()
})

/** A stored map, without its points (for listings). */
export const MapInfoSchema = z.object({
  key: z.string(),
  spec: z.record(z.string(), z.unknown()),
  n: z.number().int(),
  knnPreservation: z.number(),
  seconds: z.number(),
  weights: z.string().optional()
})
export type MapInfo = z.infer<typeof MapInfoSchema>
