// Exporting the map as a figure: a PNG at twice the on-screen resolution (what the view shows:
// its zoom, pan and highlighted class, with a title and the legend) on white, and the download of
// a binary file, alongside lib/download.ts's text downloads.
import { classColour } from '../../../src-shared/report/map-svg'
import { slugify } from '../../../src-shared/slug'
import { drawPoints, type MapScene } from './map-draw'
import type { View } from '../../../src-shared/report/map-view'

export interface FigureOptions {
  width: number
  height: number
  zoom: number
  highlight: number | null
  title: string
  subtitle: string
}

const LEGEND_W = 170
const TOP = 50
/** White margin left of the plot and below it. */
const M = 12

/** The view as a PNG figure: title, subtitle, the plot as on screen, the legend on its right. */
export function mapPng(scene: MapScene, view: View, o: FigureOptions, pixelRatio = 2): Promise<Blob> {
  const counts = scene.groups.map((g) => g.length)
  const W = M + o.width + LEGEND_W
  const H = TOP + Math.max(o.height, 12 + scene.classNames.length * 17) + M
  const canvas = document.createElement('canvas')
  canvas.width = Math.round(W * pixelRatio)
  canvas.height = Math.round(H * pixelRatio)
  const ctx = canvas.getContext('2d')
  if (!ctx) return Promise.reject(new Error('this browser cannot draw a canvas'))
  ctx.scale(pixelRatio, pixelRatio)
  ctx.fillStyle = '#ffffff'
  ctx.fillRect(0, 0, W, H)
  ctx.fillStyle = '#1d1f23'
  ctx.font = "600 15px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
  ctx.fillText(o.title, M, 22, W - 2 * M)
  ctx.fillStyle = '#5f6670'
  ctx.font = "12px system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif"
  ctx.fillText(o.subtitle, M, 40, W - 2 * M)
  ctx.strokeStyle = '#cccccc'
  ctx.strokeRect(M + 0.5, TOP + 0.5, o.width - 1, o.height - 1)
  ctx.save()
  ctx.beginPath()
  ctx.rect(M, TOP, o.width, o.height)
  ctx.clip()
  ctx.translate(M, TOP)
  drawPoints(ctx, scene, view, { width: o.width, height: o.height, zoom: o.zoom, highlight: o.highlight })
  ctx.restore()
  scene.classNames.forEach((name, i) => {
    const y = TOP + 12 + i * 17
    ctx.globalAlpha = o.highlight !== null && o.highlight !== i ? 0.45 : 1
    ctx.fillStyle = classColour(i)
    ctx.fillRect(M + o.width + 12, y - 10, 11, 11)
    ctx.fillStyle = '#1d1f23'
    ctx.fillText(`${name} (${counts[i] ?? 0})`, M + o.width + 30, y, LEGEND_W - 36)
  })
  ctx.globalAlpha = 1
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas gave no PNG'))), 'image/png'))
}

/** A file name from free text: letters, digits, dashes. */
export function fileStem(...parts: string[]): string {
  return slugify(parts.join('-'), 80, 'map')
}
