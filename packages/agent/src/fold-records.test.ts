import * as Y from 'yjs'
import { describe, expect, it } from 'vitest'
import type { Body } from './body-docs.js'
import { concurrentFolds, foldIntoBody, repairFolds } from './fold-records.js'

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

  it('records nothing for a fold that changes nothing', () => {
    const a = body()
    a.text.insert(0, BASE)
    foldIntoBody(a, BASE, { device: 'a', base: BASE, at: 1 })
    expect(a.doc.getMap('meta').size).toBe(0)
  })
})
