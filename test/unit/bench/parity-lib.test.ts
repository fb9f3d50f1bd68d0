// The parity bench's pure parts (bench/parity-lib.ts): its arguments and their messages, the
// config each side gets, the mean ± sd / Welch summary and the printed table, and the generated
// dataset it writes (PNG files that decode to exactly the drawn images). No training, no torch.
import { describe, expect, it } from 'vitest'
import { promises as fs } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import {
  compareSides,
  fmtDifference,
  fmtMeanSd,
  formatParityReport,
  parseParityArgs,
  pytorchArgs,
  quarterturnConfig,
  summarise,
  writeGeneratedDataset,
  type ParityOptions,
  type ParityReport,
  type SeedResult
} from '../../../bench/parity-lib'
import { parseRunConfig } from '../../../src-shared/config/run'
import { SAMPLE_CLASSES, generateSampleDataset } from '../../../src-shared/sample-dataset'
import { decodeImage } from '../../../src-host/datasets/decode'

const ok = (argv: string[]): ParityOptions => {
  const o = parseParityArgs(argv)
  if (o instanceof Error) throw o
  return o
}

describe('parseParityArgs', () => {
  it('defaults to the comparison protocol', () => {
    const o = ok(['--dataset', '/data/x'])
    expect(o).toMatchObject({
      method: 'rotnet',
      dataset: '/data/x',
      generate: null,
      seeds: [0, 1, 2],
      epochs: 10,
      width: 0.25,
      batch: 64,
      lr: 0.05,
      probeEpochs: 30,
      probeBatch: 128,
      probeLr: 0.1,
      knnK: 200,
      knnT: 0.07,
      sides: ['quarterturn', 'pytorch'],
      json: false
    })
  })

  it('takes flags, seed lists, one seed and one side', () => {
    const o = ok([
      '--method',
      'random',
      '--generate',
      '/tmp/g',
      '--per-class',
      '30',
      '--seeds',
      '0,4,7',
      '--epochs',
      '2',
      '--probe-epochs',
      '5',
      '--json',
      '--only',
      'pytorch'
    ])
    expect(o.method).toBe('random')
    expect(o.generate).toBe('/tmp/g')
    expect(o.dataset).toBeNull()
    expect(o.generatePerClass).toBe(30)
    expect(o.seeds).toEqual([0, 4, 7])
    expect(o.epochs).toBe(2)
    expect(o.probeEpochs).toBe(5)
    expect(o.json).toBe(true)
    expect(o.sides).toEqual(['pytorch'])
    expect(ok(['--dataset', 'sample', '--seeds', '1']).seeds).toEqual([0])
  })

  it('names the bad argument and what to give', () => {
    const msg = (argv: string[]): string => {
      const o = parseParityArgs(argv)
      expect(o).toBeInstanceOf(Error)
      return (o as Error).message.split('\n')[0]!
    }
    expect(msg([])).toMatch(/--dataset <folder>.*--generate <dir>/)
    expect(msg(['--dataset', 'x', '--method', 'simclr'])).toBe('--method must be one of rotnet, random, got "simclr"')
    expect(msg(['--dataset', 'x', '--epochs', '1.5'])).toBe('--epochs must be a whole number of at least 1 and at most 10000, got "1.5"')
    expect(msg(['--dataset', 'x', '--width', '5'])).toMatch(/^--width must be a number .* at most 2, got "5"/)
    expect(msg(['--dataset', 'x', '--seeds', 'a,b'])).toMatch(/^--seeds: /)
    expect(msg(['--dataset', 'x', '--only', 'tf'])).toBe('--only must be quarterturn or pytorch, got "tf"')
    expect(msg(['--dataset', 'x', '--bogus'])).toMatch(/bogus/)
  })
})

describe('the config of each side', () => {
  it('Quarterturn gets a valid run config with the protocol', () => {
    const o = ok(['--dataset', 'x', '--epochs', '3', '--probe-epochs', '7'])
    const c = parseRunConfig(quarterturnConfig(o, 4, { id: 'parity', testSplit: 'val' }))
    expect(c.seed).toBe(4)
    expect(c.dataset).toEqual({ kind: 'dataset', id: 'parity', trainSplit: 'train', testSplit: 'val' })
    expect(c.backbone).toMatchObject({ arch: 'alexnet64', width: 0.25 })
    expect(c.pretrain).toMatchObject({ enabled: true, epochs: 3, batchSize: 64, hflip: true, method: { method: 'rotnet', rotationHead: 'linear' } })
    expect(c.pretrain.optimizer).toEqual({ kind: 'sgd', momentum: 0.9, nesterov: true, weightDecay: 5e-4 })
    expect(c.pretrain.schedule).toEqual({ kind: 'cosine', base: 0.05, min: 0, warmupEpochs: 0 })
    expect(c.evaluation).toMatchObject({ layer: 'conv5', pool: 3, knn: { enabled: true, k: 200, temperature: 0.07 } })
    expect(c.evaluation.linear).toMatchObject({ enabled: true, epochs: 7, batchSize: 128, schedule: { kind: 'cosine', base: 0.1 } })
    expect(c.finetune.enabled).toBe(false)
    expect(parseRunConfig(quarterturnConfig(ok(['--dataset', 'x', '--method', 'random']), 0, { id: 'parity', testSplit: 'test' })).pretrain.enabled).toBe(false)
  })

  it('the PyTorch twin gets the same numbers', () => {
    const o = ok(['--dataset', 'x', '--epochs', '3', '--lr', '0.02', '--threads', '2'])
    const a = pytorchArgs(o, 5, '/tmp/files.json')
    const flag = (name: string): string | undefined => a[a.indexOf(name) + 1]
    expect(flag('--files')).toBe('/tmp/files.json')
    expect(flag('--seed')).toBe('5')
    expect(flag('--epochs')).toBe('3')
    expect(flag('--lr')).toBe('0.02')
    expect(flag('--width')).toBe('0.25')
    expect(flag('--batch')).toBe('64')
    expect(flag('--pool')).toBe('3')
    expect(flag('--layer')).toBe('conv5')
    expect(flag('--probe-epochs')).toBe('30')
    expect(flag('--probe-lr')).toBe('0.1')
    expect(flag('--probe-batch')).toBe('128')
    expect(flag('--threads')).toBe('2')
    expect(a.at(-1)).toBe('--json')
  })
})

const seedResult = (seed: number, probe: number, knn: number, loss: number | null = 0.5, acc: number | null = 80): SeedResult => ({
  seed,
  pretextLoss: loss,
  pretextAcc: acc,
  probeTop1: probe,
  knnTop1: knn,
  wallSec: 10 + seed
})

describe('summary and table', () => {
  it('mean ± sample sd, a lone value without sd, nothing for no values', () => {
    const s = summarise([80, 82, 84])!
    expect(s.mean).toBeCloseTo(82, 12)
    expect(s.sd).toBeCloseTo(2, 12)
    expect(s.n).toBe(3)
    expect(fmtMeanSd(s, 1)).toBe('82.0 ± 2.0')
    expect(fmtMeanSd(summarise([81.25]), 1)).toBe('81.3')
    expect(summarise([null, undefined, NaN])).toBeNull()
    expect(fmtMeanSd(null, 1)).toBe('-')
  })

  it('the difference of the means with Welch p, signed', () => {
    const q = [seedResult(0, 80, 70), seedResult(1, 82, 72), seedResult(2, 84, 74)]
    const p = [seedResult(0, 81, 60), seedResult(1, 83, 61), seedResult(2, 85, 62)]
    const rows = compareSides(q, p)
    const probe = rows.find((r) => r.metric === 'probeTop1')!
    expect(probe.difference!.value).toBeCloseTo(-1, 12)
    // Welch: equal sds 2, n 3: t = -1 / sqrt(4/3 + 4/3) = -0.612, df 4, two-sided p = 0.573.
    expect(probe.difference!.t).toBeCloseTo(-0.6124, 3)
    expect(probe.difference!.df).toBeCloseTo(4, 9)
    expect(probe.difference!.p).toBeCloseTo(0.5734, 3)
    expect(fmtDifference(probe.difference, 1)).toBe('-1.0 (Welch t p=0.57)')
    const knn = rows.find((r) => r.metric === 'knnTop1')!
    expect(fmtDifference(knn.difference, 1)).toMatch(/^\+11\.0 \(Welch t p=0\.0\d\d\)$/)
    // No spread at all on either side: no test, only the difference.
    const flat = compareSides([seedResult(0, 50, 50), seedResult(1, 50, 50)], [seedResult(0, 50, 50), seedResult(1, 50, 50)])
    expect(fmtDifference(flat.find((r) => r.metric === 'probeTop1')!.difference, 1)).toBe('0.0')
  })

  it('prints the heading, each seed of each side and the mean ± sd table', () => {
    const q = [seedResult(0, 80, 70), seedResult(1, 82, 72)]
    const p = [seedResult(0, 81, 60), seedResult(1, 83, 61)]
    const report: ParityReport = {
      method: 'rotnet',
      dataset: { path: '/data/shapes', train: 2000, test: 500, classes: 10 },
      config: { arch: 'alexnet64', width: 0.25, epochs: 10, batch: 64, lr: 0.05, probeEpochs: 30, probeBatch: 128, probeLr: 0.1 },
      seeds: [0, 1],
      quarterturn: q,
      pytorch: p,
      runtime: { quarterturn: 'backend wasm', pytorch: 'torch 1.13' },
      rows: compareSides(q, p)
    }
    const text = formatParityReport(report)
    const lines = text.split('\n')
    expect(lines[0]).toBe('method rotnet · 2 seeds · 10 epochs · dataset shapes (2000 train / 500 test, 10 classes) · alexnet64 w0.25')
    expect(text).toContain('quarterturn: backend wasm')
    expect(
      lines
        .find((l) => l.startsWith('1     quarterturn'))!
        .trim()
        .split(/\s+/)
    ).toEqual(['1', 'quarterturn', '0.500', '80.0', '82.0', '72.0', '11.0'])
    expect(lines.find((l) => l.startsWith('probe top-1'))).toMatch(/^probe top-1\s+81\.0 ± 1\.4\s+82\.0 ± 1\.4\s+-1\.0 \(Welch t p=0\.\d+\)$/)
    expect(lines.find((l) => l.startsWith('kNN top-1'))).toMatch(/^kNN top-1\s+71\.0 ± 1\.4\s+60\.5 ± 0\.7\s+\+10\.5/)
    expect(lines.find((l) => l.startsWith('wall time s'))).toMatch(/^wall time s\s+10\.5 ± 0\.7\s+10\.5 ± 0\.7\s+0\.0 \(Welch t p=1\.00\)$/)
    // A random-init comparison has no pretext rows or columns.
    const random = formatParityReport({
      ...report,
      method: 'random',
      rows: compareSides([seedResult(0, 50, 40, null, null)], [seedResult(0, 52, 41, null, null)])
    })
    expect(random).toContain('no pretraining')
    expect(random).not.toMatch(/pretext|pretraining batch/)
    expect(text).toContain('pretraining batch 64, SGD Nesterov 0.9, wd 5e-4, cosine lr from 0.05 · linear probe on conv5')
    expect(random.split('\n').find((l) => l.startsWith('probe top-1'))).toMatch(/^probe top-1\s+50\.0\s+52\.0\s+-2\.0$/)
  })
})

describe('writeGeneratedDataset', () => {
  it('writes the drawing as PNG class folders that decode to the drawn pixels, and refuses a folder of yours', async () => {
    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'parity-gen-'))
    try {
      const dir = path.join(tmp, 'shapes')
      expect(await writeGeneratedDataset(dir, { perClass: 2, testPerClass: 1, seed: 5 })).toEqual({ written: true })
      expect((await fs.readdir(path.join(dir, 'train'))).sort()).toEqual([...SAMPLE_CLASSES].sort())
      expect((await fs.readdir(path.join(dir, 'test', 'house'))).length).toBe(1)
      const drawn = generateSampleDataset({ perClass: 2, seed: 5 })
      const px = 64 * 64 * 3
      // Image i of the drawing is class i % 10, number floor(i / 10) of its class.
      for (const i of [0, 7, 13, 19]) {
        const cls = SAMPLE_CLASSES[i % 10]!
        const file = path.join(dir, 'train', cls, `${cls}-${String(Math.floor(i / 10)).padStart(4, '0')}.png`)
        const d = await decodeImage(new Uint8Array(await fs.readFile(file)), 64)
        expect(Buffer.from(d.rgb!).equals(Buffer.from(drawn.images.subarray(i * px, (i + 1) * px)))).toBe(true)
      }
      // The same parameters again: kept as it is.
      expect(await writeGeneratedDataset(dir, { perClass: 2, testPerClass: 1, seed: 5 })).toEqual({ written: false })
      const mine = path.join(tmp, 'mine')
      await fs.mkdir(mine)
      await fs.writeFile(path.join(mine, 'notes.txt'), 'keep me')
      await expect(writeGeneratedDataset(mine, { perClass: 2, testPerClass: 1, seed: 5 })).rejects.toThrow(/not empty and holds no generated dataset/)
      expect(await fs.readFile(path.join(mine, 'notes.txt'), 'utf8')).toBe('keep me')
    } finally {
      await fs.rm(tmp, { recursive: true, force: true })
    }
  })
})
