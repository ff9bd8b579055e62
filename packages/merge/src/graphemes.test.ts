/** Grapheme cluster helpers (SPEC.md TX2), with and without Intl.Segmenter. */
import { describe, expect, it } from 'vitest'
import { clusters, isBoundary } from './graphemes.js'

describe.each([true, false])('graphemes (Intl.Segmenter: %s)', (seg) => {
  it('TX2 keeps surrogate pairs, combining marks, skin tones and ZWJ sequences whole', () => {
    const s = 'ae\u0301😀👍🏽👨‍👩‍👧日'
    expect(clusters(s, seg)).toEqual(['a', 'e\u0301', '😀', '👍🏽', '👨‍👩‍👧', '日'])
    expect(clusters('', seg)).toEqual([])
  })
  it('TX2 knows where a cluster boundary is', () => {
    const s = 'xe\u0301😀y'
    expect([0, 1, 2, 3, 4, 5, 6].map((p) => isBoundary(s, p, seg))).toEqual([
      true,
      true,
      false,
      true,
      false,
      true,
      true,
    ])
  })
})

it('TX2 a CR LF pair is one cluster with Intl.Segmenter', () => {
  expect(isBoundary('a\r\nb', 2)).toBe(false)
  expect(isBoundary('a\r\nb', 1)).toBe(true)
})
