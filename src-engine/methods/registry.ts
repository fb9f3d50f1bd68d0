// Method registry: config name -> factory. Adding a method is one file and one line here.
import type { MethodConfig, MethodName } from '../../src-shared/config/train'
import { createRotNet } from './rotnet'
import { createRfd } from './rfd'
import { createRfdContrastive } from './rfd-contrastive'
import { createSimclr } from './simclr'
import { createSupervised } from './supervised'
import type { Method, MethodContext } from './types'

type Factory<K extends MethodName> = (cfg: Extract<MethodConfig, { method: K }>, mc: MethodContext) => Method

export const METHODS: { [K in MethodName]: { factory: Factory<K>; rotation: boolean; needsLabels: boolean; summary: string } } = {
  rotnet: { factory: createRotNet, rotation: true, needsLabels: false, summary: 'Predict the rotation (0/90/180/270) of each image.' },
  rfd: { factory: createRfd, rotation: true, needsLabels: false, summary: 'Rotation Feature Decoupling: rotation CE + invariance MSE + NCE with a memory bank.' },
  'rfd-contrastive': { factory: createRfdContrastive, rotation: true, needsLabels: false, summary: 'RFD with NT-Xent between each view and the mean, MLP heads.' },
  simclr: { factory: createSimclr, rotation: false, needsLabels: false, summary: 'Two augmented crops, NT-Xent.' },
  supervised: { factory: (_cfg, mc) => createSupervised(mc), rotation: false, needsLabels: true, summary: 'Labels and cross-entropy (baseline / fine-tuning).' }
}

export function createMethod(cfg: MethodConfig, mc: MethodContext): Method {
  const entry = METHODS[cfg.method] as { factory: (c: MethodConfig, m: MethodContext) => Method }
  return entry.factory(cfg, mc)
}
