import { describe, expect, it } from 'vitest'
import { count } from './plural.js'

describe('count', () => {
  it('puts the noun in the singular for exactly one, the plural otherwise', () => {
    expect([0, 1, 2].map((n) => count(n, 'file'))).toEqual(['0 files', '1 file', '2 files'])
    expect(count(1, 'new blob')).toBe('1 new blob')
    expect(count(5, 'entry', 'entries')).toBe('5 entries')
  })
})
