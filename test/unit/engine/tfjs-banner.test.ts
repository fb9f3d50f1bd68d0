// The cpu backend's "Hi, looks like you are running TensorFlow.js in Node.js" banner never reaches
// a user: the CLI, the doctor and the run worker all select backends through src-engine/backends.
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as tf from '@tensorflow/tfjs-core'
import { selectBackend } from '../../../src-engine/backends'

afterEach(() => vi.restoreAllMocks())

describe('tfjs cpu backend', () => {
  it('prints no "running TensorFlow.js in Node.js" banner on its first use', async () => {
    const printed: string[] = []
    const keep = (...args: unknown[]): void => void printed.push(args.map(String).join(' '))
    vi.spyOn(console, 'warn').mockImplementation(keep)
    vi.spyOn(console, 'log').mockImplementation(keep)
    vi.spyOn(console, 'info').mockImplementation(keep)
    const { name } = await selectBackend('cpu')
    expect(name).toBe('cpu')
    tf.tidy(() => tf.add(tf.ones([2, 2]), tf.scalar(1)).dataSync())
    expect(printed.filter((l) => l.includes('TensorFlow.js in'))).toEqual([])
  })
})
