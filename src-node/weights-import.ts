// A .safetensors backbone a run starts from (backbone.init of kind 'file'): checked against the
// run's architecture and width when the run is created (the host, without TensorFlow), copied
// into the run folder with its SHA-256 in run.json, and read back by the engine, which checks the
// copy's hash again so a file changed since is noticed rather than trained from.
import { createHash } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { SafetensorsError, decodeSafetensors } from './safetensors'
import { WeightsMismatchError, fromTorch, type Params } from './torch-weights'
import { writeFileAtomic } from './fsutil'
import { runPaths } from './run-folder'
import { backboneShapes } from '../src-shared/backbone-shapes'
import type { AlexnetArch } from '../src-shared/config/names'

/** The file cannot be used; the message names the file and the first problem. */
export class WeightsImportError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'WeightsImportError'
  }
}

export interface CheckedBackbone {
  bytes: Uint8Array
  sha256: string
  /** Quarterturn parameters, by Quarterturn name. */
  params: Params
  /** Tensors of the file this backbone does not use (heads, a classifier). */
  unused: string[]
  metadata: Record<string, string>
}

const sha256Of = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Decode `bytes` and convert them for a backbone of these Quarterturn shapes; errors name `label` and the first mismatch. */
export function convertBackbone(bytes: Uint8Array, expected: Record<string, number[]>, label: string): CheckedBackbone {
  try {
    const { tensors, metadata } = decodeSafetensors(bytes, label)
    const { params, unused } = fromTorch(tensors, expected, label)
    return { bytes, sha256: sha256Of(bytes), params, unused, metadata }
  } catch (err) {
    if (err instanceof SafetensorsError || err instanceof WeightsMismatchError) throw new WeightsImportError(err.message)
    throw err
  }
}

/** Read and check a weights file for a backbone of `arch` at `width`. */
export async function checkBackboneFile(file: string, arch: AlexnetArch, width: number): Promise<CheckedBackbone> {
  if (!path.isAbsolute(file)) throw new WeightsImportError(`backbone.init.path: "${file}" is not an absolute path: give the full path of the .safetensors file`)
  let bytes: Uint8Array
  try {
    bytes = await fs.readFile(file)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new WeightsImportError(
      code === 'ENOENT'
        ? `backbone.init.path: there is no file ${file}`
        : code === 'EISDIR'
          ? `backbone.init.path: ${file} is a folder, not a .safetensors file`
          : `backbone.init.path: cannot read ${file} (${(err as Error).message})`
    )
  }
  const checked = convertBackbone(bytes, backboneShapes(arch, width), file)
  const meta = checked.metadata
  // An exported Quarterturn file says what it was trained as; a converted PyTorch one may not.
  if (meta.arch && meta.arch !== arch)
    throw new WeightsImportError(`${file} holds an ${meta.arch} backbone (metadata "arch") but this run's backbone is ${arch}: choose ${meta.arch}`)
  return checked
}

/** Copy a checked file into a new run's folder; what run.json records about it. */
export async function copyInitBackbone(runDir: string, source: string, checked: CheckedBackbone): Promise<{ source: string; sha256: string; bytes: number }> {
  await writeFileAtomic(runPaths(runDir).initBackbone, checked.bytes)
  return { source, sha256: checked.sha256, bytes: checked.bytes.byteLength }
}

/**
 * The imported backbone of a run, for a model whose backbone parameters have `expected` shapes
 * (Quarterturn's, from the engine's ParamStore). The copy's SHA-256 must be the one run.json
 * recorded when the run was created.
 */
export async function readInitBackbone(runDir: string, expected: Record<string, number[]>): Promise<Params> {
  const p = runPaths(runDir)
  const run = JSON.parse(await fs.readFile(p.run, 'utf8')) as { backboneInit?: { sha256: string; source: string } }
  if (!run.backboneInit) throw new WeightsImportError(`run.json records no imported backbone, though the config names one: create the run again`)
  let bytes: Uint8Array
  try {
    bytes = await fs.readFile(p.initBackbone)
  } catch (err) {
    throw new WeightsImportError(`the run's copy of its starting backbone (${p.initBackbone}) cannot be read (${(err as Error).message}): create the run again`)
  }
  const sha = sha256Of(bytes)
  if (sha !== run.backboneInit.sha256)
    throw new WeightsImportError(
      `the run's copy of its starting backbone (${p.initBackbone}) changed since the run was created (SHA-256 ${sha.slice(0, 12)}…, recorded ${run.backboneInit.sha256.slice(0, 12)}…): restore it from ${run.backboneInit.source}, or create the run again`
    )
  return convertBackbone(bytes, expected, p.initBackbone).params
}
