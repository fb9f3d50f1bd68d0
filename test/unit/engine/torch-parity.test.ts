// Quarterturn against its PyTorch twin (tools/torch-twin, written from method-spec): the engine
// writes parity traces (src-engine/parity/trace.ts) and Debian's python3-torch replays them.
//   - features: the exported backbone, loaded into the twin's AlexNet, gives Quarterturn's fc
//     features on 64 images at input 64 (alexnet64) and 224 (alexnet224), to 1e-4 relative;
//   - every method: 20 training steps from the same weights and batches give the same losses
//     (1e-3 relative, each step) and the same final parameters and BatchNorm buffers (1e-3);
//   - a linear probe from the same init on the same batches reaches the same accuracy (within 1
//     point), and kNN makes the same predictions.
// Relative error of a tensor: max_i |qt_i - twin_i| / max_i |twin_i|; of a loss: |qt - twin| / |twin|.
// Random pixels (labels of the sample kept): with flat drawings, pooled activations tie to the
// last bit and a tie broken differently routes a gradient elsewhere (test/helpers/step-check.ts).
// Skips, saying why, when /usr/bin/python3 cannot import torch (.ci/run installs python3-torch).
import { spawnSync } from 'node:child_process'
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { selectBackend } from '../../../src-engine/backends'
import { writeTrace } from '../../../src-engine/parity/trace'
import { Trainer } from '../../../src-engine/trainer'
import { extractFeatures } from '../../../src-engine/eval/features'
import { knnClassify, trainProbe } from '../../../src-engine/eval/probes'
import { ParamStore } from '../../../src-engine/models/params'
import { Dense } from '../../../src-engine/models/layers'
import { lrAt } from '../../../src-engine/optim/schedule'
import { decodeSafetensors, encodeSafetensors } from '../../../src-node/safetensors'
import { fromTorch } from '../../../src-node/torch-weights'
import { AlexNet } from '../../../src-engine/models/alexnet'
import { newCtx } from '../../../src-engine/models/layers'
import * as tf from '@tensorflow/tfjs-core'
import { generateSampleDataset } from '../../../src-shared/sample-dataset'
import { parseTrainConfig, type MethodName } from '../../../src-shared/config/train'
import type { ImageSet } from '../../../src-shared/image-set'
import { Rng } from '../../../src-shared/rng'
import { withNoisePixels } from '../../helpers/step-check'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'

const PYTHON = '/usr/bin/python3'
const TWIN = path.resolve(__dirname, '../../../tools/torch-twin')
const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' })
const torchMissing =
  probe.status === 0
    ? null
    : `${PYTHON} cannot import torch (${(probe.stderr || String(probe.error)).trim().split('\n').at(-1)}); apt-get install python3-torch`
if (torchMissing) console.log(`torch-parity tests skipped: ${torchMissing}`)

const METHODS: MethodName[] = ['rotnet', 'rfd', 'rfd-contrastive', 'simclr', 'supervised']
const STEPS = 20
const data = withNoisePixels(generateSampleDataset({ perClass: 10, size: 64, seed: 3 }))

function methodConfig(method: MethodName): Record<string, unknown> {
  if (method === 'rfd') return { method, nceK: 16 }
  return { method }
}

function config(method: MethodName, arch: 'alexnet64' | 'alexnet224' = 'alexnet64') {
  return parseTrainConfig({
    seed: 1,
    backbone: { arch, width: 0.0625 },
    method: methodConfig(method),
    optimizer: { kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 },
    schedule: { kind: 'cosine', base: 0.03, min: 0, warmupEpochs: 0 },
    batchSize: 8,
    epochs: 2,
    hflip: false
  })
}

type Tensors = Record<string, { shape: number[]; values: Float32Array }>
const load = (file: string): Tensors => decodeSafetensors(readFileSync(file), file).tensors
const json = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>

function relError(qt: Float32Array, twin: Float32Array): number {
  expect(qt.length).toBe(twin.length)
  let diff = 0
  let max = 0
  for (let i = 0; i < qt.length; i++) {
    diff = Math.max(diff, Math.abs(qt[i]! - twin[i]!))
    max = Math.max(max, Math.abs(twin[i]!))
  }
  return max === 0 ? diff : diff / max
}

function runTwin(args: string[]): void {
  const r = spawnSync(PYTHON, [path.join(TWIN, 'replay.py'), ...args], { encoding: 'utf8', timeout: 120_000 })
  if (r.status !== 0) throw new Error(`replay.py failed (${r.status}): ${r.stderr}`)
}

describe.skipIf(torchMissing !== null)('PyTorch twin parity', () => {
  const dirs: Record<string, string> = {}
  let probeDir = ''
  let convertDir = ''

  beforeAll(async () => {
    await selectBackend('wasm')
    const root = tmpDir('qt-parity-')
    for (const m of METHODS) {
      dirs[m] = path.join(root, m)
      writeTrace({ config: config(m), data, steps: STEPS, dir: dirs[m]! })
    }
    dirs.alexnet224 = path.join(root, 'alexnet224')
    writeTrace({ config: { ...config('rotnet', 'alexnet224'), batchSize: 4 }, data, steps: 2, dir: dirs.alexnet224 })
    probeDir = path.join(root, 'probe')
    writeProbeTrace(probeDir)
    runTwin([...Object.values(dirs), '--probe', probeDir])
    convertDir = path.join(root, 'convert')
    mkdirSync(convertDir)
    const r = spawnSync(PYTHON, ['-c', CHECKPOINT_PY, TWIN, convertDir, path.join(dirs.rotnet!, 'features.safetensors')], { encoding: 'utf8', timeout: 60_000 })
    if (r.status !== 0) throw new Error(`checkpoint script failed: ${r.stderr}`)
    const c = spawnSync(PYTHON, [path.join(TWIN, 'convert.py'), path.join(convertDir, 'official.pth'), path.join(convertDir, 'official.safetensors')], {
      encoding: 'utf8',
      timeout: 60_000
    })
    if (c.status !== 0) throw new Error(`convert.py failed: ${c.stderr}`)
  }, 240_000)
  afterAll(cleanupTmp)

  it.each(['rotnet', 'alexnet224'])('features of the exported backbone agree to 1e-4 (%s trace: alexnet64 / alexnet224, 64 images)', (name) => {
    const qt = load(path.join(dirs[name]!, 'features.safetensors'))
    const twin = load(path.join(dirs[name]!, 'twin-features.safetensors'))
    expect(qt.images!.shape[0]).toBe(64)
    expect(qt.images!.shape[1]).toBe(name === 'rotnet' ? 64 : 224)
    expect(relError(qt.fc!.values, twin.fc!.values)).toBeLessThan(1e-4)
  })

  it.each(METHODS)('%s: 20 steps from the same weights and batches give the same losses and final parameters', (method) => {
    const dir = dirs[method]!
    const qt = json(path.join(dir, 'trace.json')) as { metrics: Record<string, number>[]; lrs: number[] }
    const synced = json(path.join(dir, 'twin-synced.json')) as { metrics: Record<string, number>[] }
    const free = json(path.join(dir, 'twin.json')) as { metrics: Record<string, number>[] }
    expect(qt.metrics).toHaveLength(STEPS)
    expect(synced.metrics).toHaveLength(STEPS)
    expect(new Set(qt.lrs).size).toBeGreaterThan(1) // the cosine schedule moves within the run
    const lossError = (twin: Record<string, number>[], i: number): [number, string] => {
      let worst: [number, string] = [0, '']
      for (const [k, v] of Object.entries(twin[i]!)) {
        if (k.startsWith('acc')) continue
        const e = Math.abs(qt.metrics[i]![k]! - v) / Math.abs(v)
        if (!(e <= worst[0])) worst = [e, `step ${i} ${k}: Quarterturn ${qt.metrics[i]![k]}, PyTorch ${v}`]
      }
      return worst
    }
    for (let i = 0; i < STEPS; i++) {
      const [e, what] = lossError(synced.metrics, i)
      expect(e, what).toBeLessThan(1e-3)
    }
    // Left to run on their own, the two stay together until a pooling window whose two largest
    // values differ by rounding routes its gradient to another pixel (see docs/parity.md).
    expect(lossError(free.metrics, 0)[0]).toBeLessThan(1e-5)
    expect(lossError(free.metrics, 1)[0]).toBeLessThan(1e-3)
    const a = load(path.join(dir, 'final.safetensors'))
    const b = load(path.join(dir, 'twin-synced-final.safetensors'))
    expect(Object.keys(a).sort()).toEqual(Object.keys(b).sort())
    let worst = 0
    for (const k of Object.keys(b)) {
      expect(a[k]!.shape, k).toEqual(b[k]!.shape)
      if (k.endsWith('num_batches_tracked')) expect([a[k]!.values[0], b[k]!.values[0]], k).toEqual([STEPS, STEPS])
      const e = relError(a[k]!.values, b[k]!.values)
      expect(e, k).toBeLessThan(1e-3)
      worst = Math.max(worst, e)
    }
    const freeFinal = load(path.join(dir, 'twin-final.safetensors'))
    const freeWorst = Math.max(...Object.keys(b).map((k) => relError(a[k]!.values, freeFinal[k]!.values)))
    const freeLoss = Math.max(...free.metrics.map((_, i) => lossError(free.metrics, i)[0]))
    console.log(
      `${method}: step-synced worst loss error ${Math.max(...synced.metrics.map((_, i) => lossError(synced.metrics, i)[0])).toExponential(1)}, final weights ${worst.toExponential(1)}; free-running worst loss ${freeLoss.toExponential(1)}, final weights ${freeWorst.toExponential(1)}`
    )
  })

  it('a torch.save checkpoint converted by convert.py imports into Quarterturn and gives PyTorch features (1e-4)', () => {
    const file = path.join(convertDir, 'official.safetensors')
    const { tensors, metadata } = decodeSafetensors(readFileSync(file), file)
    expect(metadata.format).toBe('pt')
    expect(tensors['_feature_blocks.0.1.num_batches_tracked']!.dtype).toBe('I64')
    const ps = new ParamStore(new Rng(1))
    const net = new AlexNet(ps, { arch: 'alexnet64', width: 0.0625 })
    const expected = Object.fromEntries([...ps.trainable, ...ps.buffers].map(([k, v]) => [k, v.shape]))
    const { params, unused } = fromTorch(tensors, expected, file)
    expect(unused).toEqual([])
    ps.load(params)
    const feats = load(path.join(dirs.rotnet!, 'features.safetensors'))
    const x = tf.tensor4d(feats.images!.values, feats.images!.shape as [number, number, number, number])
    const fc = net.forward(x, newCtx(false)).fc
    const torchFc = load(path.join(convertDir, 'features.safetensors')).fc!
    expect(relError(fc.dataSync() as Float32Array, torchFc.values)).toBeLessThan(1e-4)
    tf.dispose([x, fc])
    ps.dispose()
  })

  it('a linear probe from the same init on the same batches reaches the same accuracy; kNN predicts the same', () => {
    const qt = json(path.join(probeDir, 'probe.json')) as { accuracy: number; losses: number[]; knn: number[] }
    const twin = json(path.join(probeDir, 'twin-probe.json')) as { accuracy: number; losses: number[]; knn: number[] }
    expect(Math.abs(qt.accuracy - twin.accuracy)).toBeLessThanOrEqual(0.01)
    for (let e = 0; e < qt.losses.length; e++) expect(Math.abs(qt.losses[e]! - twin.losses[e]!) / twin.losses[e]!).toBeLessThan(1e-3)
    expect(twin.knn).toEqual(qt.knn)
  })
})

/** A twin AlexNet with trained-looking BatchNorm statistics, torch.save'd as the official checkpoints are, and its features. */
const CHECKPOINT_PY = `
import sys, os
sys.path.insert(0, sys.argv[1])
import torch, model, safetensors_io
torch.manual_seed(0)
net = model.AlexNet('alexnet64', 0.0625)
with torch.no_grad():
    for mod in net.modules():
        if isinstance(mod, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            mod.running_mean.uniform_(-0.5, 0.5); mod.running_var.uniform_(0.5, 2.0)
            mod.weight.uniform_(0.5, 1.5); mod.bias.uniform_(-0.2, 0.2); mod.num_batches_tracked.fill_(7)
torch.save({'network': net.state_dict(), 'epoch': 200}, os.path.join(sys.argv[2], 'official.pth'))
images = safetensors_io.load(sys.argv[3])[0]['images']
net.eval()
with torch.no_grad():
    fc = net(model.nhwc_to_nchw(images))
safetensors_io.save(os.path.join(sys.argv[2], 'features.safetensors'), {'fc': fc})
`

/**
 * Conv5 features (max-pooled to 3x3) of a random-init backbone for a train and a test set; the
 * engine's linear probe on them, with the init and per-epoch orders it draws (the same draws
 * trainProbe makes from its seed), and kNN's confusion matrix.
 */
function writeProbeTrace(dir: string): void {
  const train = generateSampleDataset({ perClass: 10, size: 64, seed: 3 })
  const testSet = generateSampleDataset({ perClass: 5, size: 64, seed: 11 })
  const t = new Trainer(config('rotnet'), train)
  const fx = (s: ImageSet) => {
    const f = extractFeatures(t.backbone, s, { layer: 'conv5', pool: 3 })
    return { data: f.data, dim: f.dim, labels: s.labels, n: s.n }
  }
  const tr = fx(train)
  const te = fx(testSet)
  t.dispose()
  const o = {
    kind: 'linear' as const,
    classes: 10,
    epochs: 8,
    batchSize: 16,
    schedule: { kind: 'cosine' as const, base: 0.1, min: 0, warmupEpochs: 0, epochs: 8 },
    weightDecay: 5e-4,
    seed: 7
  }
  const result = trainProbe(tr, te, o)
  // The draws trainProbe makes: the probe's Dense init from Rng(seed), then one shuffle per epoch.
  const rng = new Rng(o.seed)
  const ps = new ParamStore(rng)
  const fc = new Dense(ps, 'probe.fc', tr.dim, o.classes)
  const w = fc.w.dataSync() as Float32Array
  const wt = new Float32Array(w.length)
  for (let i = 0; i < tr.dim; i++) for (let c = 0; c < o.classes; c++) wt[c * tr.dim + i] = w[i * o.classes + c]!
  const bias = Float32Array.from(fc.b!.dataSync())
  ps.dispose()
  const order = Int32Array.from({ length: tr.n }, (_, i) => i)
  const orders = new BigInt64Array(o.epochs * tr.n)
  for (let e = 0; e < o.epochs; e++) {
    for (let i = tr.n - 1; i > 0; i--) {
      const j = rng.int(i + 1)
      ;[order[i], order[j]] = [order[j]!, order[i]!]
    }
    order.forEach((v, i) => (orders[e * tr.n + i] = BigInt(v)))
  }
  const knn = knnClassify(tr, te, 10, 20, 0.07)
  const i64 = (a: ArrayLike<number>) => BigInt64Array.from(Array.from(a), (v) => BigInt(v))
  mkdirSync(dir, { recursive: true })
  writeFileSync(
    path.join(dir, 'probe.safetensors'),
    encodeSafetensors({
      train_x: { dtype: 'F32', shape: [tr.n, tr.dim], data: tr.data },
      train_y: { dtype: 'I64', shape: [tr.n], data: i64(tr.labels) },
      test_x: { dtype: 'F32', shape: [te.n, te.dim], data: te.data },
      test_y: { dtype: 'I64', shape: [te.n], data: i64(te.labels) },
      init_weight: { dtype: 'F32', shape: [o.classes, tr.dim], data: wt },
      init_bias: { dtype: 'F32', shape: [o.classes], data: bias },
      orders: { dtype: 'I64', shape: [o.epochs, tr.n], data: orders }
    })
  )
  const lrs = Array.from({ length: o.epochs }, (_, e) => lrAt(o.schedule, e))
  // kNN predictions as (true, predicted) counts, row-major.
  writeFileSync(
    path.join(dir, 'probe.json'),
    JSON.stringify({
      classes: o.classes,
      epochs: o.epochs,
      batchSize: o.batchSize,
      weightDecay: o.weightDecay,
      lrs,
      accuracy: result.accuracy,
      losses: result.losses,
      knnK: 20,
      knnT: 0.07,
      knn: knn.confusion.flat()
    })
  )
}
