// Linked highlighting between maps: by class name, absent names unlink.
import { describe, expect, it } from 'vitest'
import { linkedIndex } from '../../../src-renderer/src/lib/map-link'

describe('linked highlighting', () => {
  it('finds the linked class by name in each map, or none', () => {
    expect(linkedIndex(['cat', 'dog', 'ship'], 'dog')).toBe(1)
    expect(linkedIndex(['ship', 'dog'], 'dog')).toBe(1)
    expect(linkedIndex(['ship', 'truck'], 'dog')).toBeNull()
    expect(linkedIndex(['cat'], null)).toBeNull()
  })
})
