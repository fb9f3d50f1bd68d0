// Dataset pipeline benchmark: generate N JPEGs in a temporary folder, index them with the app's
// own job (worker thread, decode + resize + hash + stream into the uint8 cache), and compare with
// the Pillow/NumPy peer (../shared/peer-bench/pil_loader_bench.py) on the same folder in the same
// command. Then read the cache back the way training does (random batches, 4 rotated views per
// image) and compare that with what a training step consumes (bench/train.ts).
//
//   npm run bench:data -- [--n 10000] [--size 64|500x375|both] [--working 64] [--batch 192]
//                         [--no-peer] [--train-views N | --no-train] [--keep]
//
// --size: which JPEGs to generate (default both: N of 64x64 and N of 500x375, each benched on its
// own). --working: the cache's working size (default 64, the peer's --size). --train-views: a
// known training consumption in views/s (from `npm run bench:train`); by default a short
// bench:train run (RFD step, wasm, width 1, batch 32, input 64) measures it here.
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, promises as fs, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Transformer } from '@napi-rs/image'
import { startIndexJob } from '../src-host/datasets/jobs'
import { IndexOptionsSchema } from '../src-shared/contract/datasets'
import { CacheSplitFile, openCacheSplit } from '../src-node/dataset-folder'
import { Rng } from '../src-shared/rng'

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    size: { type: 'string', default: 'both' },
    working: { type: 'string', default: '64' },
    batch: { type: 'string', default: '192' },
    'no-peer': { type: 'boolean', default: false },
    peer: { type: 'string', default: path.resolve(import.meta.dirname, '../../shared/peer-bench/pil_loader_bench.py') },
    workers: { type: 'string', default: '2' },
    'train-views': { type: 'string' },
    'no-train': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false }
  }
})
const N = Number(a.n)
const WORKING = Number(a.working)
const BATCH = Number(a.batch)
if (!Number.isInteger(N) || N < 10) throw new Error('--n must be an integer >= 10')
const sizes: [number, number][] =
  a.size === 'both'
    ? [
        [64, 64],
        [500, 375]
      ]
    : [a.size!.split('x').map(Number) as [number, number]].map(([w, h]) => [w!, h ?? w!] as [number, number])
if (sizes.some(([w, h]) => !(w >= 8 && h >= 8))) throw new Error('--size must be 64, 500x375 (WxH) or both')

/** A photo-like image: smooth gradients, a few shapes, mild noise (JPEG sizes like real photos, not noise). */
function photo(w: number, h: number, rng: Rng): Uint8Array {
  const px = new Uint8Array(w * h * 4)
  const c0 = [rng.int(256), rng.int(256), rng.int(256)]
  const c1 = [rng.int(256), rng.int(256), rng.int(256)]
  const seed = rng.nextUint32()
  for (let y = 0; y < h; y++) {
    const t = y / h
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * 4
      const n = ((Math.imul(x * 73 + y * 151, 2654435761) ^ seed) >>> 28) - 8 // cheap grain
      px[o] = c0[0]! * (1 - t) + c1[0]! * t + n
      px[o + 1] = c0[1]! * (1 - t) + c1[1]! * t + ((x / w) * 40 - 20) + n
      px[o + 2] = c0[2]! * (1 - t) + c1[2]! * t + n
      px[o + 3] = 255
    }
  }
  for (let s = 0; s < 6; s++) {
    const rx = rng.int(w),
      ry = rng.int(h),
      rw = 4 + rng.int(Math.max(1, w >> 2)),
      rh = 4 + rng.int(Math.max(1, h >> 2))
    const col = [rng.int(256), rng.int(256), rng.int(256)]
    for (let y = ry; y < Math.min(h, ry + rh); y++) for (let x = rx; x < Math.min(w, rx + rw); x++) px.set(col, (y * w + x) * 4)
  }
  return px
}

async function generate(dir: string, w: number, h: number): Promise<number> {
  const rng = new Rng(w * 7919 + h)
  let bytes = 0
  const pending: Promise<void>[] = []
  for (let c = 0; c < 10; c++) mkdirSync(path.join(dir, `class${c}`), { recursive: true })
  for (let i = 0; i < N; i++) {
    const rgba = photo(w, h, rng)
    const file = path.join(dir, `class${i % 10}`, `img${String(i).padStart(6, '0')}.jpg`)
    pending.push(
      Transformer.fromRgbaPixels(rgba, w, h)
        .jpeg(90)
        .then((jpg) => {
          bytes += jpg.length
          return fs.writeFile(file, jpg)
        })
    )
    if (pending.length >= 16) await Promise.all(pending.splice(0))
  }
  await Promise.all(pending)
  return bytes
}

/** Source pixel of each output pixel for rotations 1..3 (np.rot90, counter-clockwise), as byte offsets. */
function rotationTables(s: number): Int32Array[] {
  const t = [1, 2, 3].map(() => new Int32Array(s * s))
  for (let i = 0; i < s; i++)
    for (let j = 0; j < s; j++) {
      t[0]![i * s + j] = (j * s + (s - 1 - i)) * 3 // k=1: out[i][j] = in[j][S-1-i]
      t[1]![i * s + j] = ((s - 1 - i) * s + (s - 1 - j)) * 3
      t[2]![i * s + j] = ((s - 1 - j) * s + i) * 3
    }
  return t
}

/** 4 rotated views of each image of a uint8 batch [B, S, S, 3] -> [4B, S, S, 3], view 4k + r = rotation r of image k. */
function rotateViews(batch: Uint8Array, b: number, s: number, tables: Int32Array[]): Uint8Array {
  const px = s * s * 3
  const n = s * s
  const out = new Uint8Array(4 * b * px)
  for (let k = 0; k < b; k++) {
    const src = k * px
    out.set(batch.subarray(src, src + px), 4 * k * px)
    for (let r = 0; r < 3; r++) {
      const t = tables[r]!
      let d = (4 * k + r + 1) * px
      for (let p = 0; p < n; p++, d += 3) {
        const q = src + t[p]!
        out[d] = batch[q]!
        out[d + 1] = batch[q + 1]!
        out[d + 2] = batch[q + 2]!
      }
    }
  }
  return out
}

function trainConsumption(): { viewsPerSec: number; source: string } | null {
  if (a['train-views']) return { viewsPerSec: Number(a['train-views']), source: '--train-views' }
  if (a['no-train']) return null
  const args = [
    'tsx',
    path.resolve(import.meta.dirname, 'train.ts'),
    '--backend',
    'auto',
    '--width',
    '1',
    '--batch',
    '32',
    '--input',
    '64',
    '--steps',
    '3',
    '--warmup',
    '1',
    '--no-peer'
  ]
  const p = spawnSync('npx', args, { encoding: 'utf8', timeout: 600_000 })
  const line = p.stdout?.split('\n').find((l) => l.startsWith('quarterturn '))
  if (!line) {
    console.log(`training consumption: bench/train.ts gave no figure (${(p.stderr || '').trim().split('\n').at(-1) ?? 'no output'}); pass --train-views N`)
    return null
  }
  const j = JSON.parse(line.slice('quarterturn '.length)) as { views_per_sec: number; backend?: string }
  return { viewsPerSec: j.views_per_sec, source: `bench/train.ts RFD step, input 64, width 1, batch 32, backend ${j.backend ?? '?'}` }
}

const root = mkdtempSync(path.join(os.tmpdir(), 'qt-bench-data-'))
console.log(`Node ${process.versions.node}, ${os.availableParallelism()} cores; folder ${root}`)
let readReport: { viewsPerSec: number } | null = null
try {
  for (const [w, h] of sizes) {
    const dir = path.join(root, `jpeg-${w}x${h}`)
    const t0 = performance.now()
    const bytes = await generate(dir, w, h)
    console.log(
      `\n== ${N} JPEGs ${w}x${h} (quality 90, ${(bytes / N / 1024).toFixed(1)} KiB each), generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`
    )

    const dsDir = path.join(root, `ds-${w}x${h}`)
    const t1 = performance.now()
    const phases = new Map<string, number>()
    const job = startIndexJob(
      {
        mode: 'index',
        source: dir,
        datasetDir: dsDir,
        options: IndexOptionsSchema.parse({ workingSize: WORKING, split: { valFraction: 0, testFraction: 0 } })
      },
      (p) => {
        if (!phases.has(p.phase)) phases.set(p.phase, p.elapsedMs)
      }
    )
    const o = await job.promise
    const wall = (performance.now() - t1) / 1000
    // The job's own clock starts once the worker runs: from source, starting the worker includes
    // tsx compiling the indexer (~0.5 s here); the built app loads plain JS. The peer's clock
    // likewise starts after Python and its imports have loaded.
    const sec = o.elapsedMs / 1000
    const ours = N / sec
    const scanMs = phases.get('decoding') ?? 0
    const decodeMs = (phases.get('finishing') ?? o.elapsedMs) - scanMs
    console.log(
      `             phases: scan + layout ${scanMs.toFixed(0)} ms, decode + write ${decodeMs.toFixed(0)} ms (${(N / (decodeMs / 1000)).toFixed(0)} images/s), index + fsync ${(o.elapsedMs - scanMs - decodeMs).toFixed(0)} ms`
    )
    console.log(
      `quarterturn  scan+decode+resize+hash+cache to ${WORKING}x${WORKING}: ${sec.toFixed(2)} s, ${ours.toFixed(0)} images/s (${(N / wall).toFixed(0)} images/s counting the worker's start, ${wall.toFixed(2)} s; ${o.decoded} decoded, ${o.skipped} skipped, ${job.runner}, cache ${(o.cacheBytes / 2 ** 20).toFixed(1)} MiB)`
    )

    if (!a['no-peer']) {
      if (!existsSync(a.peer!)) console.log(`peer: ${a.peer} not found; pass --peer PATH or --no-peer`)
      else {
        const p = spawnSync('/usr/bin/python3', [a.peer!, dir, '--size', String(WORKING), '--workers', a.workers!, '--json'], { encoding: 'utf8' })
        if (p.status !== 0) console.log(`peer failed: ${p.stderr.trim().split('\n').at(-1)} (apt-get install -y python3-pil python3-numpy)`)
        else {
          const peer = JSON.parse(p.stdout.trim().split('\n').at(-1)!) as { images_per_sec: number; seconds: number; workers: number }
          console.log(`pillow       decode+resize+stack (${peer.workers} workers): ${peer.seconds.toFixed(2)} s, ${peer.images_per_sec.toFixed(0)} images/s`)
          console.log(`ratio (quarterturn / pillow images/s): ${(ours / peer.images_per_sec).toFixed(2)}`)
        }
      }
    }

    if (!readReport) {
      // Batch reading as training does: random batches from the cache, each image turned 4 ways.
      const set = await openCacheSplit(dsDir, 'train')
      const tables = rotationTables(set.size)
      const rng = new Rng(1)
      const idx = new Int32Array(BATCH)
      const rate = async (read: () => Promise<Uint8Array> | Uint8Array, rotate: boolean): Promise<number> => {
        let views = 0
        const t = performance.now()
        while (performance.now() - t < 1500) {
          for (let k = 0; k < BATCH; k++) idx[k] = rng.int(set.n)
          const batch = await read()
          if (rotate) rotateViews(batch, BATCH, set.size, tables)
          views += 4 * BATCH
        }
        return views / ((performance.now() - t) / 1000)
      }
      const sliceRate = await rate(() => set.readBatch(idx), false)
      const memRate = await rate(() => set.readBatch(idx), true)
      const file = await CacheSplitFile.open(dsDir, 'train')
      const fileRate = await rate(() => file.readBatch(idx), true)
      await file.close()
      console.log(`\n== cache batch read, batch ${BATCH} random images, ${set.size}x${set.size}, 4 rotated views per image`)
      console.log(`in memory, slices only (openCacheSplit + readBatch): ${sliceRate.toFixed(0)} views/s`)
      console.log(`in memory, slices + the 4 rotations (uint8, JS): ${memRate.toFixed(0)} views/s`)
      console.log(`from disk (CacheSplitFile.readBatch, positional reads) + rotations: ${fileRate.toFixed(0)} views/s`)
      readReport = { viewsPerSec: memRate }
      const train = trainConsumption()
      if (train) {
        console.log(`training consumes ${train.viewsPerSec.toFixed(0)} views/s (${train.source})`)
        console.log(
          `ratio (batch read / training): in memory ${(memRate / train.viewsPerSec).toFixed(0)}x, from disk ${(fileRate / train.viewsPerSec).toFixed(0)}x`
        )
      }
    }
  }
} finally {
  if (a.keep) console.log(`kept ${root}`)
  else rmSync(root, { recursive: true, force: true })
}
