// What the project's WGSL kernels hand to tfjs-backend-webgpu: the parts of its WebGPUProgram
// they fill in, the backend calls they use, and the common flat program (one invocation per
// output element, workgroups of 64), declared once for every kernel in this folder.
import type { TensorInfo } from '@tensorflow/tfjs-core'
import { webgpu_util } from '@tensorflow/tfjs-backend-webgpu'

/** The parts of tfjs-backend-webgpu's WebGPUProgram these programs fill in. */
export interface Program {
  variableNames: string[]
  outputShape: number[]
  shaderKey: string
  dispatchLayout: { x: number[]; y?: number[]; z?: number[] }
  dispatch: [number, number, number]
  workgroupSize: [number, number, number]
  uniforms: string
  size: boolean
  getUserCode(): string
}

/** The parts of the WebGPU backend the kernels call. */
export interface ProgramBackend {
  runWebGPUProgram(p: Program, inputs: TensorInfo[], dtype: string, uniforms: { type: string; data: number[] }[]): TensorInfo
  disposeData(dataId: object): void
  device?: { limits?: { maxStorageBufferBindingSize?: number } }
}

/** One invocation per output element (`main(index)` with `uniforms.size`), workgroups of 64. */
export function flatProgram(outputShape: number[], variableNames: string[], shaderKey: string, uniforms: string, body: string): Program {
  const workgroupSize: [number, number, number] = [64, 1, 1]
  const dispatchLayout = webgpu_util.flatDispatchLayout(outputShape)
  return {
    variableNames,
    outputShape,
    shaderKey,
    dispatchLayout,
    dispatch: webgpu_util.computeDispatch(dispatchLayout, outputShape, workgroupSize),
    workgroupSize,
    uniforms,
    size: true,
    getUserCode: () => body
  }
}
