// `quarterturn show` prints a stage's name with that stage's own counters: when pretraining ends
// and evaluation starts, pretraining's epoch and step are not shown as the evaluation's.
import { describe, expect, it } from 'vitest'
import { liveRun, onTrainingMessage, type RunKeeper } from '../../../src-host/runs/run-supervision'
import { progressLine } from '../../../src-host/cli-runs'
import type { RunFile } from '../../../src-node/run-folder'
import type { RunStatus, RunSummary } from '../../../src-shared/contract/runs'
import { runStatus } from '../../helpers/run-status'

const keeper = {
  persist: async () => {},
  setState: async () => {},
  saveRunFile: async () => {},
  log: () => {},
  changed: () => {},
  metricsPending: () => {}
} as RunKeeper

const status = (): RunStatus => runStatus({ state: 'running', backend: 'cpu', createdAt: '2024-01-01T00:00:00Z', startedAt: '2024-01-01T00:00:00Z', wallMs: 0 })

describe('show: a stage with its own counters', () => {
  it('a new stage drops the previous stage’s epoch and step', () => {
    const r = liveRun('/nowhere/runs/x', '/nowhere', {} as RunFile, status())
    onTrainingMessage(r, { type: 'event', event: { type: 'stage', stage: 'pretrain', index: 0, total: 2 } }, keeper)
    onTrainingMessage(r, { type: 'event', event: { type: 'progress', stage: 'pretrain', epoch: 3, epochs: 3, step: 90, steps: 90, etaSec: 0 } }, keeper)
    expect(progressLine({ status: r.status } as RunSummary)).toMatch(/pretrain epoch 3\/3 step 90\/90/)
    onTrainingMessage(r, { type: 'event', event: { type: 'stage', stage: 'evaluate', index: 1, total: 2 } }, keeper)
    const line = progressLine({ status: r.status } as RunSummary)
    expect(line).toContain('evaluate')
    expect(line).not.toMatch(/epoch|step/)
    onTrainingMessage(r, { type: 'event', event: { type: 'progress', stage: 'evaluate', epoch: 0, epochs: 5, step: 3, steps: 50, etaSec: 10 } }, keeper)
    expect(progressLine({ status: r.status } as RunSummary)).toMatch(/evaluate epoch 1\/5 step 3\/50/)
  })
})
