// The results report from real short runs: its tables carry the runs' stored accuracies, the
// HTML is self-contained (no scripts, no external URLs), and the Markdown's images exist.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { promises as fs } from 'node:fs'
import path from 'node:path'
import { createHeadlessHost } from '../../../src-host/headless'
import type { Host } from '../../../src-host/host'
import { buildResultsTable } from '../../../src-shared/results-table'
import { differingKeys } from '../../../src-shared/report/report'
import { cleanupTmp, tmpDir } from '../../helpers/tmp'
import { strFromU8, unzipSync } from 'fflate'

let host: Host
let ids: string[] = []
const tiny = (method: string, name: string): Record<string, unknown> => ({
  name,
  backend: 'wasm',
  dataset: { kind: 'sample', perClass: 3, testPerClass: 2, size: 32 },
  backbone: { arch: 'alexnet32', width: 0.0625 },
  pretrain: {
    enabled: method !== 'none',
    method: { method: method === 'none' ? 'rotnet' : method },
    epochs: 2,
    batchSize: 10,
    schedule: { kind: 'constant', lr: 0.05 }
  },
  evaluation: { linear: { epochs: 2 }, knn: { k: 3 } }
})

beforeAll(async () => {
  host = createHeadlessHost({
    configDir: tmpDir(),
    defaultWorkspace: tmpDir('qt-rep-ws-'),
    runWorker: { entry: path.resolve('src-engine/run-worker.ts'), execArgv: ['--import', 'tsx'] }
  })
  const a = await host.call('runs.create', { config: tiny('none', 'random init'), preset: null })
  const b = await host.call('runs.create', { config: tiny('rotnet', 'RotNet'), preset: null })
  ids = [a.id, b.id]
  for (const id of ids) expect((await host.runs.waitSettled(id)).status.state).toBe('done')
}, 120_000)
afterAll(async () => {
  await host.shutdown()
  cleanupTmp()
})

describe('report export', () => {
  it('writes HTML, Markdown, CSV and JSON whose tables match the stored results', async () => {
    const res = await host.call('reports.export', {
      runIds: ids,
      baselineId: ids[0]!,
      title: 'Random vs RotNet',
      question: 'Does rotation pretraining beat random features?',
      name: 'test-report'
    })
    for (const f of ['report.html', 'report.md', 'results.csv', 'results.json']) expect(res.files).toContain(f)
    const details = await Promise.all(ids.map((id) => host.call('runs.get', { id })))
    const table = buildResultsTable(details, ids[0]!)
    const csv = await fs.readFile(path.join(res.dir, 'results.csv'), 'utf8')
    for (const d of details)
      for (const e of d.evaluations) {
        expect(csv).toContain((e.accuracy * 100).toFixed(2))
        expect(res.html).toContain((e.accuracy * 100).toFixed(1))
      }
    // The RotNet row carries a relative improvement against the pinned baseline.
    const rot = table.rows.find((r) => r.id === ids[1])!
    // A column where the baseline is above 0 (a relative gain over 0 % is undefined).
    const key = table.columns.find((c) => table.rows[0]!.values[c.key]! > 0)!.key
    expect(rot.relative[key]).toBeCloseTo(((rot.values[key]! - table.rows[0]!.values[key]!) / table.rows[0]!.values[key]!) * 100, 6)
    expect(res.html).toMatch(/% rel\., [+-]\d+\.\d pts\)/)
    // Uncertainty: every accuracy with its Wilson interval, the test images and the noise rule.
    expect(res.html).toMatch(/<span class="ci">\[\d+\.\d, \d+\.\d\]<\/span>/)
    expect(res.html).toMatch(/n = 20 test images/)
    expect(res.html).toContain('Welch t-test')
    // A dataset header row spanning its protocols.
    expect(res.html).toMatch(/<th colspan="2" class="group" title="sample \(10 classes, 32px, seed 1\)">sample<\/th>/)
    // Self-contained: no scripts, nothing fetched from anywhere.
    expect(res.html).not.toMatch(/<script/i)
    expect(res.html).not.toMatch(/(src|href)="(https?:)?\/\//i)
    // Rotation previews only for the run that has a rotation head.
    expect(res.html.match(/<h3>RotNet<\/h3><div class="previews">/g)).toHaveLength(1)
    // Every image the Markdown links exists.
    const md = await fs.readFile(path.join(res.dir, 'report.md'), 'utf8')
    const links = [...md.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!)
    expect(links.length).toBeGreaterThan(4)
    for (const l of links) await fs.access(path.join(res.dir, l))
    const json = JSON.parse(await fs.readFile(path.join(res.dir, 'results.json'), 'utf8'))
    expect(json.runs.map((r: { id: string }) => r.id)).toEqual(ids)
  })

  it('refuses a PDF headless with a pointer to the print stylesheet, and a baseline outside the runs', async () => {
    const pdf = await host.dispatch('reports.export', { runIds: ids, pdf: true })
    expect(pdf).toMatchObject({ ok: false, error: { code: 'unsupported' } })
    const bad = await host.dispatch('reports.export', { runIds: [ids[1]!], baselineId: ids[0]! })
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-argument' } })
  })

  it('returns the report folder as a zip for a browser, and keeps configs to their differences in the body and an appendix', async () => {
    const res = await host.call('reports.export', { runIds: ids, baselineId: ids[0]!, title: 'Zipped report', name: 'zipped', zip: true })
    expect(res.zip).toBeTruthy()
    const entries = unzipSync(Buffer.from(res.zip!, 'base64'))
    // Everything written, in one folder named after the report, byte for byte.
    expect(Object.keys(entries).sort()).toEqual(res.files.map((f) => `zipped/${f}`).sort())
    for (const f of ['report.html', 'report.md', 'results.csv', 'results.json']) expect(Object.keys(entries)).toContain(`zipped/${f}`)
    expect(Object.keys(entries).some((f) => f.endsWith('.png'))).toBe(true)
    expect(Buffer.from(entries['zipped/results.csv']!).equals(await fs.readFile(path.join(res.dir, 'results.csv')))).toBe(true)
    expect(strFromU8(entries['zipped/report.html']!)).toContain('<title>Zipped report</title>')
    // Without asking, no zip (it can be megabytes).
    expect((await host.call('reports.export', { runIds: ids, name: 'no-zip' })).zip).toBeUndefined()

    // The body: only the settings that differ, a run per column; the full configs after everything else.
    const html = res.html
    const body = html.indexOf('<h2>Configuration differences</h2>')
    const appendix = html.indexOf('<h2>Appendix: full configurations</h2>')
    expect(body).toBeGreaterThan(html.indexOf('<h2>Results (top-1 %)</h2>'))
    expect(appendix).toBeGreaterThan(body)
    const diffTable = html.slice(body, appendix)
    expect(diffTable).toContain('<th>random init</th><th>RotNet</th>')
    expect(diffTable).toMatch(/<tr><td><code>pretrain\.enabled<\/code><\/td><td>false<\/td><td>true<\/td><\/tr>/)
    expect(diffTable).not.toContain('backbone.arch')
    expect(html.slice(appendix)).toContain('backbone.arch')
    expect(html).toContain('.appendix{break-before:page}')
    const md = strFromU8(entries['zipped/report.md']!)
    expect(md.indexOf('## Configuration differences')).toBeLessThan(md.indexOf('## Appendix: full configurations'))
    expect(md).toMatch(/\| `pretrain\.enabled` \| false \| true \|/)
  })

  it('computes a t-SNE map of a run in a worker with progress and previews, stores it, and serves it cached', async () => {
    const events: { key: string; phase: string; preview?: number[] }[] = []
    const off = host.onEvent((name, p) => {
      if (name === 'maps.progress') events.push(p as (typeof events)[number])
    })
    const spec = { method: 'tsne' as const, layer: 'fc' as const, split: 'train' as const, perplexity: 5, iterations: 300, seed: 1, maxPoints: 30 }
    const started = await host.call('maps.compute', { id: ids[1]!, spec })
    expect(started.cached).toBe(false)
    const t0 = Date.now()
    while (!events.some((e) => e.phase === 'done') && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 50))
    off()
    expect(events.some((e) => e.phase === 'features')).toBe(true)
    expect(events.some((e) => e.phase === 'optimize' && e.preview?.length === 60)).toBe(true)
    // The classes arrive once, with the first layout preview.
    const withLabels = events.filter((e) => (e as { labels?: number[] }).labels)
    expect(withLabels).toHaveLength(1)
    expect((withLabels[0] as { labels?: number[] }).labels).toHaveLength(30)
    const map = await host.call('maps.get', { id: ids[1]!, key: started.key })
    expect(map.n).toBe(30)
    expect(map.xy).toHaveLength(60)
    expect(map.labels).toHaveLength(30)
    expect(map.knnPreservation).toBeGreaterThan(0)
    expect(map.knnPreservation).toBeLessThanOrEqual(1)
    expect(await host.call('maps.compute', { id: ids[1]!, spec })).toEqual({ key: started.key, cached: true })
    expect(map.weights).toMatch(/^backbone-pretrain\.bin@/)
    expect(map.indices).toHaveLength(30)
    expect(new Set(map.indices).size).toBe(30)

    // The features are stored with the run: a PCA of the same features skips the extraction.
    const feat = path.join(await host.runs.runDir(ids[1]!), 'artifacts', 'features', 'fc-train-latest-n30-s1')
    const meta = JSON.parse(await fs.readFile(`${feat}.json`, 'utf8'))
    expect(meta).toMatchObject({ n: 30, indices: map.indices, labels: map.labels })
    expect((await fs.stat(`${feat}.f32`)).size).toBe(30 * meta.dim * 4)
    const waitDone = async (key: string): Promise<typeof events> => {
      const t1 = Date.now()
      while (!events.some((e) => e.key === key && e.phase === 'done') && Date.now() - t1 < 60_000) await new Promise((r) => setTimeout(r, 50))
      return events.filter((e) => e.key === key)
    }
    const on2 = host.onEvent((name, p) => {
      if (name === 'maps.progress') events.push(p as (typeof events)[number])
    })
    const pcaStart = await host.call('maps.compute', { id: ids[1]!, spec: { method: 'pca', layer: 'fc', split: 'train', seed: 1, maxPoints: 30 } })
    const pcaEvents = await waitDone(pcaStart.key)
    expect(pcaEvents.filter((e) => e.phase === 'features').map((e) => (e as unknown as { fraction: number }).fraction)).toEqual([1])
    const pcaMap = await host.call('maps.get', { id: ids[1]!, key: pcaStart.key })
    expect(pcaMap.indices).toEqual(map.indices)
    // New weights (the run trained on): the stored map no longer counts.
    const weightsFile = path.join(await host.runs.runDir(ids[1]!), 'artifacts', 'backbone-pretrain.bin')
    const later = new Date(Date.now() + 5000)
    await fs.utimes(weightsFile, later, later)
    const again = await host.call('maps.compute', { id: ids[1]!, spec })
    expect(again.cached).toBe(false)
    await waitDone(again.key)
    // The random-init run's map says its weights are untrained.
    const rnd = await host.call('maps.compute', { id: ids[0]!, spec: { method: 'pca', layer: 'fc', split: 'test', seed: 0, maxPoints: 20 } })
    await waitDone(rnd.key)
    expect((await host.call('maps.list', { id: ids[0]! })).map((m) => m.weights)).toEqual(['random-init'])
    on2()
    const bad = await host.dispatch('maps.get', { id: ids[1]!, key: 'no-such-map' })
    expect(bad).toMatchObject({ ok: false, error: { code: 'invalid-argument' } })
    // A computed map goes into the next report as an SVG scatter plot.
    const rep = await host.call('reports.export', { runIds: [ids[1]!], sections: ['maps'], name: 'with-map' })
    expect(rep.html).toMatch(/<h2>Feature maps<\/h2>/)
    // Both maps of the run (the t-SNE and the PCA), 30 points each.
    expect((rep.html.match(/<circle /g) ?? []).length).toBe(60)
  }, 90_000)

  it('maps the projection head of a contrastive run; a RotNet run has none and says so', async () => {
    const sim = await host.call('runs.create', {
      config: { ...tiny('simclr', 'SimCLR'), evaluation: { linear: { enabled: false }, knn: { enabled: false } } },
      preset: null
    })
    expect((await host.runs.waitSettled(sim.id)).status.state).toBe('done')
    const events: { id: string; key: string; phase: string; error?: string }[] = []
    const off = host.onEvent((name, p) => {
      if (name === 'maps.progress') events.push(p as (typeof events)[number])
    })
    const until = async (id: string, key: string): Promise<(typeof events)[number]> => {
      const t0 = Date.now()
      for (;;) {
        const end = events.find((e) => e.id === id && e.key === key && (e.phase === 'done' || e.phase === 'failed'))
        if (end) return end
        if (Date.now() - t0 > 60_000) throw new Error('map did not finish')
        await new Promise((r) => setTimeout(r, 50))
      }
    }
    const spec = { method: 'pca' as const, layer: 'proj' as const, split: 'test' as const, seed: 2, maxPoints: 20 }
    const started = await host.call('maps.compute', { id: sim.id, spec })
    expect((await until(sim.id, started.key)).phase).toBe('done')
    const map = await host.call('maps.get', { id: sim.id, key: started.key })
    expect(map.n).toBe(20)
    expect(map.weights).toMatch(/^model-pretrain\.bin@/)
    // The stored features are the head's 128-d, L2-normalised output.
    const meta = JSON.parse(await fs.readFile(path.join(await host.runs.runDir(sim.id), 'artifacts', 'features', 'proj-test-latest-n20-s2.json'), 'utf8'))
    expect(meta.dim).toBe(128)
    const f = new Float32Array(
      (await fs.readFile(path.join(await host.runs.runDir(sim.id), 'artifacts', 'features', 'proj-test-latest-n20-s2.f32'))).buffer.slice(0)
    )
    for (let i = 0; i < 20; i++) expect(Math.hypot(...f.subarray(i * 128, (i + 1) * 128))).toBeCloseTo(1, 4)
    const rot = await host.call('maps.compute', { id: ids[1]!, spec })
    expect((await until(ids[1]!, rot.key)).error).toMatch(/pretraining \(rotnet\) has no projection head: map the fc feature instead/)
    off()
  }, 90_000)

  it('config diff lists only the keys that differ', () => {
    expect(
      differingKeys([
        { a: 1, b: { c: 2, d: 3 } },
        { a: 1, b: { c: 5, d: 3 } }
      ])
    ).toEqual(['b.c'])
  })
})
