// run.json's data fingerprints: one per dataset and split the run reads. A run recorded before
// transfer datasets were fingerprinted gets theirs when it resumes, without a false "the data
// changed" warning; a split whose content did change is named, and what the run started with stays.
import { describe, expect, it } from 'vitest'
import { mergeDataFingerprints } from '../../../src-host/runs/run-supervision'

const fp = (label: string, split: string, sha: string, images = 10) => ({ label, split, images, sha256: sha.repeat(64) })

describe('data fingerprints in run.json', () => {
  it('records the first fingerprints a run reports', () => {
    const seen = [fp('sample', 'train', 'a'), fp('sample', 'test', 'b')]
    expect(mergeDataFingerprints(undefined, seen)).toEqual({ merged: seen, added: true, changed: [] })
  })

  it('adds splits read for the first time, and is quiet when nothing changed', () => {
    const recorded = [fp('sample', 'train', 'a'), fp('sample', 'test', 'b')]
    const now = [...recorded, fp('cifar-10', 'train', 'c'), fp('cifar-10', 'test', 'd')]
    expect(mergeDataFingerprints(recorded, now)).toEqual({ merged: now, added: true, changed: [] })
    expect(mergeDataFingerprints(now, now)).toEqual({ merged: now, added: false, changed: [] })
  })

  it('names a split whose content changed and keeps the fingerprint the run started with', () => {
    const recorded = [fp('sample', 'train', 'a'), fp('cifar-10', 'test', 'd')]
    const r = mergeDataFingerprints(recorded, [fp('sample', 'train', 'a'), fp('cifar-10', 'test', 'e')])
    expect(r.changed).toEqual(['cifar-10 test'])
    expect(r.merged).toEqual(recorded)
    expect(r.added).toBe(false)
    expect(mergeDataFingerprints(recorded, [fp('sample', 'train', 'a', 11)]).changed).toEqual(['sample train'])
  })
})
