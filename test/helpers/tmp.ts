// Temporary folders for tests, removed after each test file.
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const made: string[] = []
export function tmpDir(prefix = 'qt-'): string {
  const d = mkdtempSync(path.join(os.tmpdir(), prefix))
  made.push(d)
  return d
}
export function cleanupTmp(): void {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true })
}
