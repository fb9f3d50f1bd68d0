// A dataset's splits in plain words for its page: "Training: 13 images — 80% of each class,
// picked at random here (seed 0)" rather than the index's "made here: <class>/ less the test
// share (80% per class, seed 0)". The index's own detail stays as the tooltip.
import type { SplitInfo } from '../../../src-shared/contract/datasets'

const SPLIT_NAMES: Record<string, string> = { train: 'Training', val: 'Validation', test: 'Test', unlabelled: 'Unlabelled' }

export function splitName(name: string): string {
  return SPLIT_NAMES[name] ?? name
}

export function splitWords(s: Pick<SplitInfo, 'name' | 'count' | 'labelled' | 'origin' | 'detail'>): { name: string; count: string; source: string } {
  const count = `${s.count.toLocaleString()} image${s.count === 1 ? '' : 's'}${s.labelled ? '' : ', without labels'}`
  if (s.origin === 'dataset') {
    const where = s.detail.replace(/^(.*?)\/?<class>\/$/, '$1/, one folder per class')
    return { name: splitName(s.name), count, source: `the dataset’s own ${splitName(s.name).toLowerCase()} images (${where})` }
  }
  const seed = /seed (\d+)/.exec(s.detail)?.[1]
  const pct = /(\d+(?:\.\d+)?%)/.exec(s.detail)?.[1]
  const share = /rest after val and test/.test(s.detail) ? 'the rest of each class after validation and test' : pct ? `${pct} of each class` : s.detail
  const reference = /80\/20/.test(s.detail) ? '; the reference’s 80/20 split' : ''
  return { name: splitName(s.name), count, source: `${share}, picked at random here${seed !== undefined ? ` (seed ${seed})` : ''}${reference}` }
}
