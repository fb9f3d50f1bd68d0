// The dataset page words its splits plainly: no "made here: <class>/ less the test share".
import { describe, expect, it } from 'vitest'
import { splitWords } from '../../../src-renderer/src/lib/split-words'

const line = (s: ReturnType<typeof splitWords>): string => `${s.name}: ${s.count} — ${s.source}`

describe('dataset split wording', () => {
  it('a split made here by the 80/20 rule', () => {
    const train = splitWords({
      name: 'train',
      count: 13,
      labelled: true,
      origin: 'generated',
      detail: './<class>/ less the test share (80% per class, seed 0)'
    })
    expect(line(train)).toBe('Training: 13 images — 80% of each class, picked at random here (seed 0)')
    const test = splitWords({
      name: 'test',
      count: 1,
      labelled: true,
      origin: 'generated',
      detail: "20% of each class of ./<class>/, seed 0 (the reference's 80/20 split)"
    })
    expect(line(test)).toBe('Test: 1 image — 20% of each class, picked at random here (seed 0); the reference’s 80/20 split')
  })

  it('train, val and test all made here', () => {
    const train = splitWords({
      name: 'train',
      count: 70,
      labelled: true,
      origin: 'generated',
      detail: 'all/<class>/: the rest after val and test, per class (seed 2)'
    })
    expect(train.source).toBe('the rest of each class after validation and test, picked at random here (seed 2)')
    expect(splitWords({ name: 'val', count: 10, labelled: true, origin: 'generated', detail: '10% of each class of all/<class>/, seed 2' }).name).toBe(
      'Validation'
    )
  })

  it('the dataset’s own split', () => {
    const s = splitWords({ name: 'train', count: 1200, labelled: true, origin: 'dataset', detail: 'train/<class>/' })
    expect(line(s)).toBe('Training: 1,200 images — the dataset’s own training images (train/, one folder per class)')
    const u = splitWords({ name: 'unlabelled', count: 5, labelled: false, origin: 'dataset', detail: 'unlabeled/ (images without class folders)' })
    expect(u.count).toBe('5 images, without labels')
  })

  it('no raw markers', () => {
    const s = splitWords({ name: 'train', count: 13, labelled: true, origin: 'generated', detail: './<class>/ less the test share (80% per class, seed 0)' })
    expect(line(s)).not.toMatch(/made here|<class>|test share/)
  })
})
