// IPC channel names between the main process and the app's trainer window (src-main/gpu-window.ts
// and its preload, src-preload/trainer.ts). The messages on the two worker channels are the run
// worker's own (ToRunWorker / FromRunWorker in ./worker.ts); the other two are the window's
// lifecycle, in place of a process's spawn and exit.

/** main -> window: one ToRunWorker message. */
export const TRAINER_TO_WORKER = 'quarterturn:trainer:to-worker'
/** window -> main: one FromRunWorker message (validated by the host like any worker's). */
export const TRAINER_FROM_WORKER = 'quarterturn:trainer:from-worker'
/** window -> main: the preload listens; messages sent before this were held and now go. */
export const TRAINER_READY = 'quarterturn:trainer:ready'
/** window -> main: the job ended with this exit code; the window is closed. */
export const TRAINER_EXIT = 'quarterturn:trainer:exit'
