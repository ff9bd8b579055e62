import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import type { Body } from './body-docs.js'
import {
  concurrentFolds,
  foldIntoBody,
  mergedFolds,
  planRepair,
  repairFolds,
} from './fold-records.js'

function body(doc = new Y.Doc()): Body {
  return {
    fileId: 'f' as Body['fileId'],
    room: 'w/f',
    doc,
    text: doc.getText('body'),
    session: {
      synced: async () => {},
      flushed: async () => {},
      settled: () => true,
      close: () => {},
    },
  }
}

function exchange(a: Y.Doc, b: Y.Doc): void {
  Y.applyUpdate(a, Y.encodeStateAsUpdate(b, Y.encodeStateVector(a)))
  Y.applyUpdate(b, Y.encodeStateAsUpdate(a, Y.encodeStateVector(b)))
}

const BASE = 'one\ntwo\nthree\n'

describe('fold records', () => {
  it('detects two folds from the same text and names one repairer', () => {
    const a = body()
    a.text.insert(0, BASE)
    const b = body()
    exchange(a.doc, b.doc)
    foldIntoBody(a, 'one\nA\nthree\n', { device: 'a', base: BASE, at: 1 })
    foldIntoBody(b, 'one\nB\nthree\n', { device: 'b', base: BASE, at: 2 })
    exchange(a.doc, b.doc)
    // The interleaved text is what the repair must replace.
    expect(a.text.toJSON()).not.toBe('one\nA\nthree\n')
    expect(concurrentFolds(a, 'a')).toBeUndefined()
    const group = concurrentFolds(b, 'b')
    expect(group?.map((r) => r.device)).toEqual(['a', 'b'])
    repairFolds(b, group ?? [], 'one\nB\nthree\n', 'b', 3)
    exchange(a.doc, b.doc)
    expect(a.text.toJSON()).toBe('one\nB\nthree\n')
    expect(concurrentFolds(a, 'a')).toBeUndefined()
    expect(concurrentFolds(b, 'b')).toBeUndefined()
  })

  it('sees no concurrency in sequential folds', () => {
    const a = body()
    a.text.insert(0, BASE)
    const b = body()
    exchange(a.doc, b.doc)
    foldIntoBody(a, 'one\nA\nthree\n', { device: 'a', base: BASE, at: 1 })
    exchange(a.doc, b.doc)
    foldIntoBody(b, 'one\nA\nthree\nB\n', { device: 'b', base: BASE, at: 2 })
    exchange(a.doc, b.doc)
    expect(concurrentFolds(a, 'a')).toBeUndefined()
    expect(concurrentFolds(b, 'b')).toBeUndefined()
    expect(b.text.toJSON()).toBe('one\nA\nthree\nB\n')
  })

  it('a whole fold over another version survives a third device replacing that version (chaos 1537759710)', () => {
    const d1 = 'saved {T000027-ejwlzj}'
    const d0 = 'saved {T000028-hlukhj}'
    const d2 = 'saved {T000029-copied}'
    const run = (whole: boolean, mine = d0): string[] => {
      const a = body()
      a.text.insert(0, `x\n${d1}\ny\n`)
      const b = body()
      exchange(a.doc, b.doc)
      foldIntoBody(a, `x\n${mine}\ny\n`, { device: 'd0', base: 'x\ny\n', at: 1, whole })
      foldIntoBody(b, `x\n${d2}\ny\n`, { device: 'd2', base: 'x\ny\n', at: 2, whole: true })
      exchange(a.doc, b.doc)
      expect(b.text.toJSON()).toBe(a.text.toJSON())
      return a.text.toJSON().split('\n')
    }
    expect(run(true)).toEqual(expect.arrayContaining([d0, d2]))
    // d0's line replaces the middle of d1's: whole even when refining (merge TX5)
    expect(run(false)).toEqual(expect.arrayContaining([d0, d2]))
    // typing in d1's line is refined by character, so d2's replacement cuts it; whole it survives
    const typed = `${d1} and more`
    expect(run(false, typed)).not.toContain(typed)
    expect(run(true, typed)).toEqual(expect.arrayContaining([typed, d2]))
  })

  it('records nothing for a fold that changes nothing', () => {
    const a = body()
    a.text.insert(0, BASE)
    foldIntoBody(a, BASE, { device: 'a', base: BASE, at: 1 })
    expect(a.doc.getMap('meta').size).toBe(0)
  })
})

describe('folding text computed from an older body (chaos: reconnect storm)', () => {
  // A fold decided on text `saw`, then awaited (a conflict copy being written)
  // while remote edits arrived. Folding must not delete what arrived.
  it('keeps edits that arrived after the decision', () => {
    const b = body()
    b.text.insert(0, BASE)
    const saw = b.text.toJSON()
    b.text.insert(b.text.length, 'arrived meanwhile\n')
    expect(foldIntoBody(b, 'one\nmine\nthree\n', { device: 'a', base: BASE, at: 1, saw })).toBe(
      true,
    )
    expect(b.text.toJSON()).toBe('one\nmine\nthree\narrived meanwhile\n')
  })

  it('declines (returns false, text untouched) when the arrivals collide with the fold', () => {
    const b = body()
    b.text.insert(0, BASE)
    const saw = b.text.toJSON()
    b.text.delete(4, 4)
    b.text.insert(4, 'theirs\n')
    const before = b.text.toJSON()
    expect(foldIntoBody(b, 'one\nmine\nthree\n', { device: 'a', base: BASE, at: 1, saw })).toBe(
      false,
    )
    expect(b.text.toJSON()).toBe(before)
  })

  it('a repair keeps edits that arrived after it was computed', () => {
    const b = body()
    b.text.insert(0, BASE)
    const current = b.text.toJSON()
    b.text.insert(0, 'arrived\n')
    const group = [
      { device: 'a', saw: 'x', base: BASE, text: 'one\nA\nthree\n', at: 1 },
      { device: 'b', saw: 'x', base: BASE, text: 'one\nB\nthree\n', at: 2 },
    ]
    expect(repairFolds(b, group, 'one\nA\nB\nthree\n', 'b', 3, current)).toBe(true)
    expect(b.text.toJSON()).toBe('arrived\none\nA\nB\nthree\n')
  })
})

describe('replaying a group of folds (mergedFolds)', () => {
  // A typing fold is refined by character (merge TX5); another device replacing
  // the same line whole at once leaves the typed characters as a fragment. The
  // repair must recognise that line as the group's own interleaving, not as a
  // third device's edit to keep.
  const X = 'Call Anna about the plan {T000027-ejwlzj}'
  const typed = `${X} tomorrow`
  const other = 'Moved to Friday {T000031-qazwsx}'
  const base = `x\n${X}\ny\n`

  function race(clients: [number, number]) {
    const a = body()
    a.doc.clientID = clients[0]
    a.text.insert(0, base)
    const b = body()
    b.doc.clientID = clients[1]
    exchange(a.doc, b.doc)
    foldIntoBody(a, `x\n${typed}\ny\n`, { device: 'a', base, at: 1 })
    foldIntoBody(b, `x\n${other}\ny\n`, { device: 'b', base, at: 2, whole: true })
    exchange(a.doc, b.doc)
    return { a, b, group: concurrentFolds(b, 'b') ?? [] }
  }

  it('reproduces the interleaved text of the folds, whichever client id is larger', () => {
    for (const clients of [
      [1, 2],
      [2, 1],
      [3_000_000_000, 7],
    ] as [number, number][]) {
      const { a, group } = race(clients)
      const current = a.text.toJSON()
      expect(current.split('\n')).not.toContain(typed) // the fragment this is about
      expect(current).toContain(' tomorrow')
      expect(group.map((r) => r.device)).toEqual(['a', 'b'])
      expect(mergedFolds(group)).toBe(current)
    }
  })

  it('differs from a body holding a third edit, and declines records it cannot replay', () => {
    const { a, group } = race([1, 2])
    a.text.insert(0, 'third device\n')
    expect(mergedFolds(group)).not.toBe(a.text.toJSON())
    // records from before client ids were recorded
    expect(mergedFolds(group.map(({ client: _c, ...r }) => r))).toBeUndefined()
    // a fold that saw other text than its base
    expect(mergedFolds(group.map((r) => ({ ...r, saw: 'other' })))).toBeUndefined()
    expect(mergedFolds([])).toBeUndefined()
    // records from another device that are not what an agent writes
    for (const bad of [-1, 1.5, 2 ** 32, Number.NaN])
      expect(mergedFolds(group.map((r) => ({ ...r, client: bad })))).toBeUndefined()
    expect(mergedFolds(group.map((r) => ({ ...r, text: 3 as unknown as string })))).toBeUndefined()
  })

  it('a repair replaces the fragment: the newer version stays, the other is a conflict', () => {
    const { a, b, group } = race([1, 2])
    const current = b.text.toJSON()
    const plan = planRepair(group, current, 'b', 'copy')
    expect(plan).toEqual({ target: `x\n${other}\ny\n`, conflicted: true })
    // (the caller saves a's text as a copy, then folds the target)
    expect(repairFolds(b, group, plan!.target, 'b', 3, current)).toBe(true)
    exchange(a.doc, b.doc)
    expect(a.text.toJSON()).toBe(`x\n${other}\ny\n`)
    // markers keep both versions in the note
    expect(planRepair(group, current, 'b', 'markers')?.target).toContain(typed)
    // without the replay (older records) the fragment reads as a third device's line: no repair
    expect(
      planRepair(
        group.map(({ client: _c, ...r }) => r),
        current,
        'b',
        'copy',
      ),
    ).toBeUndefined()
    // and a real third edit still stops it
    const third = `${current}a line from a third device\n`
    expect(planRepair(group, third, 'b', 'copy')).toBeUndefined()
  })
})
