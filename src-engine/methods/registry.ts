// Method registry: catalog entry (src-shared/methods/) -> factory. A method is one file here and
// one catalog entry; BUILTIN below is keyed by the catalog's names, so a built-in entry without an
// implementation does not compile. Other methods (a test's, say) call registerMethod themselves,
// before the first config is parsed.
import { BUILTIN_METHODS } from '../../src-shared/methods/builtin'
import { registerMethodEntry, type ConfigOf, type MethodConfigOf, type MethodEntry, type MethodName } from '../../src-shared/methods/catalog'
import { createRotNet } from './rotnet'
import { createRfd } from './rfd'
import { createRfdContrastive } from './rfd-contrastive'
import { createSimclr } from './simclr'
import { createSupervised } from './supervised'
import type { Method, MethodContext } from './types'

export type MethodFactory<C> = (cfg: C, mc: MethodContext) => Method

const factories = new Map<string, MethodFactory<never>>()

/** Put a method in the catalog (if it is not there yet) and give it its implementation. */
export function registerMethod<E extends MethodEntry>(entry: E, factory: MethodFactory<ConfigOf<E>>): void {
  if (factories.has(entry.name)) throw new Error(`method "${entry.name}" has an implementation already`)
  registerMethodEntry(entry)
  factories.set(entry.name, factory as MethodFactory<never>)
}

const BUILTIN: { [K in MethodName]: MethodFactory<MethodConfigOf<K>> } = {
  rotnet: createRotNet,
  rfd: createRfd,
  'rfd-contrastive': createRfdContrastive,
  simclr: createSimclr,
  supervised: (_cfg, mc) => createSupervised(mc)
}
for (const entry of BUILTIN_METHODS) registerMethod(entry, BUILTIN[entry.name] as MethodFactory<ConfigOf<typeof entry>>)

export function createMethod(cfg: { method: string }, mc: MethodContext): Method {
  const factory = factories.get(cfg.method) as MethodFactory<{ method: string }> | undefined
  if (!factory) throw new Error(`method "${cfg.method}" has no implementation in this engine`)
  return factory(cfg, mc)
}
