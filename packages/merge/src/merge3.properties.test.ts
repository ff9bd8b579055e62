/**
 * MG10: algebraic properties of merge3 on seeded random triples, and the
 * conflict hunks pointing at the right lines (MG8).
 */
import { createRng, fuzzIterations, fuzzSeed } from '@skein/core/testing'
import { describe, expect, it } from 'vitest'
import { splitLines } from './lines.js'
import { merge3 } from './merge3.js'
import { randomTriple } from './triples.test.helper.js'

describe('merge3 properties (MG10)', () => {
  const seed = fuzzSeed('merge3 properties')
  const rng = createRng(seed)
  const triples = Array.from({ length: fuzzIterations(400) }, () => randomTriple(rng))

  it('MG10 a side that did not change yields the other side: merge3(b, x, b) = merge3(b, b, x) = x', () => {
    for (const { base, ours } of triples) {
      expect(merge3(base, ours, base)).toEqual({
        clean: true,
        text: ours,
        conflicts: [],
        degraded: false,
      })
      expect(merge3(base, base, ours)).toEqual({
        clean: true,
        text: ours,
        conflicts: [],
        degraded: false,
      })
    }
  })

  it('MG10 the same change on both sides is clean: merge3(b, x, x) = x', () => {
    for (const { base, ours } of triples) expect(merge3(base, ours, ours).text).toBe(ours)
  })

  it('MG10 the clean/conflict decision and a clean text do not depend on which side is ours', () => {
    let conflicted = 0
    for (const { base, ours, theirs } of triples) {
      const ab = merge3(base, ours, theirs)
      const ba = merge3(base, theirs, ours)
      expect(ab.clean, `seed ${seed}`).toBe(ba.clean)
      if (ab.clean) expect(ab.text).toBe(ba.text)
      else conflicted++
    }
    expect(conflicted).toBeGreaterThan(0)
  })

  it('MG2 edits far apart on the two sides both land in the result', () => {
    for (let n = 0; n < 200; n++) {
      const lines = Array.from({ length: 10 + rng.int(30) }, (_, i) => `line ${i}\n`)
      const cut = 2 + rng.int(lines.length - 4)
      const ours = [...lines]
      ours.splice(rng.int(cut - 1), 1, 'OURS\n', 'MORE\n')
      const theirs = [...lines]
      theirs.splice(cut + 1 + rng.int(lines.length - cut - 1), 1)
      const expected = [
        ...ours.slice(0, ours.length - lines.length + cut + 1),
        ...theirs.slice(cut + 1),
      ]
      const r = merge3(lines.join(''), ours.join(''), theirs.join(''))
      expect(r.clean).toBe(true)
      expect(r.text).toBe(expected.join(''))
    }
  })

  it('MG8 each conflict hunk points at its markers and at the lines shown between them', () => {
    for (const { base, ours, theirs } of triples) {
      for (const style of ['merge', 'diff3'] as const) {
        const r = merge3(base, ours, theirs, { style })
        const out = splitLines(r.text)
        const [o, b, t] = [ours, base, theirs].map(splitLines) as [string[], string[], string[]]
        const plain = (s: string | undefined) => (s ?? '').replace(/\r?\n$/, '')
        for (const h of r.conflicts) {
          let at = h.markerLine
          expect(plain(out[at++])).toBe('<<<<<<< ours')
          for (let i = h.ours.start; i < h.ours.end; i++) expect(plain(out[at++])).toBe(plain(o[i]))
          if (style === 'diff3') {
            expect(plain(out[at++])).toBe('||||||| base')
            for (let i = h.base.start; i < h.base.end; i++)
              expect(plain(out[at++])).toBe(plain(b[i]))
          }
          expect(plain(out[at++])).toBe('=======')
          for (let i = h.theirs.start; i < h.theirs.end; i++)
            expect(plain(out[at++])).toBe(plain(t[i]))
          expect(plain(out[at])).toBe('>>>>>>> theirs')
        }
      }
    }
  })
})
