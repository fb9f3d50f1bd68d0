// The image dialog closes on an outside click and steps through images with previous/next and
// the arrow keys.
import { describe, expect, it } from 'vitest'
import { isOutsideClick, stepOfKey, stepPos } from '../../../src-renderer/src/lib/image-dialog'

const dialog = { getBoundingClientRect: () => ({ left: 100, right: 400, top: 50, bottom: 450 }) }

describe('image dialog', () => {
  it('a backdrop click (on the dialog, outside its box) closes; a click inside does not', () => {
    expect(isOutsideClick({ clientX: 20, clientY: 200, target: dialog }, dialog)).toBe(true)
    expect(isOutsideClick({ clientX: 200, clientY: 500, target: dialog }, dialog)).toBe(true)
    expect(isOutsideClick({ clientX: 200, clientY: 200, target: dialog }, dialog)).toBe(false)
    expect(isOutsideClick({ clientX: 20, clientY: 200, target: {} }, dialog)).toBe(false)
  })

  it('previous/next stay within the grid', () => {
    expect(stepPos(0, -1, 10)).toBeNull()
    expect(stepPos(0, 1, 10)).toBe(1)
    expect(stepPos(9, 1, 10)).toBeNull()
    expect(stepPos(5, -1, 10)).toBe(4)
  })

  it('arrow keys step', () => {
    expect(stepOfKey('ArrowLeft')).toBe(-1)
    expect(stepOfKey('ArrowUp')).toBe(-1)
    expect(stepOfKey('ArrowRight')).toBe(1)
    expect(stepOfKey('ArrowDown')).toBe(1)
    expect(stepOfKey('Enter')).toBe(0)
  })
})
