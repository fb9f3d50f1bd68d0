// Writes a results report into the workspace: report.html (self-contained), report.md with its
// images, results.csv and results.json; report.pdf where the shell can print one (Electron).
import { promises as fs } from 'node:fs'
import { zipSync } from 'fflate'
import path from 'node:path'
import type { RunsService } from '../runs/service'
import { buildReport, type ReportMap, type ReportRun, type ReportSection } from '../../src-shared/report/report'
import { findMethod } from '../../src-shared/methods/catalog'
import { ServiceError, describeFsError } from '../errors'
import { writeFileAtomic } from '../../src-node/fsutil'

export interface ExportOptions {
  runIds: string[]
  baselineId: string | null
  sections: ReportSection[]
  title: string
  question: string
  /** Folder name under workspace/reports/. */
  name: string
  pdf: boolean
  /** Return the written files as a zip too (a browser cannot read the server's folder). */
  zip?: boolean
}

export interface ExportResult {
  dir: string
  files: string[]
  html: string
  /** base64 of the zip, when asked for. */
  zip?: string
}

export async function exportReport(
  runs: RunsService,
  reportsRoot: string,
  o: ExportOptions,
  appVersion: string,
  printPdf?: (htmlFile: string, pdfFile: string) => Promise<void>
): Promise<ExportResult> {
  if (!o.runIds.length) throw new ServiceError('Choose at least one run for the report.', 'invalid-argument')
  if (o.baselineId && !o.runIds.includes(o.baselineId)) throw new ServiceError('The baseline must be one of the runs in the report.', 'invalid-argument')
  if (o.pdf && !printPdf)
    throw new ServiceError(
      "This window cannot print a PDF itself: open report.html and use the browser's Print, Save as PDF (the report has a print stylesheet).",
      'unsupported'
    )
  const reportRuns: ReportRun[] = []
  for (const id of o.runIds) {
    const detail = await runs.get(id)
    const metrics = await runs.metrics(id, 4000)
    let previews: ReportRun['previews']
    if (o.sections.includes('previews') && findMethod(detail.method)?.traits.rotationHead) {
      previews = await runs.preview(id, { count: 4, split: 'test', seed: 0, checkpoint: 'latest' }).then(
        (p) => p.images,
        () => undefined // no trained model yet
      )
    }
    reportRuns.push({ detail, metrics, previews })
  }
  // The two newest maps already computed for each run (computing new ones is the maps view's job).
  const maps: ReportMap[] = []
  if (o.sections.includes('maps')) {
    for (const r of reportRuns) {
      for (const { key } of (await runs.listMaps(r.detail.id)).slice(0, 2)) {
        const m = await runs.getMap(r.detail.id, key).catch(() => null)
        if (m)
          maps.push({
            runId: r.detail.id,
            title: `${r.detail.name}: ${String(m.spec.method)} of ${String(m.spec.layer)} (${m.n} points, 10-NN kept ${(m.knnPreservation * 100).toFixed(0)}%)`,
            xy: m.xy,
            labels: m.labels,
            classNames: m.classNames
          })
      }
    }
  }
  const out = buildReport({
    title: o.title,
    question: o.question,
    runs: reportRuns,
    baselineId: o.baselineId,
    sections: o.sections,
    maps,
    generatedAt: new Date().toISOString(),
    appVersion
  })
  const dir = path.join(reportsRoot, o.name)
  const written: string[] = []
  const contents: Record<string, Uint8Array> = {}
  try {
    await fs.mkdir(dir, { recursive: true })
    const write = async (name: string, content: string | Uint8Array): Promise<void> => {
      await writeFileAtomic(path.join(dir, name), content)
      written.push(name)
      contents[name] = typeof content === 'string' ? new TextEncoder().encode(content) : content
    }
    await write('report.html', out.html)
    await write('report.md', out.markdown)
    await write('results.csv', out.csv)
    await write('results.json', out.json)
    for (const f of out.files) await write(f.name, f.content)
    if (o.pdf && printPdf) {
      await printPdf(path.join(dir, 'report.html'), path.join(dir, 'report.pdf'))
      written.push('report.pdf')
    }
  } catch (err) {
    if (err instanceof ServiceError) throw err
    throw new ServiceError(describeFsError(err, dir, 'write the report into'))
  }
  if (!o.zip) return { dir, files: written, html: out.html }
  if (written.includes('report.pdf')) contents['report.pdf'] = new Uint8Array(await fs.readFile(path.join(dir, 'report.pdf')))
  // Inside the zip everything sits in one folder named after the report, as it does on disk.
  // PNGs are already compressed: stored, not deflated again.
  const zip = zipSync(
    Object.fromEntries(Object.entries(contents).map(([name, bytes]) => [`${o.name}/${name}`, [bytes, { level: name.endsWith('.png') ? 0 : 6 }]]))
  )
  return { dir, files: written, html: out.html, zip: Buffer.from(zip).toString('base64') }
}
