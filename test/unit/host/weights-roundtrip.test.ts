// Weights out and back in through the CLI, in-process: a tiny pretrained run is exported with
// `export-weights` (PyTorch layout, provenance in the metadata, num_batches_tracked = the steps
// taken), then a new run with pretraining off evaluates that file as its frozen backbone and must
// score exactly what the source run scored on the same backbone; a run of another width is refused
// with the first mismatched tensor named, and the run folder holds a copy checked by SHA-256.
import { createHash } from 'node:crypto'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeSafetensors } from '../../../src-node/safetensors'
import { readMetrics } from '../../../src-node/metrics-log'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { runCli } from '../../helpers/cli'
import { smallMethodConfig } from '../../helpers/step-check'

afterEach(cleanupTmp)

type RunJson = { id: string; state: string; error: string | null; accuracies: Record<string, number> }
const lastJson = <T>(out: string): T => JSON.parse(out.trim().split('\n').at(-1)!) as T

describe('export-weights, then a run that starts from the file', () => {
  it('gives the imported backbone the same evaluations as the run that trained it', async () => {
    const ws = tmpDir('qt-weights-ws-')
    const cfg = tmpDir('qt-weights-cfg-')
    const dir = tmpDir('qt-weights-files-')
    const base = {
      backend: 'wasm',
      seed: 3,
      dataset: { kind: 'sample', perClass: 3, testPerClass: 2, size: 32 },
      backbone: { arch: 'alexnet32', width: 0.0625 },
      evaluation: { linear: { epochs: 2 }, knn: { k: 3 } }
    }
    const source = path.join(dir, 'source.json')
    writeFileSync(source, JSON.stringify({ ...base, name: 'source', pretrain: { epochs: 1, batchSize: 8, method: smallMethodConfig('rotnet', 8) } }))
    process.env.QUARTERTURN_WORKSPACE = ws
    try {
      const a = await runCli(['run', source, '--json', '--config-dir', cfg])
      expect(a.code, a.err).toBe(0)
      const src = lastJson<RunJson>(a.out)
      expect(src.state).toBe('done')

      const out = path.join(dir, 'out', 'rotnet.safetensors')
      const ex = await runCli(['export-weights', src.id, '--out', out, '--json', '--config-dir', cfg])
      expect(ex.code, ex.err).toBe(0)
      const info = lastJson<{ path: string; tensors: number; bytes: number; sha256: string; metadata: Record<string, string> }>(ex.out)
      const bytes = readFileSync(out)
      expect(info.path).toBe(out)
      expect(info.bytes).toBe(bytes.byteLength)
      expect(info.sha256).toBe(createHash('sha256').update(bytes).digest('hex'))
      const file = decodeSafetensors(bytes)
      // 5 convs (weight, bias) + 2 fc weights, 7 BatchNorms of 5 tensors each.
      expect(info.tensors).toBe(5 * 2 + 2 + 7 * 5)
      expect(Object.keys(file.tensors).length).toBe(info.tensors)
      expect(file.tensors['_feature_blocks.0.0.weight']!.shape).toEqual([4, 3, 3, 3])
      expect(file.tensors['_feature_blocks.8.1.weight']!.shape).toEqual([256, 3 * 3 * 16])
      const steps = (await readMetrics(path.join(ws, 'runs', src.id, 'metrics.jsonl'))).filter((r) => r.stage === 'pretrain').length
      expect(steps).toBeGreaterThan(0)
      expect(file.tensors['_feature_blocks.6.1.num_batches_tracked']!.values[0]).toBe(steps)
      expect(file.metadata).toMatchObject({
        format: 'quarterturn-alexnet/1',
        arch: 'alexnet32',
        width: '0.0625',
        input_size: '32',
        channel_order: 'RGB',
        normalization_mean: '[0.485,0.456,0.406]',
        normalization_std: '[0.229,0.224,0.225]',
        run_id: src.id,
        method: 'rotnet',
        stage: 'pretrain',
        epochs: '1',
        steps: String(steps),
        seed: '3',
        heads: 'none'
      })
      expect(file.metadata.config_hash).toMatch(/^[0-9a-f]{16}$/)

      // Heads too: the rotation classifier keeps its Quarterturn name.
      const withHeads = await runCli(['export-weights', src.id, '--heads', '--out', path.join(dir, 'heads.safetensors'), '--config-dir', cfg])
      expect(withHeads.code, withHeads.err).toBe(0)
      expect(Object.keys(decodeSafetensors(readFileSync(path.join(dir, 'heads.safetensors'))).tensors).some((k) => k.startsWith('rot_head.'))).toBe(true)

      // The frozen backbone: pretraining off, the file as the start (a path relative to the config file).
      const imported = path.join(dir, 'imported.json')
      writeFileSync(
        imported,
        JSON.stringify({
          ...base,
          name: 'imported',
          pretrain: { enabled: false, method: { method: 'rotnet' } },
          backbone: { ...base.backbone, init: { kind: 'file', path: 'out/rotnet.safetensors' } }
        })
      )
      const b = await runCli(['run', imported, '--json', '--config-dir', cfg])
      expect(b.code, b.err).toBe(0)
      const dst = lastJson<RunJson>(b.out)
      expect(dst.state).toBe('done')
      expect(Object.keys(dst.accuracies).sort()).toEqual(Object.keys(src.accuracies).sort())
      expect(dst.accuracies).toEqual(src.accuracies)
      // Not only the accuracies: every prediction (the confusion matrices) is the same.
      const results = (id: string): { id: string; confusion?: unknown; accuracy: number }[] =>
        (
          JSON.parse(readFileSync(path.join(ws, 'runs', id, 'artifacts', 'results.json'), 'utf8')) as {
            evaluations: { id: string; confusion?: unknown; accuracy: number }[]
          }
        ).evaluations
      const strip = (es: ReturnType<typeof results>) =>
        es.map((e) => ({ id: e.id, accuracy: e.accuracy, confusion: e.confusion })).sort((x, y) => x.id.localeCompare(y.id))
      expect(strip(results(dst.id))).toEqual(strip(results(src.id)))
      expect(results(dst.id).every((e) => e.confusion !== undefined)).toBe(true)
      // ... and that is the imported backbone's doing: the same run from random init predicts otherwise.
      const control = path.join(dir, 'control.json')
      writeFileSync(control, JSON.stringify({ ...base, name: 'control', pretrain: { enabled: false, method: { method: 'rotnet' } } }))
      const c = await runCli(['run', control, '--json', '--config-dir', cfg])
      expect(c.code, c.err).toBe(0)
      expect(strip(results(lastJson<RunJson>(c.out).id))).not.toEqual(strip(results(src.id)))

      // The run folder holds the copy, and run.json its source and SHA-256.
      const runJson = JSON.parse(readFileSync(path.join(ws, 'runs', dst.id, 'run.json'), 'utf8')) as {
        backboneInit: { source: string; sha256: string; bytes: number }
        config: { backbone: { init: { path: string } } }
      }
      expect(runJson.backboneInit).toEqual({ source: out, sha256: info.sha256, bytes: info.bytes })
      expect(runJson.config.backbone.init.path).toBe(out)
      expect(readFileSync(path.join(ws, 'runs', dst.id, 'artifacts', 'backbone-init.safetensors')).equals(bytes)).toBe(true)

      // Pretraining from the file: the run says where it starts, and trains on from there.
      const further = path.join(dir, 'further.json')
      writeFileSync(
        further,
        JSON.stringify({
          ...base,
          name: 'further',
          evaluation: { linear: { enabled: false }, knn: { k: 3 } },
          pretrain: { epochs: 1, batchSize: 8, method: smallMethodConfig('rotnet', 8) },
          backbone: { ...base.backbone, init: { kind: 'file', path: out } }
        })
      )
      const f = await runCli(['run', further, '--json', '--config-dir', cfg])
      expect(f.code, f.err).toBe(0)
      const furtherId = lastJson<RunJson>(f.out).id
      expect(readFileSync(path.join(ws, 'runs', furtherId, 'log.jsonl'), 'utf8')).toContain('Pretraining starts from the imported backbone')

      // The report says where a run's backbone came from, and how to get the weights.
      const rep = await runCli(['export', src.id, dst.id, '--report', '--config-dir', cfg])
      expect(rep.code, rep.err).toBe(0)
      const reportDir = /Report written to (.*)/.exec(rep.out)![1]!
      const md = readFileSync(path.join(reportDir, 'report.md'), 'utf8')
      expect(md).toContain(`backbone from ${out}`)
      expect(md).toMatch(/Trained weights: quarterturn export-weights .*docs\/weights\.md/)

      // Nothing trained, nothing to export: the message says so.
      const none = await runCli(['export-weights', dst.id, '--config-dir', cfg])
      expect(none.code).toBe(2)
      expect(none.err).toMatch(/trains no backbone .*imported backbone it was created with/)

      // Another width: refused before any folder is made, naming the first tensor that differs.
      const wider = path.join(dir, 'wider.json')
      writeFileSync(
        wider,
        JSON.stringify({
          ...base,
          name: 'wider',
          pretrain: { enabled: false, method: { method: 'rotnet' } },
          backbone: { arch: 'alexnet32', width: 0.125, init: { kind: 'file', path: out } }
        })
      )
      const w = await runCli(['run', wider, '--config-dir', cfg])
      expect(w.code).toBe(2)
      expect(w.err).toContain(`${out}: _feature_blocks.0.0.weight has shape [4,3,3,3] but this run's backbone needs [8,3,3,3] (conv1.weight)`)
      const list = await runCli(['list', '--json', '--config-dir', cfg])
      const listed = JSON.parse(list.out) as { name: string; method: string }[]
      expect(listed.map((r) => [r.name, r.method]).sort()).toEqual([
        ['control', 'random-init'],
        ['further', 'rotnet'],
        ['imported', 'imported'],
        ['source', 'rotnet']
      ])
    } finally {
      delete process.env.QUARTERTURN_WORKSPACE
    }
  }, 240_000)
})
