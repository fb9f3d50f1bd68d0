// The host's side of exporting a run's weights (runs.exportWeights): the .safetensors file is
// written under workspace/exports/weights/ and, when asked, returned as base64 for a browser
// (or a CLI on another machine) to save where it likes, up to MAX_SENT_BYTES; a bigger file is
// left on the host and the reply has no data.
import path from 'node:path'
import { ServiceError } from '../errors'
import { WeightsExportError, defaultExportName, exportRunWeights, writeWeightsExport } from '../../src-node/weights-export'
import type { RequestParsedArg, RequestResult } from '../../src-shared/contract'

/**
 * Largest file sent back as base64: a reply travels as one WebSocket message to a browser or a
 * remote CLI (whose client takes up to 100 MiB); bigger ones (AlexNet at width 1) stay on the host.
 */
export const MAX_SENT_BYTES = 64 * 1024 * 1024

export async function exportWeights(
  runDir: string,
  exportsDir: string,
  a: RequestParsedArg<'runs.exportWeights'>,
  version: string
): Promise<RequestResult<'runs.exportWeights'>> {
  try {
    const e = await exportRunWeights(runDir, { stage: a.stage ?? undefined, heads: a.heads, version })
    const name = defaultExportName(a.id, e.stage, a.heads)
    const file = path.join(exportsDir, name)
    await writeWeightsExport(file, e)
    return {
      file,
      name,
      stage: e.stage,
      tensors: e.tensors,
      bytes: e.bytes.byteLength,
      sha256: e.sha256,
      metadata: e.metadata,
      ...(a.data && e.bytes.byteLength <= MAX_SENT_BYTES
        ? { data: Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.byteLength).toString('base64') }
        : {})
    }
  } catch (err) {
    if (err instanceof WeightsExportError) throw new ServiceError(err.message, err.code === 'invalid-argument' ? 'invalid-argument' : 'failed')
    throw err
  }
}
