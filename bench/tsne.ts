// t-SNE benchmark: our Barnes-Hut t-SNE (src-engine/analysis) against scikit-learn's Barnes-Hut
// TSNE (../shared/peer-bench/sklearn_tsne_bench.py, Debian's python3-sklearn), on N x D clustered
// Gaussian features, in the same command so the printed ratio compares like with like on this
// machine.
//
//   npm run bench:tsne -- [--n 10000] [--dim 256] [--iters 1000] [--clusters 10] [--seed 0]
//                         [--pca-dims 0] [--theta 0.5] [--data auto|numpy|ts] [--no-peer] [--json]
//
// Same work as the peer: perplexity 30, PCA init, learning rate 'auto', early exaggeration 12 for
// 250 iterations, 1000 iterations, theta 0.5, exact neighbours (k = 91) in the full input space.
// scikit-learn does not pre-reduce with PCA, so neither do we here (--pca-dims 0); pass
// --pca-dims 50 for the library default (faster, and on this isotropic-noise data it keeps fewer
// of the 256-D neighbours).
// Data: with --data auto (default) the matrix comes from numpy with the peer's own generator lines
// (default_rng(seed): centres N(0,1), labels integers(0,k), noise N(0,0.9)), written to a temp
// file, so both sides embed the SAME matrix; without python (or --data ts) the TypeScript port of
// that generator (statistically the same data).
// Scores, computed as the peer does: 10-NN preservation (mean fraction of each point's 10 nearest
// input neighbours among its 10 nearest map neighbours, Euclidean, self excluded) and 10-NN label
// accuracy in the map. Our seconds cover PCA + kNN + affinities + optimisation (what the peer's
// fit_transform covers); the scores are computed afterwards, outside the timing.
import { parseArgs } from 'node:util'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { clusteredGaussians } from '../src-engine/analysis/synthetic'
import { TSNE } from '../src-engine/analysis/tsne'
import { exactKnn } from '../src-engine/analysis/knn'
import { graphOverlap, knnLabelAccuracy } from '../src-engine/analysis/metrics'

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '10000' },
    dim: { type: 'string', default: '256' },
    iters: { type: 'string', default: '1000' },
    clusters: { type: 'string', default: '10' },
    seed: { type: 'string', default: '0' },
    'pca-dims': { type: 'string', default: '0' },
    theta: { type: 'string', default: '0.5' },
    data: { type: 'string', default: 'auto' },
    'no-peer': { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    peer: { type: 'string', default: path.resolve(import.meta.dirname, '../../shared/peer-bench/sklearn_tsne_bench.py') },
    python: { type: 'string', default: '/usr/bin/python3' }
  }
})
const n = Number(a.n)
const dim = Number(a.dim)
const iters = Number(a.iters)
const clusters = Number(a.clusters)
const seed = Number(a.seed)
const pcaDims = Number(a['pca-dims'])
const theta = Number(a.theta)
const python = a.python!
for (const [k, v] of Object.entries({ n, dim, iters, clusters, seed, pcaDims })) {
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${k} must be a non-negative integer (got ${v})`)
}
if (!['auto', 'numpy', 'ts'].includes(a.data!)) throw new Error('--data must be auto, numpy or ts')

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')
const log = (s: string) => {
  if (!a.json) console.log(s)
}
log(`t-SNE bench: ${n} x ${dim}, ${clusters} clusters, seed ${seed}, ${iters} iterations, perplexity 30, theta ${theta}, pca-dims ${pcaDims || 'none'}`)
log(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}, load average ${load()}`)

// ---- data
const NUMPY_GEN = `
import sys, numpy as np
n, dim, k, seed, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
rng = np.random.default_rng(seed)
centers = rng.normal(0, 1.0, size=(k, dim))
labels = rng.integers(0, k, size=n)
x = (centers[labels] + rng.normal(0, 0.9, size=(n, dim))).astype(np.float32)
x.tofile(out + '.f32'); labels.astype(np.int32).tofile(out + '.i32')
`
let data: Float32Array
let labels: Int32Array
let source: string
const tryNumpy = a.data !== 'ts' && existsSync(python)
let numpyOk = false
if (tryNumpy) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'qt-tsne-'))
  const base = path.join(dir, 'x')
  const p = spawnSync(python, ['-c', NUMPY_GEN, String(n), String(dim), String(clusters), String(seed), base], { encoding: 'utf8' })
  if (p.status === 0) {
    const xb = readFileSync(base + '.f32')
    const lb = readFileSync(base + '.i32')
    data = new Float32Array(xb.buffer.slice(xb.byteOffset, xb.byteOffset + xb.byteLength))
    labels = new Int32Array(lb.buffer.slice(lb.byteOffset, lb.byteOffset + lb.byteLength))
    numpyOk = true
  } else if (a.data === 'numpy') {
    throw new Error(`numpy data generation failed: ${p.stderr}`)
  }
  rmSync(dir, { recursive: true, force: true })
}
if (!numpyOk) {
  const g = clusteredGaussians(n, dim, clusters, seed)
  data = g.data
  labels = g.labels
  source = 'TypeScript port of the peer generator (same distribution, not the same draws)'
} else {
  source = "numpy default_rng, the peer's generator (identical matrix on both sides)"
}
log(`data: ${source}`)

// ---- ours
const cpu0 = process.cpuUsage()
const t0 = performance.now()
const tsne = new TSNE(data!, n, dim, { perplexity: 30, iterations: iters, theta, pcaDims, seed, init: 'pca', learningRate: 'auto' })
tsne.init()
tsne.step(iters, true)
const seconds = (performance.now() - t0) / 1000
const cpuUsed = process.cpuUsage(cpu0)
const cpuSeconds = (cpuUsed.user + cpuUsed.system) / 1e6
const y = tsne.embedding()
const loadOurs = load()
const ts = tsne.timings
// scores (outside the timing)
const s0 = performance.now()
const kIn = exactKnn(data!, n, dim, 10)
const kOut = exactKnn(y, n, 2, 10)
const preservation = graphOverlap(kIn, kOut, n)
const labelAcc = knnLabelAccuracy(y, labels!, n, 2, 10)
const scoreSeconds = (performance.now() - s0) / 1000
const ours = {
  seconds: +seconds.toFixed(2),
  cpu_seconds: +cpuSeconds.toFixed(2),
  knn_preservation: +preservation.toFixed(4),
  knn_label_accuracy: +labelAcc.toFixed(4),
  kl: +tsne.kl.toFixed(4),
  phases_s: {
    pca: +(ts.pcaMs / 1000).toFixed(2),
    knn: +(ts.knnMs / 1000).toFixed(2),
    affinities: +(ts.affinitiesMs / 1000).toFixed(2),
    optimize: +(ts.optimizeMs / 1000).toFixed(2)
  },
  threads: 1,
  load_average: loadOurs
}
log(`quarterturn  ${JSON.stringify(ours)}  (scores computed in ${scoreSeconds.toFixed(1)} s, untimed)`)

// ---- peer
interface PeerResult {
  seconds: number
  knn_preservation: number
  knn_label_accuracy: number
  cpu_seconds?: number
  load_average?: string
}
let peer: PeerResult | null = null
if (!a['no-peer']) {
  if (!existsSync(a.peer!)) {
    log(`peer: ${a.peer} not found; pass --peer PATH or --no-peer`)
  } else {
    const args = [a.peer!, '--n', String(n), '--dim', String(dim), '--clusters', String(clusters), '--seed', String(seed), '--json']
    if (iters !== 1000) log(`note: the peer always runs 1000 iterations (it has no flag for it); --iters ${iters} makes the ratio unfair`)
    // /usr/bin/time adds the peer's CPU seconds (user + sys of the whole python process)
    const useTime = existsSync('/usr/bin/time')
    const p = useTime
      ? spawnSync('/usr/bin/time', ['-f', 'QT_CPU %U %S', python, ...args], { encoding: 'utf8' })
      : spawnSync(python, args, { encoding: 'utf8' })
    if (p.status !== 0) {
      log(`peer failed (${python} ${args.join(' ')}): ${p.stderr.trim().split('\n').at(-1)}`)
    } else {
      const line = p.stdout.trim().split('\n').at(-1)!
      const pr = JSON.parse(line) as PeerResult
      const m = /QT_CPU ([\d.]+) ([\d.]+)/.exec(p.stderr)
      if (m) pr.cpu_seconds = +(Number(m[1]) + Number(m[2])).toFixed(2)
      pr.load_average = load()
      peer = pr
      log(`scikit-learn ${JSON.stringify(pr)}  (cpu_seconds: whole python process incl. data generation and scoring; OpenMP threads: ${os.cpus().length})`)
    }
  }
}

if (peer) {
  const ratio = seconds / peer.seconds
  log(
    `time ratio (quarterturn / scikit-learn seconds): ${ratio.toFixed(3)}  (${ratio <= 1 ? `${(1 / ratio).toFixed(2)}x faster` : `${ratio.toFixed(2)}x slower`})`
  )
  log(
    `10-NN preservation: quarterturn ${preservation.toFixed(4)} vs scikit-learn ${peer.knn_preservation.toFixed(4)}  (${preservation >= peer.knn_preservation ? 'equal or better' : 'lower'})`
  )
  log(`10-NN label accuracy: quarterturn ${labelAcc.toFixed(4)} vs scikit-learn ${peer.knn_label_accuracy.toFixed(4)}`)
  log(`goal (no slower at equal or better preservation): ${ratio <= 1 && preservation >= peer.knn_preservation ? 'met' : 'NOT met'}`)
}
if (a.json) {
  console.log(
    JSON.stringify({
      n,
      dim,
      iters,
      clusters,
      seed,
      pca_dims: pcaDims,
      theta,
      data: numpyOk ? 'numpy' : 'ts',
      quarterturn: ours,
      scikit_learn: peer,
      ratio: peer ? +(seconds / peer.seconds).toFixed(3) : null
    })
  )
}
