// The errors of exporting and importing weights, on run folders and files made in the test: a run
// whose stage has not finished, a stage it does not have, an unwritable output, a weights file
// that is missing, relative, of another architecture, or whose copy in the run folder changed.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { exportRunWeights, writeWeightsExport } from '../../../src-node/weights-export'
import { WeightsImportError, checkBackboneFile, copyInitBackbone, readInitBackbone } from '../../../src-node/weights-import'
import { makeRunFolder, runPaths, writeWeights } from '../../../src-node/run-folder'
import { encodeSafetensors } from '../../../src-node/safetensors'
import { toTorch, type Params } from '../../../src-node/torch-weights'
import { backboneShapes } from '../../../src-shared/backbone-shapes'
import { parseRunConfig } from '../../../src-shared/config/run'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'

afterEach(cleanupTmp)

const shapes = backboneShapes('alexnet32', 0.0625)
const params = (): Params =>
  Object.fromEntries(Object.entries(shapes).map(([k, s], i) => [k, { shape: s, data: new Float32Array(s.reduce((a, b) => a * b, 1)).fill(i / 10) }]))

async function runFolder(config: unknown): Promise<string> {
  const dir = path.join(tmpDir(), 'r1')
  await makeRunFolder(dir)
  await fs.writeFile(
    runPaths(dir).run,
    JSON.stringify({ id: 'r1', config: parseRunConfig(config), configHash: 'abc', seed: 1, datasets: [{ label: 'sample' }] })
  )
  return dir
}

describe('exportRunWeights', () => {
  it('says which stage to let finish, and which stages a run has', async () => {
    const dir = await runFolder({ backbone: { arch: 'alexnet32', width: 0.0625 } })
    await expect(exportRunWeights(dir, { version: 't' })).rejects.toThrow(
      /run r1 has no trained pretrain weights yet: let its pretrain stage finish \(quarterturn resume r1\)/
    )
    await expect(exportRunWeights(dir, { version: 't', stage: 'finetune' })).rejects.toThrow(
      /run r1 has no finetune stage \(it trains: pretrain\): choose --stage pretrain/
    )
    await writeWeights(dir, 'backbone-pretrain', params())
    const e = await exportRunWeights(dir, { version: 't' })
    expect(e.stage).toBe('pretrain')
    expect(e.metadata.steps).toBe('0') // no metrics recorded: num_batches_tracked 0
    await expect(exportRunWeights(dir, { version: 't', heads: true })).rejects.toThrow(/has not finished pretraining, so its heads are not saved yet/)
  })

  it('names an output it cannot write', async () => {
    const dir = await runFolder({ backbone: { arch: 'alexnet32', width: 0.0625 } })
    await writeWeights(dir, 'backbone-pretrain', params())
    const e = await exportRunWeights(dir, { version: 't' })
    const blocker = path.join(tmpDir(), 'a-file')
    await fs.writeFile(blocker, 'x')
    await expect(writeWeightsExport(path.join(blocker, 'w.safetensors'), e)).rejects.toThrow(
      /cannot write .*a-file\/w\.safetensors: .*choose another place with --out/
    )
  })
})

describe('imported backbones', () => {
  it('checks the file: absolute path, present, the right architecture', async () => {
    const file = path.join(tmpDir(), 'w.safetensors')
    await expect(checkBackboneFile('w.safetensors', 'alexnet32', 0.0625)).rejects.toThrow(/"w\.safetensors" is not an absolute path/)
    await expect(checkBackboneFile(file, 'alexnet32', 0.0625)).rejects.toThrow(`backbone.init.path: there is no file ${file}`)
    await fs.writeFile(file, encodeSafetensors(toTorch(params()), { arch: 'alexnet64' }))
    // alexnet64's conv1 is 5x5: the shapes differ before the metadata is looked at.
    await expect(checkBackboneFile(file, 'alexnet64', 0.0625)).rejects.toThrow(
      /_feature_blocks\.0\.0\.weight has shape \[4,3,3,3\] but this run's backbone needs \[4,3,5,5\]/
    )
    await expect(checkBackboneFile(file, 'alexnet32', 0.0625)).rejects.toThrow(
      /holds an alexnet64 backbone \(metadata "arch"\) but this run's backbone is alexnet32/
    )
    await fs.writeFile(file, 'not weights at all')
    await expect(checkBackboneFile(file, 'alexnet32', 0.0625)).rejects.toThrow(WeightsImportError)
  })

  it('reads the run folder copy back exactly, and refuses it once it changed', async () => {
    const file = path.join(tmpDir(), 'w.safetensors')
    const p = params()
    await fs.writeFile(file, encodeSafetensors(toTorch(p, 5)))
    const dir = await runFolder({ backbone: { arch: 'alexnet32', width: 0.0625, init: { kind: 'file', path: file } }, pretrain: { enabled: false } })
    const checked = await checkBackboneFile(file, 'alexnet32', 0.0625)
    const record = await copyInitBackbone(dir, file, checked)
    const run = JSON.parse(await fs.readFile(runPaths(dir).run, 'utf8')) as Record<string, unknown>
    await fs.writeFile(runPaths(dir).run, JSON.stringify({ ...run, backboneInit: record }))
    const back = await readInitBackbone(dir, shapes)
    for (const k of Object.keys(shapes)) expect(back[k]!.data).toEqual(p[k]!.data)
    const copy = await fs.readFile(runPaths(dir).initBackbone)
    copy.writeUInt8(copy.readUInt8(copy.length - 1) ^ 1, copy.length - 1)
    await fs.writeFile(runPaths(dir).initBackbone, copy)
    await expect(readInitBackbone(dir, shapes)).rejects.toThrow(
      /copy of its starting backbone .* changed since the run was created .*restore it from .*w\.safetensors/
    )
  })

  it('config: a file init needs a .safetensors path; random init is the default', () => {
    expect(parseRunConfig({}).backbone.init).toEqual({ kind: 'random' })
    expect(() => parseRunConfig({ backbone: { init: { kind: 'file', path: '/x/w.pth' } } })).toThrow(
      /backbone\.init\.path: a weights file ends in \.safetensors/
    )
    expect(() => parseRunConfig({ backbone: { init: { kind: 'file' } } })).toThrow(/backbone\.init\.path: give the path of a \.safetensors file/)
    expect(() => parseRunConfig({ backbone: { init: { kind: 'url', path: 'x' } } })).toThrow(/backbone\.init/)
  })
})
