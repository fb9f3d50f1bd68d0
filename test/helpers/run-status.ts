// A run's status.json for tests that write or fake runs: every field of the contract's RunStatus,
// a finished run by default, any field overridden.
import type { RunStatus } from '../../src-shared/contract/runs'

export function runStatus(over: Partial<RunStatus> = {}): RunStatus {
  return {
    state: 'done',
    stage: null,
    epoch: null,
    epochs: null,
    step: null,
    steps: null,
    etaSec: null,
    backend: 'wasm',
    error: null,
    errorStage: null,
    createdAt: '',
    startedAt: null,
    endedAt: null,
    wallMs: 1000,
    ...over
  }
}
