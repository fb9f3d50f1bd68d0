// The words a window uses for the host it drives: the header badge (local, remote with its
// host:port, and the connection's trouble), where paths live, whether this machine's folder
// dialogs apply, and the first check of the "Connect to a host…" form.
import { describe, expect, it } from 'vitest'
import { LOCAL_INFO, badgeOf, browserInfo, checkHostInput, usesLocalPaths, whereSuffix } from '../../../src-renderer/src/lib/connection'
import type { ConnectionInfo } from '../../../src-shared/contract/channels'

const remote = (state: ConnectionInfo['state'], error: string | null = null): ConnectionInfo => ({
  mode: 'remote',
  label: '127.0.0.1:7878',
  base: 'http://127.0.0.1:7878',
  state,
  error
})

describe('which host a window drives', () => {
  it('the badge says local, or remote with host:port, and the connection state when it is not open', () => {
    expect(badgeOf(LOCAL_INFO)).toMatchObject({ text: 'local', tone: 'local' })
    expect(badgeOf(remote('open'))).toMatchObject({ text: 'remote: 127.0.0.1:7878', tone: 'remote' })
    expect(badgeOf(remote('open')).title).toMatch(/host at http:\/\/127\.0\.0\.1:7878 \(connected\)\. Paths, backends and runs are that machine's/)
    expect(badgeOf(remote('closed', 'ECONNREFUSED'))).toMatchObject({ text: 'remote: 127.0.0.1:7878 · connection lost, reconnecting…', tone: 'problem' })
    expect(badgeOf(remote('closed', 'ECONNREFUSED')).title).toMatch(/: ECONNREFUSED\./)
    expect(badgeOf(remote('unauthorized')).text).toBe('remote: 127.0.0.1:7878 · token refused')
    expect(badgeOf(remote('connecting')).text).toBe('remote: 127.0.0.1:7878 · connecting…')
    const tab = browserInfo({ host: 'lab:7878', origin: 'http://lab:7878' }, 'open')
    expect(badgeOf(tab)).toMatchObject({ text: 'host: lab:7878', tone: 'remote' })
  })

  it("offers this machine's folder dialogs only in the app on the local host, and says where paths live otherwise", () => {
    expect(usesLocalPaths(LOCAL_INFO, true)).toBe(true)
    expect(usesLocalPaths(LOCAL_INFO, false)).toBe(false)
    expect(usesLocalPaths(remote('open'), true)).toBe(false)
    expect(whereSuffix(LOCAL_INFO)).toBe('')
    expect(whereSuffix(remote('open'))).toBe(' on the host at 127.0.0.1:7878')
  })

  it('the connect form asks for a URL and a token before anything is sent', () => {
    expect(checkHostInput('', '')).toMatch(/Give the URL `quarterturn serve` printed/)
    expect(checkHostInput('http://127.0.0.1:7878/', '')).toMatch(/Give the access token too/)
    expect(checkHostInput('http://127.0.0.1:7878/?token=abc', '')).toBeNull()
    expect(checkHostInput('127.0.0.1:7878', 'abc')).toBeNull()
    expect(checkHostInput('ftp://h/?token=a', '')).toMatch(/not an http\(s\) URL/)
    expect(checkHostInput('http://[bad', 'a')).toMatch(/is not a URL/)
  })
})
