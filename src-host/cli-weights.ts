// `quarterturn export-weights <run>`: a run's trained backbone as a .safetensors file in PyTorch's
// layout (docs/weights.md), and the path handling of an imported backbone in a CLI run config.
import { promises as fs } from 'node:fs'
import path from 'node:path'
import type { CliIO } from './cli'
import type { CliHost } from './cli-host'
import { EXIT, resolveRunRef } from './cli-runs'
import { describeFsError } from './errors'
import { writeFileAtomic } from '../src-node/fsutil'

export const EXPORT_WEIGHTS_HELP = `export-weights options:
  --out FILE          Where to write (default: <run id>-<stage>.safetensors in this folder)
  --stage pretrain|finetune   Which stage's backbone (default: the last one the run trains)
  --heads             Add the pretraining method's heads (rot_head.*, proj_head.*, ...)
  --json              Print one JSON line: path, tensors, bytes, sha256, metadata`

export interface ExportWeightsOptions {
  out?: string
  stage?: string
  heads?: boolean
  json?: boolean
}

export async function cmdExportWeights(h: CliHost, ref: string | undefined, o: ExportWeightsOptions, io: CliIO): Promise<number> {
  const fail = (msg: string, code: number): number => {
    io.err(`quarterturn export-weights: ${msg}`)
    return code
  }
  if (!ref) return fail('give a run id, id prefix or name (see quarterturn list).', EXIT.badInput)
  if (o.stage !== undefined && o.stage !== 'pretrain' && o.stage !== 'finetune')
    return fail(`--stage must be pretrain or finetune, got "${o.stage}".`, EXIT.badInput)
  const res = resolveRunRef(await h.call('runs.list', {}), ref)
  if ('error' in res) return fail(res.error, EXIT.badInput)
  const run = res.runs[0]!
  if (run.status.state === 'damaged') return fail(`run ${run.id} is damaged: ${run.status.error}`, EXIT.failed)
  // A host on this machine writes the file where this command can copy it; a remote one sends the bytes.
  const e = await h.call('runs.exportWeights', {
    id: run.id,
    stage: (o.stage as 'pretrain' | 'finetune' | undefined) ?? null,
    heads: o.heads === true,
    data: h.remote !== null
  })
  const file = path.resolve(o.out ?? e.name)
  try {
    await fs.mkdir(path.dirname(file), { recursive: true })
    if (h.remote !== null && e.data === undefined)
      return fail(
        `${e.name} is ${(e.bytes / 1e6).toFixed(0)} MB, too big to send over the connection: the host wrote it to ${e.file}; copy it from there (e.g. with scp).`,
        EXIT.failed
      )
    if (e.data !== undefined) await writeFileAtomic(file, Buffer.from(e.data, 'base64'))
    else if (path.resolve(e.file) !== file) await fs.copyFile(e.file, file)
  } catch (err) {
    return fail(`${describeFsError(err, file, 'write')} Choose another place with --out.`, EXIT.failed)
  }
  if (o.json) io.out(JSON.stringify({ path: file, tensors: e.tensors, bytes: e.bytes, sha256: e.sha256, metadata: e.metadata }))
  else {
    io.out(file)
    io.out(`${e.tensors} tensors, ${e.bytes} bytes, sha256 ${e.sha256}`)
    io.out(
      `${e.metadata.arch} width ${e.metadata.width}, ${e.stage} backbone of ${run.id}${e.metadata.heads !== 'none' ? ` with heads ${e.metadata.heads}` : ''}`
    )
  }
  return EXIT.ok
}

/**
 * A run config file's backbone.init.path, made absolute against the config file's folder (the
 * host takes only absolute paths: it may run elsewhere than the CLI's working folder).
 */
export function resolveInitPath(config: Record<string, unknown>, configFile: string): Record<string, unknown> {
  const backbone = config.backbone as { init?: { kind?: unknown; path?: unknown } } | undefined
  const init = backbone?.init
  if (!init || init.kind !== 'file' || typeof init.path !== 'string' || !init.path.trim() || path.isAbsolute(init.path)) return config
  return { ...config, backbone: { ...backbone, init: { ...init, path: path.resolve(path.dirname(configFile), init.path) } } }
}
