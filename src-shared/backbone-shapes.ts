// The parameter shapes of an AlexNet backbone, from its architecture and width alone, and the
// input it expects. The host checks an imported weights file against these before a run exists,
// without loading TensorFlow; src-engine/models/alexnet.ts builds the same network (a test
// compares the two), so keep the tables in step.
import type { AlexnetArch } from './config/names'

/** conv1 of each input variant: kernel, stride, padding, and the input side it is made for. */
export const ALEXNET_STEMS: Record<AlexnetArch, { k: number; stride: number; pad: number; input: number }> = {
  alexnet224: { k: 11, stride: 4, pad: 2, input: 224 },
  alexnet64: { k: 5, stride: 2, pad: 2, input: 64 },
  alexnet32: { k: 3, stride: 1, pad: 1, input: 32 }
}

/** ImageNet normalisation every input gets: (x - mean) / std per RGB channel of [0, 1] pixels. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const

const pooled = (n: number): number => Math.floor((n - 3) / 2) + 1

/** Channel widths of conv1..conv5 and the fc width, and pool5's side. */
export function alexnetGeometry(arch: AlexnetArch, width: number): { convs: number[]; fc: number; poolSide: number; input: number } {
  const c = (n: number): number => Math.max(1, Math.round(n * width))
  const stem = ALEXNET_STEMS[arch]
  const afterStem = Math.floor((stem.input + 2 * stem.pad - stem.k) / stem.stride) + 1
  return { convs: [c(64), c(192), c(384), c(256), c(256)], fc: c(4096), poolSide: pooled(pooled(pooled(afterStem))), input: stem.input }
}

/**
 * Quarterturn's shapes (conv HWIO, linear [in, out]) of every backbone parameter, BatchNorm
 * running statistics included, by Quarterturn name ("conv1.weight", "fc6.bn.running_var").
 */
export function backboneShapes(arch: AlexnetArch, width: number): Record<string, number[]> {
  const g = alexnetGeometry(arch, width)
  const ks = [ALEXNET_STEMS[arch].k, 5, 3, 3, 3]
  const out: Record<string, number[]> = {}
  const bn = (name: string, n: number): void => {
    for (const leaf of ['weight', 'bias', 'running_mean', 'running_var']) out[`${name}.bn.${leaf}`] = [n]
  }
  let cin = 3
  g.convs.forEach((cout, i) => {
    out[`conv${i + 1}.weight`] = [ks[i]!, ks[i]!, cin, cout]
    out[`conv${i + 1}.bias`] = [cout]
    bn(`conv${i + 1}`, cout)
    cin = cout
  })
  out['fc6.weight'] = [g.poolSide * g.poolSide * cin, g.fc]
  bn('fc6', g.fc)
  out['fc7.weight'] = [g.fc, g.fc]
  bn('fc7', g.fc)
  return out
}
