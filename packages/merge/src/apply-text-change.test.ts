/** applyTextChange and diffText (SPEC.md TX1–TX6). */
import { createRng, fuzzIterations, fuzzSeed, type Rng } from '@skein/core/testing'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { applyTextChange } from './apply-text-change.js'
import { isBoundary } from './graphemes.js'
import { diffText } from './text-diff.js'

const PIECES = [
  'a',
  'b',
  ' ',
  '\n',
  '日',
  '本',
  '😀',
  '👍🏽',
  'e\u0301',
  '🇩🇪',
  '🇫🇷',
  '👨‍👩‍👧',
  '\r\n',
  'x',
]

function randomText(rng: Rng, n: number): string {
  return Array.from({ length: n }, () => rng.pick(PIECES)).join('')
}

function mutate(rng: Rng, s: string): string {
  const parts = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(s)].map(
    (x) => x.segment,
  )
  for (let k = rng.int(4); k >= 0; k--) {
    const at = rng.int(parts.length + 1)
    if (rng.chance(0.5)) parts.splice(at, rng.int(3))
    else parts.splice(at, 0, randomText(rng, 1 + rng.int(3)))
  }
  return parts.join('')
}

function textDoc(initial: string, clientID?: number): { doc: Y.Doc; text: Y.Text } {
  const doc = new Y.Doc()
  if (clientID !== undefined) doc.clientID = clientID
  const text = doc.getText('body')
  text.insert(0, initial)
  return { doc, text }
}

describe('applyTextChange (TX1, TX3)', () => {
  it('TX1 always ends with exactly `next`, in one transaction carrying the origin', () => {
    const rng = createRng(fuzzSeed('applyTextChange next'))
    const origin = { name: 'agent' }
    for (let n = 0; n < fuzzIterations(300); n++) {
      const prev = randomText(rng, rng.int(30))
      const next = rng.chance(0.1) ? randomText(rng, rng.int(30)) : mutate(rng, prev)
      const { doc, text } = textDoc(prev)
      const origins: unknown[] = []
      doc.on('afterTransaction', (tr: Y.Transaction) => origins.push(tr.origin))
      applyTextChange(text, next, origin)
      expect(text.toJSON()).toBe(next)
      expect(origins).toEqual(prev === next ? [] : [origin])
    }
  })

  it('TX1 is a no-op when the text is already `next`', () => {
    const { doc, text } = textDoc('same')
    let updates = 0
    doc.on('update', () => updates++)
    expect(applyTextChange(text, 'same')).toEqual([])
    expect(updates).toBe(0)
  })

  it('TX3 a 10-character edit in 100 KB is one small operation, not a rewrite', () => {
    const prev = 'lorem ipsum dolor sit amet\n'.repeat(4000)
    const next = prev.slice(0, 50_000) + '0123456789' + prev.slice(50_005)
    const { doc, text } = textDoc(prev)
    const before = Y.encodeStateAsUpdate(doc).length
    const edits = applyTextChange(text, next)
    expect(text.toJSON()).toBe(next)
    const changed = edits.reduce((n, e) => n + e.deleteCount + e.insert.length, 0)
    expect(changed).toBeLessThanOrEqual(15)
    expect(Y.encodeStateAsUpdate(doc).length - before).toBeLessThan(200)
  })

  it('TX3 keeps unchanged text between two edits', () => {
    expect(diffText('hello brave new world', 'hallo brave new world!')).toEqual([
      { index: 1, deleteCount: 1, insert: 'a' },
      { index: 21, deleteCount: 0, insert: '!' },
    ])
  })

  it('TX1 rejects a Y.Text that is not in a document', () => {
    expect(() => applyTextChange(new Y.Text(), 'x')).toThrow(/not part of a Y.Doc/)
  })
})

describe('applyTextChange units (TX2)', () => {
  it('TX2 never splits a surrogate pair, a combining sequence or an emoji sequence', () => {
    const rng = createRng(fuzzSeed('diffText boundaries'))
    for (let n = 0; n < fuzzIterations(500); n++) {
      const prev = randomText(rng, rng.int(25))
      const next = mutate(rng, prev)
      let shift = 0
      for (const e of diffText(prev, next)) {
        expect(isBoundary(prev, e.index)).toBe(true)
        expect(isBoundary(prev, e.index + e.deleteCount)).toBe(true)
        expect(isBoundary(next, e.index + shift)).toBe(true)
        expect(isBoundary(next, e.index + shift + e.insert.length)).toBe(true)
        shift += e.insert.length - e.deleteCount
      }
    }
  })

  it('TX2 replaces whole emoji and accented letters', () => {
    expect(diffText('a😀b', 'a😃b')).toEqual([{ index: 1, deleteCount: 2, insert: '😃' }])
    expect(diffText('cafe\u0301', 'cafe')).toEqual([{ index: 3, deleteCount: 2, insert: 'e' }])
    expect(diffText('🇩🇪', '🇩🇰')).toEqual([{ index: 0, deleteCount: 4, insert: '🇩🇰' }])
    expect(diffText('日本語', '日本人')).toEqual([{ index: 2, deleteCount: 1, insert: '人' }])
  })
})

describe('applyTextChange with a concurrent edit (TX4)', () => {
  it('TX4 both edits survive and the replicas converge', () => {
    const rng = createRng(fuzzSeed('applyTextChange convergence'))
    for (let n = 0; n < fuzzIterations(150); n++) {
      const words = Array.from(
        { length: 6 + rng.int(10) },
        (_, i) => `w${i}${rng.pick(['', '😀', '日', 'é'])}`,
      )
      const original = words.join(' ')
      const a = textDoc('', 1)
      const b = textDoc('', 2)
      a.text.insert(0, original)
      Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
      // A changes a word in the first half; B, concurrently, one in the second half.
      const i = rng.int(words.length >> 1)
      const j = (words.length >> 1) + rng.int(words.length - (words.length >> 1))
      const mine = words.map((w, k) => (k === i ? `${w}-mine👍` : w)).join(' ')
      applyTextChange(a.text, mine)
      const bStart = words.slice(0, j).join(' ').length + (j > 0 ? 1 : 0)
      b.text.insert(bStart + (words[j] as string).length, '+theirs')
      Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc))
      Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
      const expected = words
        .map((w, k) => (k === i ? `${w}-mine👍` : k === j ? `${w}+theirs` : w))
        .join(' ')
      expect(a.text.toJSON()).toBe(expected)
      expect(b.text.toJSON()).toBe(expected)
    }
  })
})

describe('applyTextChange with concurrent rewrites of the same lines (TX5)', () => {
  it('TX5 every new line of both replicas survives intact', () => {
    const rng = createRng(fuzzSeed('applyTextChange concurrent rewrites'))
    const WORDS = [
      'milk',
      'eggs',
      'call',
      'Anna',
      'about',
      'the',
      'plan',
      'fix',
      'bug',
      'ship',
      'it',
      'today',
      'review',
      'notes',
      '☕',
      'Zürich',
    ]
    // Distinct lines, as people write them: a few words and a unique id.
    // Old lines and replacement lines are unrelated text (TX5): separate vocabularies.
    const half = WORDS.length >> 1
    const line = (words: string[], mark: string) =>
      `${Array.from({ length: 2 + rng.int(4) }, () => rng.pick(words)).join(' ')} ${mark}${rng.int(1e6)}`
    const token = () => line(WORDS.slice(0, half), '#')
    const fresh = () => line(WORDS.slice(half), '~')
    for (let n = 0; n < fuzzIterations(150); n++) {
      const lines = Array.from({ length: 2 + rng.int(8) }, token)
      const original = lines.map((l) => `${l}\n`).join('')
      const a = textDoc('', 1)
      const b = textDoc('', 2)
      a.text.insert(0, original)
      Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
      // Each replica keeps a prefix of the lines and writes its own new lines after it
      // (what an agent folding an offline edit, or a conflict resolution, does).
      const edit = () => {
        const keep = rng.int(lines.length + 1)
        const added = Array.from({ length: 1 + rng.int(3) }, fresh)
        return { added, text: [...lines.slice(0, keep), ...added].map((l) => `${l}\n`).join('') }
      }
      const ea = edit()
      const eb = edit()
      applyTextChange(a.text, ea.text)
      applyTextChange(b.text, eb.text)
      Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc))
      Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
      const merged = a.text.toJSON()
      expect(b.text.toJSON()).toBe(merged)
      const got = merged.split('\n')
      for (const l of [...ea.added, ...eb.added])
        expect(got, `${JSON.stringify(original)} → ${JSON.stringify(merged)}`).toContain(l)
    }
  })
})

describe('applyTextChange with lines that share a skeleton (TX5)', () => {
  // Chaos seed 1999614128: d1 replaced `{T000004-pjivkk}` with `{T000005-ivsgvf}`
  // (half of the line kept: `{T00000` and `}`) while d2 replaced both lines of
  // the note with `{T000011-wctnaa}`; the refined fold left `5-ivsgvf` behind.
  // ids as the chaos ledger writes them: a counter and a random tag
  let counter = 0
  const id = (rng: ReturnType<typeof createRng>) =>
    `{T${String(++counter).padStart(6, '0')}-${Array.from({ length: 6 }, () => String.fromCharCode(97 + rng.int(26))).join('')}}`

  it('TX5 the seed: both new lines survive intact', () => {
    const a = textDoc('{T000003-qjutya}\n{T000004-pjivkk}\n', 1)
    const b = textDoc('', 2)
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    applyTextChange(a.text, '{T000003-qjutya}\n{T000005-ivsgvf}\n')
    applyTextChange(b.text, '{T000011-wctnaa}\n')
    Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc))
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    expect(a.text.toJSON()).toBe(b.text.toJSON())
    expect(a.text.toJSON().split('\n')).toEqual(
      expect.arrayContaining(['{T000005-ivsgvf}', '{T000011-wctnaa}']),
    )
  })

  it('TX5 a line whose middle is replaced is replaced whole; typing is still refined', () => {
    expect(diffText('a\n{T000004-pjivkk}\n', 'a\n{T000005-ivsgvf}\n')).toEqual([
      { index: 2, deleteCount: 17, insert: '{T000005-ivsgvf}\n' },
    ])
    // a typo fixed and a word added in a paragraph: character edits
    expect(diffText('Call Anna abuot the plan.\n', 'Call Anna about the new plan.\n')).toEqual([
      { index: 12, deleteCount: 2, insert: 'ou' },
      { index: 20, deleteCount: 0, insert: 'new ' },
    ])
  })

  it('TX5 every new line survives replicas replacing one line and a run around it', () => {
    const rng = createRng(fuzzSeed('applyTextChange skeleton lines'))
    for (let n = 0; n < fuzzIterations(150); n++) {
      const lines = Array.from({ length: 2 + rng.int(6) }, () => id(rng))
      const original = lines.map((l) => `${l}\n`).join('')
      const a = textDoc('', 1)
      const b = textDoc('', 2)
      a.text.insert(0, original)
      Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
      // a: one line replaced by a new id (same skeleton); b: a run of lines replaced
      const i = rng.int(lines.length)
      const mine = id(rng)
      const from = rng.int(lines.length)
      const to = from + 1 + rng.int(lines.length - from)
      const theirs = Array.from({ length: 1 + rng.int(2) }, () => id(rng))
      const ta = lines.map((l, k) => (k === i ? mine : l))
      const tb = [...lines.slice(0, from), ...theirs, ...lines.slice(to)]
      applyTextChange(a.text, ta.map((l) => `${l}\n`).join(''))
      applyTextChange(b.text, tb.map((l) => `${l}\n`).join(''))
      Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc))
      Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
      const merged = a.text.toJSON()
      expect(b.text.toJSON()).toBe(merged)
      const got = merged.split('\n')
      for (const l of [mine, ...theirs])
        expect(got, `${JSON.stringify(original)} → ${JSON.stringify(merged)}`).toContain(l)
    }
  })
})

describe('applyTextChange replacing changed lines whole (TX6)', () => {
  // Chaos seed 1537759710: d1 saved line X; d0 (offline) resolved its conflict by
  // folding its own version over X; d2, reconnecting at the same moment, replaced X.
  const X = 'saved {T000027-ejwlzj}'
  const MINE = 'saved {T000028-hlukhj}'
  const third = 'copied away {T000031-qazwsx}'
  function race(refine: boolean, x = X, mine = MINE): string {
    const a = textDoc(`top\n${x}\nend\n`, 1)
    const b = textDoc('', 2)
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    applyTextChange(a.text, `top\n${mine}\nend\n`, undefined, { refine })
    applyTextChange(b.text, `top\n${third}\nend\n`, undefined, { refine: false })
    Y.applyUpdate(a.doc, Y.encodeStateAsUpdate(b.doc))
    Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc))
    expect(b.text.toJSON()).toBe(a.text.toJSON())
    return a.text.toJSON()
  }

  it('TX6 a line folded whole over another version survives a third replica replacing that version', () => {
    const lines = race(false).split('\n')
    expect(lines).toContain(MINE)
    expect(lines).toContain(third)
    expect(lines).not.toContain(X)
    // typing in a line: still whole with refine: false
    const typed = `${X} and more`
    expect(race(false, X, typed).split('\n')).toContain(typed)
  })

  it('TX6 (the race it prevents) a refined fold keeps only its new characters when another replica replaces the line', () => {
    // Typing is refined by character even without refine: false (TX5 limits it to
    // small edits): its new characters hang on the old line and outlive it.
    const typed = `${X} and more`
    const merged = race(true, X, typed)
    expect(merged.split('\n')).not.toContain(typed)
    expect(merged).toContain(' and more')
  })

  it('diffText refuses options it cannot use, saying which', () => {
    expect(() => diffText('a', 'b', { refine: 'no' as unknown as boolean })).toThrow(
      /options\.refine/,
    )
    expect(() => diffText('a', 'b', { maxWork: -1 })).toThrow(/options\.maxWork/)
    expect(() => diffText('a', 3 as unknown as string)).toThrow(/must be strings/)
  })

  it('TX6 diffText with refine: false replaces each changed run of lines in one edit', () => {
    expect(diffText('a\nsaved 1\nb\n', 'a\nsaved 2\nb\n', { refine: false })).toEqual([
      { index: 2, deleteCount: 8, insert: 'saved 2\n' },
    ])
    expect(diffText('a\nsaved 1\nb\n', 'a\nsaved 2\nb\n')).toEqual([
      { index: 8, deleteCount: 1, insert: '2' },
    ])
  })
})
