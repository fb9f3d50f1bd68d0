// The error every part of the dataset service throws for an expected failure. `reason` says
// which one, so the CLI can map it to an exit code without matching messages.
import { ServiceError } from '../errors'
import type { WorkerFailure } from './protocol'

/** A ServiceError that says which expected failure it was (the CLI's exit codes). */
export class DatasetError extends ServiceError {
  constructor(
    message: string,
    readonly reason: WorkerFailure['kind'] | 'not-found' | 'bad-path' | 'busy',
    code: ServiceError['code'] = 'failed'
  ) {
    super(message, code)
    this.name = 'DatasetError'
  }
}
