// Where Electron's binary is, if it is installed. Electron downloads it on first use from a
// host some machines cannot reach; the Electron specs skip, by name, where it is missing.
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'

export function electronBinary(): string | null {
  const dir = path.resolve('node_modules/electron')
  const pathFile = path.join(dir, 'path.txt')
  if (!existsSync(pathFile)) return null
  const bin = path.join(dir, 'dist', readFileSync(pathFile, 'utf8').trim())
  return existsSync(bin) ? bin : null
}

export const ELECTRON_SKIP_REASON =
  'Electron binary not installed (node_modules/electron/dist is missing: run `npx install-electron` where its download host is reachable)'
