// Errors a service raises on purpose: they reach the user as a typed `failed` (or other) envelope
// with a message that names the thing and what to do. Anything else is a bug (`internal`).
import type { ErrorCode } from '../src-shared/contract'

export class ServiceError extends Error {
  readonly code: ErrorCode
  constructor(message: string, code: ErrorCode = 'failed') {
    super(message)
    this.name = 'ServiceError'
    this.code = code
  }
}

/** A user-facing sentence for a failed file-system call on `target`. */
export function describeFsError(err: unknown, target: string, action: string): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return `Cannot ${action} ${target}: permission denied. Choose a folder you can write to, or fix its permissions.`
    case 'EROFS':
      return `Cannot ${action} ${target}: the volume is read-only. Choose a folder on a writable disk.`
    case 'ENOSPC':
      return `Cannot ${action} ${target}: the disk is full. Free some space or choose a folder on another disk; nothing already saved was changed.`
    case 'ENOTDIR':
    case 'EEXIST':
      return `Cannot ${action} ${target}: a file (not a folder) is in the way. Choose another path.`
    case 'ENOENT':
      return `Cannot ${action} ${target}: it does not exist.`
    default:
      return `Cannot ${action} ${target}: ${(err as Error)?.message ?? String(err)}`
  }
}
