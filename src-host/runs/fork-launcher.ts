// Headless worker launcher: child_process.fork, with the same message protocol the Electron
// shell speaks over utilityProcess.
import { fork } from 'node:child_process'
import type { WorkerLauncher } from './workers'

export interface WorkerEntry {
  /** The run-worker script (built out/main/run-worker.js, or the .ts source with tsx). */
  entry: string
  execArgv?: string[]
}

export function forkLauncher(w: WorkerEntry): WorkerLauncher {
  return () => {
    // stdout is dropped (tfjs prints a banner there); stderr reaches the host's terminal.
    const child = fork(w.entry, [], { execArgv: w.execArgv ?? [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    return {
      pid: child.pid,
      send: (m) => {
        if (child.connected) child.send(m)
      },
      onMessage: (fn) => void child.on('message', fn),
      onExit: (fn) => void child.on('exit', (code, signal) => fn(code, signal)),
      kill: (signal) => void child.kill(signal)
    }
  }
}
