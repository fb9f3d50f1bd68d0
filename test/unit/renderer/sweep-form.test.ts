// The New-run form's Sweep section (lib/sweep-form.ts): which settings it offers, how many runs it
// says a sweep makes, and that it refuses what the host would refuse, in the form's words.
import { describe, expect, it } from 'vitest'
import { parseRunConfig } from '../../../src-shared/config/run'
import { numericPaths } from '../../../src-shared/sweep'
import { sweepChoices, sweepFormState } from '../../../src-renderer/src/lib/sweep-form'

const simclr = parseRunConfig({ pretrain: { method: { method: 'simclr' } } })

describe('sweep form', () => {
  it('offers every numeric setting of the config, labelled, but not the seed', () => {
    const paths = numericPaths(simclr)
    expect(paths).toContain('pretrain.method.tau')
    expect(paths).toContain('pretrain.batchSize')
    expect(paths).toContain('backbone.width')
    expect(paths).not.toContain('seed')
    expect(paths.every((p) => typeof p === 'string' && !/\.\d+(\.|$)/.test(p))).toBe(true)
    const choices = sweepChoices(simclr)
    expect(choices.map((c) => c.path)).toEqual(paths)
    expect(choices.find((c) => c.path === 'pretrain.batchSize')!.label).toBe('Pretraining › Batch size')
    expect(sweepChoices(null)).toEqual([])
  })

  it('counts grid points and runs with the seeds', () => {
    const rows = [
      { path: 'pretrain.method.tau', values: '0.1, 0.2, 0.5' },
      { path: 'pretrain.batchSize', values: '32 64' }
    ]
    expect(sweepFormState(simclr, rows, null)).toMatchObject({ points: 6, runs: 6, error: null })
    const s = sweepFormState(simclr, rows, [0, 1, 2])
    expect(s).toMatchObject({ points: 6, runs: 18, error: null })
    expect(s.axes).toEqual([
      { path: 'pretrain.method.tau', values: [0.1, 0.2, 0.5] },
      { path: 'pretrain.batchSize', values: [32, 64] }
    ])
  })

  it('says what to fix: an unchosen setting, a typo, a value out of range, too many runs', () => {
    expect(sweepFormState(simclr, [{ path: '', values: '1' }], null).error).toBe('Sweep: choose the setting to vary.')
    expect(sweepFormState(simclr, [{ path: 'pretrain.batchSize', values: '32,x' }], null).error).toBe('Sweep, Pretraining › Batch size: “x” is not a number.')
    const bad = sweepFormState(simclr, [{ path: 'pretrain.batchSize', values: '32,1' }], null)
    expect(bad).toMatchObject({ points: 2, runs: 2 })
    expect(bad.error).toMatch(/grid point 2 of 2 \(pretrain\.batchSize=1\): pretrain\.batchSize:/)
    const many = sweepFormState(simclr, [{ path: 'pretrain.batchSize', values: '8,16,32,64,128,256,512,1024,2048' }], [0, 1, 2, 3, 4, 5, 6, 7])
    expect(many).toMatchObject({ runs: 72 })
    expect(many.error).toMatch(/72 runs, more than the 64/)
    expect(sweepFormState(null, [{ path: 'pretrain.batchSize', values: '8' }], null).error).toMatch(/Fix the fields/)
  })
})
