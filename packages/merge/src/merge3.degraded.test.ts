/** MG9: pathological inputs finish; past the work bound the merge degrades, loudly. */
import { describe, expect, it } from 'vitest'
import { merge3 } from './merge3.js'

const lines = (n: number, f: (i: number) => string) =>
  Array.from({ length: n }, (_, i) => f(i) + '\n').join('')

describe('merge3 bounded work (MG9)', () => {
  it('MG9 merges 10^5 identical lines with edits at both ends', () => {
    const base = lines(100_000, () => 'same')
    const r = merge3(base, 'top\n' + base, base + 'bottom\n')
    expect(r).toMatchObject({ clean: true, degraded: false })
    expect(r.text).toBe('top\n' + base + 'bottom\n')
  })

  it('MG9 merges a 5 MB note with no newline at all', () => {
    const base = 'x'.repeat(5_000_000)
    const r = merge3(base, base + 'a', base + 'b')
    expect(r.clean).toBe(false)
    expect(r.conflicts).toHaveLength(1)
    expect(r.text).toBe(`<<<<<<< ours\n${base}a\n=======\n${base}b\n>>>>>>> theirs\n`)
    expect(merge3(base, base + 'a', base).text).toBe(base + 'a')
  })

  it('MG9 falls back to one conflict between the common head and tail past maxWork', () => {
    const base = 'head\n' + lines(3000, (i) => String(i % 5)) + 'tail\n'
    const ours = 'head\n' + lines(3000, (i) => String((i + 1) % 5)) + 'tail\n'
    const theirs = 'head\n' + lines(3000, (i) => String((i + 2) % 5)) + 'tail\n'
    const r = merge3(base, ours, theirs, { maxWork: 10_000 })
    expect(r.degraded).toBe(true)
    expect(r.clean).toBe(false)
    expect(r.conflicts).toEqual([
      {
        ours: { start: 1, end: 3001 },
        theirs: { start: 1, end: 3001 },
        base: { start: 1, end: 3001 },
        markerLine: 1,
      },
    ])
    const mid = (s: string) => s.slice('head\n'.length, -'tail\n'.length)
    expect(r.text).toBe(
      `head\n<<<<<<< ours\n${mid(ours)}=======\n${mid(theirs)}>>>>>>> theirs\ntail\n`,
    )
    // The same inputs with the default bound merge at line level.
    expect(merge3(base, ours, theirs).degraded).toBe(false)
  })

  it('MG9 a degraded diff3 conflict still shows the whole base', () => {
    const r = merge3('a\nb\n', 'a\nc\n', 'a\nd\n', { maxWork: 1, style: 'diff3' })
    expect(r.degraded).toBe(true)
    expect(r.text).toBe('a\n<<<<<<< ours\nc\n||||||| base\nb\n=======\nd\n>>>>>>> theirs\n')
  })

  it('MG9 one-sided and identical changes never degrade, whatever the bound', () => {
    expect(merge3('a\n', 'b\n', 'a\n', { maxWork: 0 })).toMatchObject({
      clean: true,
      text: 'b\n',
      degraded: false,
    })
    expect(merge3('a\n', 'b\n', 'b\n', { maxWork: 0 })).toMatchObject({
      clean: true,
      text: 'b\n',
      degraded: false,
    })
  })
})
