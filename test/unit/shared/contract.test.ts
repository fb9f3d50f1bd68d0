// Contract schemas: a valid and an invalid payload for every request and event. The tables are
// typed by the contract, so adding a request without examples fails to compile.
import { describe, expect, it } from 'vitest'
import {
  EnvelopeSchema,
  WsClientFrameSchema,
  events,
  requests,
  requestNames,
  eventNames,
  SettingsSchema,
  DEFAULT_SETTINGS,
  type EventName,
  type RequestName
} from '../../../src-shared/contract'

const ws = { path: '/tmp/ws', ready: true, freeBytes: 1, totalBytes: 2, source: 'settings' as const }

const validArgs: Record<RequestName, unknown> = {
  'app.info': {},
  'settings.get': {},
  'settings.update': { theme: 'dark', maxConcurrentRuns: 2 },
  'settings.reset': {},
  'workspace.get': {},
  'workspace.open': { path: '/data/ws' },
  'workspace.pickFolder': {},
  'backends.detect': {},
  'executors.describe': {},
  'runs.list': {},
  'runs.get': { id: '20261128-010203-rfd-ab12' },
  'runs.create': { config: { pretrain: { epochs: 2 } }, preset: 'fast-rotnet' },
  'runs.createGroup': { config: {}, preset: 'fast-rotnet', seeds: [0, 1, 2] },
  'runs.createSweep': { config: {}, preset: 'fast-rotnet', axes: [{ path: 'pretrain.method.lambdaMse', values: [0.5, 1] }], seeds: [0, 1] },
  'runs.pause': { id: 'r1' },
  'runs.resume': { id: 'r1' },
  'runs.cancel': { id: 'r1' },
  'runs.annotate': { id: 'r1', tags: ['baseline'], notes: 'lr too high?' },
  'runs.delete': { id: 'r1' },
  'runs.exportWeights': { id: 'r1', stage: 'pretrain', heads: true, data: true },
  'runs.metrics': { id: 'r1', maxPoints: 100 },
  'runs.presets': {},
  'runs.preview': { id: 'r1', split: 'test', indices: [3, 9], checkpoint: 2 },
  'runs.augmentations': { id: 'r1', count: 2, views: 6 },
  'engine.benchmark': { config: { backbone: { arch: 'alexnet64' } }, mode: 'refresh' },
  'runs.images': { id: 'r1', split: 'train', offset: 48, limit: 48 },
  'reports.export': { runIds: ['r1', 'r2'], baselineId: 'r1', sections: ['tables'], title: 'T' },
  'maps.compute': { id: 'r1', spec: { method: 'tsne', perplexity: 20, iterations: 500, seed: 3 } },
  'maps.get': { id: 'r1', key: 'fc-test-latest-tsne' },
  'maps.cancel': { id: 'r1', key: 'k' },
  'maps.list': { id: 'r1' },
  'datasets.list': {},
  'datasets.inspect': { path: '/data/tiny-imagenet-200', jobId: 'ui-1', options: { workingSize: 64 } },
  'datasets.add': { path: '/data/cifar', name: 'CIFAR-10', options: { split: { seed: 3, valFraction: 0.1 } } },
  'datasets.addSample': { perClass: 20 },
  'datasets.cancel': { jobId: 'ui-1' },
  'datasets.get': { id: 'tiny-imagenet-200' },
  'datasets.problems': { id: 'sample', kind: 'duplicate', limit: 10 },
  'datasets.thumbnails': { id: 'sample', split: 'train', classIndex: 3, offset: 60, limit: 60 },
  'datasets.image': { id: 'sample', split: 'val', index: 0 },
  'datasets.reindex': { id: 'sample' },
  'datasets.remove': { id: 'cifar-10-batches-bin' },
  'datasets.createSubset': { id: 'tiny-imagenet-200', selection: { mode: 'firstN', count: 100 } },
  'datasets.listSubsets': { id: 'sample' }
}
const invalidArgs: Record<RequestName, unknown> = {
  'app.info': { extra: 1 },
  'settings.get': { theme: 'dark' },
  'settings.update': { maxConcurrentRuns: 0 },
  'settings.reset': 'now',
  'workspace.get': [],
  'workspace.open': { path: '' },
  'workspace.pickFolder': { path: '/x' },
  'backends.detect': { gpu: true },
  'executors.describe': { executor: 'slurm' },
  'runs.list': { all: true },
  'runs.get': { id: '../../../etc' },
  'runs.create': { config: 'fast', preset: null },
  'runs.createGroup': { config: {}, preset: null, seeds: [1] },
  'runs.createSweep': { config: {}, preset: null, axes: [{ path: 'pretrain..lr', values: [1] }], seeds: null },
  'runs.pause': { id: '' },
  'runs.resume': {},
  'runs.cancel': { id: 'a/b' },
  'runs.annotate': { id: 'r1', tags: [' '], notes: '' },
  'runs.delete': { id: '../r1' },
  'runs.exportWeights': { id: 'r1', stage: 'linear' },
  'runs.metrics': { id: 'r1', maxPoints: 1 },
  'runs.presets': { name: 'x' },
  'runs.preview': { id: 'r1', count: 100 },
  'runs.augmentations': { id: 'r1', views: 0 },
  'engine.benchmark': { config: 'fast-rotnet' },
  'runs.images': { id: 'r1', indices: [-1] },
  'reports.export': { runIds: [], name: '../x' },
  'maps.compute': { id: 'r1', spec: { method: 'tsne', perplexity: 500 } },
  'maps.get': { id: 'r1', key: '../../../secret' },
  'maps.cancel': { id: 'r1' },
  'maps.list': { id: '../r1' },
  'datasets.list': { all: true },
  'datasets.inspect': { path: 'relative/folder' },
  'datasets.add': { path: '/data/x', options: { workingSize: 4 } },
  'datasets.addSample': { perClass: 0 },
  'datasets.cancel': { id: 'sample', jobId: 'x' },
  'datasets.get': { id: '../../../etc' },
  'datasets.problems': { id: 'sample', kind: 'ugly' },
  'datasets.thumbnails': { id: 'sample', split: 'train', limit: 5000 },
  'datasets.image': { id: 'sample', split: 'holdout', index: 0 },
  'datasets.reindex': { id: 'Sample/..' },
  'datasets.remove': {},
  'datasets.createSubset': { id: 'sample', split: 'unlabelled', selection: { mode: 'firstN', count: 100 } },
  'datasets.listSubsets': { id: '' }
}
const status = {
  state: 'running',
  stage: 'pretrain',
  epoch: 1,
  epochs: 5,
  step: 10,
  steps: 50,
  etaSec: 30,
  backend: 'wasm',
  error: null,
  errorStage: null,
  createdAt: '2026-11-28T00:00:00Z',
  startedAt: null,
  endedAt: null,
  wallMs: 0
}
const summary = { id: 'r1', name: 'RotNet', method: 'rotnet', preset: null, configHash: 'abc', status, evaluations: [] }
const progress = {
  jobId: 'j1',
  datasetId: 'sample',
  source: '/ws/datasets/sample/source',
  phase: 'decoding',
  filesSeen: 10,
  total: 10,
  decoded: 4,
  reused: 0,
  skipped: 1,
  elapsedMs: 120,
  etaSeconds: 0.2,
  message: null
}
const validEvents: Record<EventName, unknown> = {
  'settings.changed': DEFAULT_SETTINGS,
  'workspace.changed': ws,
  'runs.changed': summary,
  'runs.removed': { id: 'r1' },
  'runs.metrics': { id: 'r1', records: [{ stage: 'pretrain', step: 3, loss: 1.2 }] },
  'runs.log': { id: 'r1', level: 'warn', message: 'NCE rising' },
  'maps.progress': { id: 'r1', key: 'k', phase: 'optimize', fraction: 0.5, preview: [0, 1, 2, 3] },
  'engine.progress': { key: 'k', phase: 'pretrain', fraction: 0.25 },
  'datasets.progress': progress,
  'datasets.changed': { id: 'sample', dataset: null }
}
const invalidEvents: Record<EventName, unknown> = {
  'settings.changed': { ...DEFAULT_SETTINGS, theme: 'purple' },
  'workspace.changed': { ...ws, freeBytes: -1 },
  'runs.changed': { ...summary, status: { ...status, state: 'sleeping' } },
  'runs.removed': { id: 3 },
  'runs.metrics': { id: 'r1', records: [{ loss: [1] }] },
  'runs.log': { id: 'r1', level: 'debug', message: 'x' },
  'maps.progress': { id: 'r1', key: 'k', phase: 'optimize' },
  'engine.progress': { key: 'k', fraction: 'half' },
  'datasets.progress': { ...progress, phase: 'sleeping' },
  'datasets.changed': { id: 'sample' }
}

describe('contract', () => {
  it.each(requestNames)('%s accepts a valid argument and rejects an invalid one', (name) => {
    expect(requests[name].arg.safeParse(validArgs[name]).success).toBe(true)
    expect(requests[name].arg.safeParse(invalidArgs[name]).success).toBe(false)
  })

  it.each(eventNames)('%s payload is validated', (name) => {
    expect(events[name].safeParse(validEvents[name]).success).toBe(true)
    expect(events[name].safeParse(invalidEvents[name]).success).toBe(false)
  })

  it('settings.update rejects unknown keys and out-of-range values with the field named', () => {
    const r = requests['settings.update'].arg.safeParse({ maxConcurrentRuns: 9, colour: 'red' })
    expect(r.success).toBe(false)
    const paths = r.error!.issues.map((i) => i.path.join('.') || i.message)
    expect(paths.join(' ')).toMatch(/maxConcurrentRuns/)
    expect(JSON.stringify(r.error!.issues)).toMatch(/colour/)
  })

  it('settings defaults come from the schema', () => {
    expect(SettingsSchema.parse({})).toEqual(DEFAULT_SETTINGS)
    expect(DEFAULT_SETTINGS.maxConcurrentRuns).toBe(1)
    expect(DEFAULT_SETTINGS.workspacePath).toBeNull()
  })

  it('envelopes and websocket frames have one shape', () => {
    expect(EnvelopeSchema.safeParse({ ok: true, value: 3 }).success).toBe(true)
    expect(EnvelopeSchema.safeParse({ ok: false, error: { code: 'failed', message: 'x' } }).success).toBe(true)
    expect(EnvelopeSchema.safeParse({ ok: false, error: { code: 'nope', message: 'x' } }).success).toBe(false)
    expect(WsClientFrameSchema.safeParse({ id: 1, name: 'app.info', arg: {} }).success).toBe(true)
    expect(WsClientFrameSchema.safeParse({ id: -1, name: 'app.info' }).success).toBe(false)
  })
})

describe('run config keys', () => {
  it('an unknown key is an error naming it, with the closest known key or the list of known ones', async () => {
    const { parseRunConfig, closest } = await import('../../../src-shared/config/run')
    expect(() => parseRunConfig({ backbone: { widht: 0.5 } })).toThrow(/backbone: unknown key "widht"; did you mean "width"\?/)
    expect(() => parseRunConfig({ evaluation: { transfer: [{ kind: 'sample', perclass: 3 }] } })).toThrow(
      /evaluation\.transfer\.0: unknown key "perclass"; did you mean "perClass"\?/
    )
    expect(() => parseRunConfig({ checkpoint: { zzzzzzzz: 1 } })).toThrow(/checkpoint: unknown key "zzzzzzzz" \(known keys: intervalMin, keep\)/)
    expect(closest('lr', ['lr', 'base'])).toBe('lr')
    expect(closest('completelydifferent', ['lr', 'base'])).toBeNull()
    // Every preset still parses: presets carry no stray keys.
    const { PRESETS } = await import('../../../src-shared/config/run')
    for (const p of PRESETS) expect(() => parseRunConfig(p.config)).not.toThrow()
  })
})
