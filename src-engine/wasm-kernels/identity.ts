// Identity for the wasm backend without the copy. The stock kernel allocates a new heap buffer
// and copies the tensor into it; gradients pass many tensors through Identity (about 2% of a
// training step). Tensors are immutable (a Variable's assign swaps its data rather than writing
// into it), so the output can share the input's heap data with one more reference, as Reshape
// does on this backend and Identity does on the cpu backend.
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core'
import { BACKEND, runKernel, type WasmBackend } from './util'

type Args = { inputs: Record<string, TensorInfo | undefined>; backend: WasmBackend & { incRef(dataId: object): void } }

export function identity(args: Args): TensorInfo {
  const x = args.inputs.x as TensorInfo
  if (x.dtype === 'string') return runKernel('Identity', args.backend, { x })
  args.backend.incRef(x.dataId)
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype }
}

export const identityConfig: KernelConfig = { kernelName: 'Identity', backendName: BACKEND, kernelFunc: identity as unknown as KernelFunc }
