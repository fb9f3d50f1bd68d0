// The weights a stage starts from, read for the model the engine built: a stage's saved bundle,
// or the imported .safetensors backbone (src-node/weights-import.ts), converted for the shapes of
// this model's backbone parameters (BatchNorm running statistics included).
import type { ParamStore } from './models/params'
import { INIT_WEIGHTS, isBackboneParam, readWeights, type Params, type StartWeights } from '../src-node/run-folder'
import { readInitBackbone } from '../src-node/weights-import'

/** Quarterturn shapes of the backbone parameters `ps` holds. */
export function backboneShapesOf(ps: ParamStore): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const [k, v] of [...ps.trainable, ...ps.buffers]) if (isBackboneParam(k)) out[k] = v.shape
  return out
}

/** The weights `which` names, or null when a stage's bundle is missing; the imported backbone's problems throw with their reason. */
export async function readStartWeights(runDir: string, which: Exclude<StartWeights, null>, ps: ParamStore): Promise<Params | null> {
  return which === INIT_WEIGHTS ? readInitBackbone(runDir, backboneShapesOf(ps)) : readWeights(runDir, which)
}
