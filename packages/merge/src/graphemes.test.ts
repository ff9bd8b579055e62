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

describe('TX2 long text', () => {
  const reference = (s: string) =>
    Array.from(
      new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s),
      (x) => x.segment,
    )
  const pieces = [
    'a',
    'b ',
    '\n',
    '\r\n',
    '\r',
    'e\u0301',
    '👍🏽',
    '👨‍👩‍👧',
    '日本',
    '🇫🇷',
    '#\uFE0F\u20E3',
    'x\u200D',
  ]

  it('cut into pieces, it splits exactly like one pass of Intl.Segmenter (boundaries straddling the cuts)', () => {
    for (let seed = 1; seed <= 5; seed++) {
      let x = seed
      const parts: string[] = []
      for (let n = 0; n < 3000; n++) {
        x = (x * 1103515245 + 12345) % 2147483648
        parts.push(pieces[x % pieces.length] as string)
      }
      const s = parts.join('')
      expect(clusters(s)).toEqual(reference(s))
    }
  })

  it('a megabyte note is split in time linear in its length (it used to be quadratic: minutes)', () => {
    const s = 'line of a big note, with an accent: café\n'.repeat(25_000)
    const out = clusters(s)
    expect(out.join('')).toBe(s)
    expect(out.length).toBe(s.length) // é is precomposed: one cluster per character
  })
})
