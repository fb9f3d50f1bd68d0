// Coalesces redraws into animation frames: a chart that is told "new data" ten times between two
// frames redraws once, and when many charts are dirty they share frames within a time budget so
// no single frame runs long (the renderer's main thread must never block for 50 ms). Heavy jobs
// (building a chart) get a frame to themselves.
type Job = () => void

const queue = new Map<Job, boolean>()
let scheduled = false
const BUDGET_MS = 8

function run(): void {
  scheduled = false
  const start = performance.now()
  let first = true
  for (const [job, heavy] of queue) {
    if (!first && (heavy || performance.now() - start > BUDGET_MS)) break
    queue.delete(job)
    first = false
    try {
      job()
    } catch (err) {
      console.error('[frame] redraw failed', err)
    }
    if (heavy) break
  }
  if (queue.size) schedule()
}

function schedule(): void {
  if (scheduled) return
  scheduled = true
  requestAnimationFrame(run)
}

/** Run `job` in an upcoming frame (once, however often it is requested before then). */
export function requestFrame(job: Job, heavy = false): void {
  queue.set(job, heavy || (queue.get(job) ?? false))
  schedule()
}

export function cancelFrame(job: Job): void {
  queue.delete(job)
}
