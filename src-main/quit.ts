// Quitting waits for the host to stop: Electron does not await before-quit listeners, so a
// plain `void host.shutdown()` let the process exit while a run was still checkpointing.

/** Long enough for a run to write its checkpoint; short enough that a stuck one cannot keep the app from quitting. */
export const SHUTDOWN_TIMEOUT_MS = 15_000

interface QuittableApp {
  on(event: 'before-quit', listener: (event: { preventDefault(): void }) => void): unknown
  quit(): void
}

type Log = Pick<Console, 'warn' | 'error'>

/**
 * Holds the first quit until `shutdown` has settled or `timeoutMs` has passed, then quits
 * again; that second before-quit, and any after it, pass straight through. Quits asked for
 * while waiting are held too, so shutdown runs once.
 */
export function quitAfterShutdown(
  app: QuittableApp,
  shutdown: () => Promise<void>,
  { timeoutMs = SHUTDOWN_TIMEOUT_MS, log = console }: { timeoutMs?: number; log?: Log } = {}
): void {
  let state: 'running' | 'stopping' | 'stopped' = 'running'
  app.on('before-quit', (event) => {
    if (state === 'stopped') return
    event.preventDefault()
    if (state === 'stopping') return
    state = 'stopping'
    void settleWithin(shutdown, timeoutMs, log).then(() => {
      state = 'stopped'
      app.quit()
    })
  })
}

async function settleWithin(shutdown: () => Promise<void>, timeoutMs: number, log: Log): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timedOut = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => resolve('timed-out'), timeoutMs)
  })
  try {
    // Promise.resolve().then turns a synchronous throw into a rejection handled below.
    const done = Promise.resolve()
      .then(shutdown)
      .then(() => 'done' as const)
    if ((await Promise.race([done, timedOut])) === 'timed-out') {
      log.warn(`[quit] the host did not shut down within ${timeoutMs / 1000} s; quitting without waiting for it`)
    }
  } catch (err) {
    log.error('[quit] host shutdown failed:', err)
  } finally {
    clearTimeout(timer)
  }
}
