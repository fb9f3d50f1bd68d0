// Chart.js, registered once with only what the views use, and colours that follow the theme.
// Every chart is drawn without animation; line charts use parsing: false + the decimation
// plugin so 100 000 points cost what the canvas width costs.
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Decimation,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  LogarithmicScale,
  PointElement,
  Tooltip
} from 'chart.js'
import { shallowRef } from 'vue'

Chart.register(
  LineController,
  LineElement,
  PointElement,
  LinearScale,
  LogarithmicScale,
  CategoryScale,
  BarController,
  BarElement,
  Decimation,
  Filler,
  Legend,
  Tooltip
)
Chart.defaults.animation = false
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
Chart.defaults.font.size = 11

/** Readable on both the light and the dark background (Tableau 10). */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac']

export interface ChartTheme {
  fg: string
  muted: string
  grid: string
  panel: string
}

function read(): ChartTheme {
  const s = getComputedStyle(document.documentElement)
  const v = (name: string, fallback: string): string => s.getPropertyValue(name).trim() || fallback
  return { fg: v('--fg', '#1d1f23'), muted: v('--muted', '#5f6670'), grid: v('--line', '#d9dce1'), panel: v('--panel', '#ffffff') }
}

/** The current theme's colours; charts watch this and restyle. */
export const chartTheme = shallowRef<ChartTheme>(read())

function refresh(): void {
  const next = read()
  const cur = chartTheme.value
  if (next.fg !== cur.fg || next.grid !== cur.grid || next.panel !== cur.panel) {
    chartTheme.value = next
    Chart.defaults.color = next.muted
    Chart.defaults.borderColor = next.grid
  }
}
Chart.defaults.color = chartTheme.value.muted
Chart.defaults.borderColor = chartTheme.value.grid
new MutationObserver(refresh).observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] })
window.matchMedia('(prefers-color-scheme: dark)').addEventListener('change', refresh)

/**
 * Chart.js's first chart compiles most of its code and sets up fonts: 50–150 ms on a slow
 * machine. Do it once, on a detached canvas, while the app is idle, so the first real chart
 * (which usually appears while a run is streaming) costs what the next ones cost.
 */
let warmed = false
export function warmUp(): void {
  if (warmed) return
  warmed = true
  const canvas = document.createElement('canvas')
  canvas.width = 300
  canvas.height = 150
  const data = Array.from({ length: 50 }, (_, i) => ({ x: i, y: Math.sin(i) }))
  const c = new Chart(canvas, {
    type: 'line',
    data: { datasets: [{ data, pointRadius: 0 }] },
    options: {
      responsive: false,
      animation: false,
      parsing: false,
      plugins: { decimation: { enabled: true, algorithm: 'min-max' }, tooltip: {} },
      scales: { x: { type: 'linear' } }
    }
  })
  c.destroy()
}

export { Chart }
