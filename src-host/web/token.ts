// The web host's access token, kept per workspace in the user's config folder (web-tokens.json,
// readable by the user only), so a restarted `quarterturn serve` on the same workspace prints the
// same URL and open tabs reconnect by themselves. `--new-token` replaces it: tabs holding the old
// one are refused and tell the user to open the new URL.
import { randomBytes } from 'node:crypto'
import { promises as fs } from 'node:fs'
import path from 'node:path'

export const TOKENS_FILE = 'web-tokens.json'

const isToken = (v: unknown): v is string => typeof v === 'string' && /^[A-Za-z0-9_-]{32,}$/.test(v)

/** The workspace's token (made on first use, or anew with `rotate`), and the file that keeps it. */
export async function workspaceToken(configDir: string, workspace: string, rotate = false): Promise<{ token: string; file: string; created: boolean }> {
  const file = path.join(configDir, TOKENS_FILE)
  const key = path.resolve(workspace)
  let tokens: Record<string, unknown> = {}
  try {
    const parsed = JSON.parse(await fs.readFile(file, 'utf8')) as unknown
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) tokens = parsed as Record<string, unknown>
  } catch {
    // Missing or damaged: start over (tabs that held a token reconnect with the new URL).
  }
  const kept = tokens[key]
  if (!rotate && isToken(kept)) {
    // Tighten a file loosened by hand or a copy: the token is a password to the host.
    await fs.chmod(file, 0o600).catch(() => {})
    return { token: kept, file, created: false }
  }
  const token = randomBytes(32).toString('base64url')
  tokens[key] = token
  await fs.mkdir(configDir, { recursive: true })
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`
  // Created 0600 from the start, so the token is never readable by others, not even for a moment.
  await fs.writeFile(tmp, JSON.stringify(tokens, null, 2) + '\n', { mode: 0o600 })
  await fs.chmod(tmp, 0o600)
  await fs.rename(tmp, file)
  return { token, file, created: true }
}
