import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { WorkspaceEvent } from './events.js'
import { WorkspaceCrdt } from './workspace-crdt.js'
import { H, paths, replica, sync, text } from './test-helpers.js'
import type { DeviceId, FileId } from '@skein/core'

/** Two replicas that start from the same synced state. */
function pair() {
  const a = replica('A', 1)
  const b = replica('B', 2)
  return { a, b }
}

describe('concurrent cases', () => {
  it('WS1 rename vs rename: one name wins, same on both, no duplicate', () => {
    const { a, b } = pair()
    const id = a.ws.createFile('n.md', text())
    sync(a, b)
    a.ws.rename(id, 'from-a.md')
    b.ws.rename(id, 'from-b.md')
    sync(a, b)
    expect(paths(a)).toEqual(paths(b))
    expect(paths(a).length).toBe(1)
    expect(['from-a.md', 'from-b.md']).toContain(a.ws.getPath(id))
  })

  it('WS1 rename vs content edit: both survive', () => {
    const { a, b } = pair()
    const id = a.ws.createFile('n.md', text())
    sync(a, b)
    a.ws.rename(id, 'renamed.md')
    b.ws.updateContent(id, { hash: H('b'), size: 9, mtime: 5 })
    sync(a, b)
    for (const r of [a, b]) {
      expect(r.ws.getPath(id)).toBe('renamed.md')
      expect(r.ws.get(id)).toMatchObject({ hash: H('b'), size: 9 })
    }
  })

  it('WS4 move A into B while B moves into A: smallest id attached to root, identical on both', () => {
    const { a, b } = pair()
    const x = a.ws.createFolder('A')
    const y = a.ws.createFolder('B')
    const f = a.ws.createFile('A/inner.md', text())
    sync(a, b)
    a.ws.move(x, y)
    b.ws.move(y, x)
    sync(a, b)
    expect(paths(a)).toEqual(paths(b))
    const [small, big] = x < y ? [x, y] : [y, x]
    expect(a.ws.getPath(small)).toBe(a.ws.get(small)!.name)
    expect(a.ws.getPath(big)).toBe(`${a.ws.get(small)!.name}/${a.ws.get(big)!.name}`)
    expect(a.ws.getPath(f)).toMatch(/inner\.md$/)
    // A fresh replica rebuilding from the state agrees (no repair writes needed).
    const c = replica('C', 3)
    sync(a, c)
    expect(paths(c)).toEqual(paths(a))
  })

  it('WS6 delete folder vs create file inside it: the file shows under lost+found', () => {
    const { a, b } = pair()
    const d = a.ws.createFolder('proj')
    sync(a, b)
    const f = b.ws.createFile('proj/new.md', text())
    a.ws.delete(d)
    const eventsA: WorkspaceEvent[] = []
    a.ws.observe((e) => eventsA.push(...e))
    sync(a, b)
    expect(paths(a)).toEqual(paths(b))
    expect(a.ws.getPath(f)).toBe('lost+found/new.md')
    expect(eventsA).toContainEqual(
      expect.objectContaining({ type: 'created', id: f, path: 'lost+found/new.md' }),
    )
    // Restoring the folder moves the file back where it was created.
    a.ws.restore(d)
    expect(a.ws.getPath(f)).toBe('proj/new.md')
  })

  it('WS7 two devices create the same path: one folder, two files with a deterministic suffix', () => {
    const { a, b } = pair()
    const fa = a.ws.createFile('notes/today.md', text(H('a')))
    const fb = b.ws.createFile('notes/today.md', text(H('b')))
    sync(a, b)
    expect(paths(a)).toEqual(paths(b))
    expect(
      [...a.ws.pathMap().keys()].filter((p) => p.startsWith('notes') && !p.includes('/')).length,
    ).toBe(1)
    const got = [a.ws.getPath(fa), a.ws.getPath(fb)].sort()
    expect(got).toEqual(['notes/today (2).md', 'notes/today.md'])
  })

  it('WS5 case-colliding names Note.md / note.md get a deterministic suffix', () => {
    const { a, b } = pair()
    const n1 = a.ws.createFile('Note.md', text())
    const n2 = b.ws.createFile('note.md', text())
    sync(a, b)
    expect(paths(a)).toEqual(paths(b))
    const shown = [a.ws.getPath(n1), a.ws.getPath(n2)].sort()
    expect(shown).toEqual(
      shown[0] === 'Note.md' ? ['Note.md', 'note (2).md'] : ['Note (2).md', 'note.md'],
    )
    // Deleting the winner frees the plain name for the other one, with an event.
    const winner = a.ws.findByPath('note.md')!
    const loser = winner === n1 ? n2 : n1
    const events: WorkspaceEvent[] = []
    a.ws.observe((e) => events.push(...e))
    a.ws.delete(winner)
    expect(a.ws.getPath(loser)).toBe(a.ws.get(loser)!.name)
    expect(events).toContainEqual(expect.objectContaining({ type: 'renamed', id: loser }))
  })

  it('WS5 NFC vs NFD names collide and are suffixed; a real "x (2)" is skipped', () => {
    const { a, b } = pair()
    const nfc = a.ws.createFile('caf\u00e9.md', text())
    a.ws.createFile('cafe\u0301 (2).md', text())
    sync(a, b)
    // A raw peer writes an NFD name directly.
    b.doc.transact(() => {
      const m = new Y.Map<unknown>()
      for (const [k, v] of Object.entries({
        name: 'cafe\u0301.md',
        parent: '',
        kind: 'text',
        createdAt: Date.now() + 10,
      }))
        m.set(k, v)
      b.ws.files.set('nfdentry', m)
    })
    sync(a, b)
    expect(paths(a)).toEqual(paths(b))
    expect(a.ws.getPath(nfc)).toBe('café.md')
    expect(a.ws.getPath('nfdentry' as FileId)).toBe('café (3).md')
  })

  it('WS6 a real root entry named lost+found yields to the recovery folder', () => {
    const { a, b } = pair()
    const real = a.ws.createFolder('lost+found')
    const d = a.ws.createFolder('gone')
    sync(a, b)
    const orphan = b.ws.createFile('gone/x.md', text())
    a.ws.delete(d)
    sync(a, b)
    expect(a.ws.getPath(orphan)).toBe('lost+found/x.md')
    expect(a.ws.getPath(real)).toBe('lost+found (2)')
    expect(paths(a)).toEqual(paths(b))
  })

  it('WS15 a binary write records what it replaced; a concurrent one never lists the loser', () => {
    const { a, b } = pair()
    const bin = (h: string) => ({ hash: H(h), blob: H(h), size: 1, mtime: 1 })
    const id = a.ws.createFile('p.png', { ...bin('0'), kind: 'binary' })
    sync(a, b)
    // Sequential: b saw a's version, so its write lists it.
    a.ws.updateContent(id, bin('1'))
    sync(a, b)
    b.ws.updateContent(id, bin('2'))
    sync(a, b)
    expect(a.ws.get(id)?.replaced).toEqual([H('1'), H('0')])
    // Concurrent: both replace 2; the value kept does not list the other side's hash.
    a.ws.updateContent(id, bin('a'))
    b.ws.updateContent(id, bin('b'))
    sync(a, b)
    const e = a.ws.get(id)
    expect(e).toEqual(b.ws.get(id))
    const loser = e?.hash === H('a') ? H('b') : H('a')
    expect([H('a'), H('b')]).toContain(e?.hash)
    expect(e?.replaced).toEqual([H('2'), H('1'), H('0')])
    expect(e?.replaced).not.toContain(loser)
    // Bounded; text content carries the list too (a binary device checks against it, WS16).
    for (let i = 0; i < 12; i++) a.ws.updateContent(id, bin((i + 16).toString(16)))
    expect(a.ws.get(id)?.replaced?.length).toBe(8)
    const t = a.ws.createFile('t.md', text())
    expect(a.ws.get(t)?.replaced).toBeUndefined()
    a.ws.updateContent(t, { hash: H('c'), size: 1, mtime: 1 })
    expect(a.ws.get(t)?.replaced).toEqual([H('a')])
  })

  it("WS16 a text write racing a kind change keeps one writer's kind, hash and blob together", () => {
    // Client ids decide which concurrent write a Y.Map keeps: both orders are run.
    const seen = new Set<string>()
    for (const [ida, idb] of [
      [10, 20],
      [20, 10],
    ] as const) {
      const a = replica('A', ida)
      const b = replica('B', idb)
      const id = a.ws.createFile('n.md', text(H('0')))
      sync(a, b)
      a.ws.updateContent(id, { hash: H('b'), blob: H('b'), size: 9, mtime: 2, kind: 'binary' })
      b.ws.updateContent(id, { hash: H('c'), size: 3, mtime: 3 })
      sync(a, b)
      const e = a.ws.get(id)!
      expect(b.ws.get(id)).toEqual(e)
      if (e.kind === 'binary')
        expect([e.hash, e.blob, e.size, e.replaced]).toEqual([H('b'), H('b'), 9, [H('0')]])
      else expect([e.hash, e.blob, e.size, e.replaced]).toEqual([H('c'), undefined, 3, [H('0')]])
      seen.add(e.kind)
    }
    expect([...seen].sort()).toEqual(['binary', 'text'])
  })

  it('WS17 a delete records the hash it saw; a concurrent content write shows as a different hash', () => {
    const { a, b } = pair()
    const id = a.ws.createFile('n.md', text(H('1')))
    sync(a, b)
    a.ws.delete(id)
    b.ws.updateContent(id, { hash: H('2'), size: 2, mtime: 2 })
    sync(a, b)
    const e = b.ws.get(id)!
    expect(a.ws.get(id)).toEqual(e)
    expect([e.deleted, e.deletedHash, e.hash]).toEqual([true, H('1'), H('2')])
    // A delete that saw the latest content: the hashes agree. Restore clears it.
    b.ws.restore(id)
    expect(b.ws.get(id)?.deletedHash).toBeUndefined()
    b.ws.delete(id)
    expect(b.ws.get(id)?.deletedHash).toBe(H('2'))
  })

  it('WS16 an entry written before the content value is read from its loose keys', () => {
    const { a, b } = pair()
    const id = a.ws.createFile('old.png', {
      kind: 'binary',
      hash: H('1'),
      blob: H('1'),
      size: 4,
      mtime: 5,
    })
    a.doc.transact(() => {
      const m = a.doc.getMap<Y.Map<unknown>>('files').get(id)!
      // What a schema-1 replica wrote: the loose keys only.
      m.delete('content')
      m.set('hash', H('2'))
      m.set('blob', H('2'))
      m.set('size', 4)
      m.set('mtime', 5)
    })
    a.doc.getMap('schema').set('version', 1)
    sync(a, b)
    expect(b.ws.get(id)).toMatchObject({ kind: 'binary', hash: H('2'), blob: H('2'), size: 4 })
    // The next write upgrades the document and stores the content as one value.
    b.ws.updateContent(id, { hash: H('3'), blob: H('3'), size: 1, mtime: 6 })
    sync(a, b)
    expect(a.ws.schemaVersion()).toBe(2)
    expect(a.ws.get(id)).toMatchObject({ kind: 'binary', hash: H('3'), replaced: [H('2')] })
    // Garbage in the content value (a hostile peer) falls back to the loose keys, never crashes.
    a.doc.getMap<Y.Map<unknown>>('files').get(id)!.set('content', { kind: 'folder', hash: 7 })
    expect(a.ws.get(id)).toMatchObject({ kind: 'binary', hash: H('2') })
  })

  it('WS13 conflicts recorded on one device are visible on another', () => {
    const { a, b } = pair()
    const f = a.ws.createFile('n.md', text())
    const copy = a.ws.createFile('n.conflict-A-20260101-000000.md', text())
    a.ws.recordConflict({ file: f, kind: 'edit', copy })
    sync(a, b)
    expect(b.ws.conflicts()).toEqual([
      expect.objectContaining({
        file: f,
        copy,
        kind: 'edit',
        device: 'A',
        path: 'n.md',
        resolved: false,
      }),
    ])
    b.ws.resolveConflict(b.ws.conflicts()[0]!.id)
    sync(a, b)
    expect(a.ws.conflicts()[0]!.resolved).toBe(true)
  })

  it('WS13 a conflict needs attention while its copy lives: deleting the copy settles it on every replica', () => {
    const { a, b } = pair()
    const f = a.ws.createFile('n.md', text())
    const g = a.ws.createFile('m.md', text())
    const copy = a.ws.createFile('n.conflict-A-20260101-000000.md', text())
    const withCopy = a.ws.recordConflict({ file: f, kind: 'edit', copy })
    const markers = a.ws.recordConflict({ file: g, kind: 'edit', copy: undefined })
    a.ws.recordConflict({ file: g, kind: 'delete', copy: undefined, resolved: true })
    const openIds = (r: typeof a) =>
      r.ws
        .openConflicts()
        .map((c) => c.id)
        .sort()
    sync(a, b)
    for (const r of [a, b]) {
      expect(r.ws.conflicts()).toHaveLength(3)
      expect(openIds(r)).toEqual([withCopy, markers].sort())
    }
    b.ws.delete(copy)
    sync(a, b)
    for (const r of [a, b]) expect(openIds(r)).toEqual([markers])
    // the record itself stays (history), unresolved: restoring the copy reopens it
    expect(a.ws.conflicts().find((c) => c.id === withCopy)?.resolved).toBe(false)
    a.ws.restore(copy)
    expect(openIds(a)).toEqual([withCopy, markers].sort())
    a.ws.resolveConflict(markers)
    a.ws.resolveConflict(withCopy)
    sync(a, b)
    expect(b.ws.openConflicts()).toEqual([])
  })

  it('WS13 the same conflict recorded concurrently under a derived id is one record', () => {
    const { a, b } = pair()
    const f = a.ws.createFile('n.md', text())
    const copy = a.ws.createFile('n.conflict-A-20260101-000000.md', text())
    sync(a, b)
    a.ws.recordConflict({ id: `name-${copy}`, file: f, kind: 'name', copy })
    b.ws.recordConflict({ id: `name-${copy}`, file: f, kind: 'name', copy })
    sync(a, b)
    expect(a.ws.conflicts()).toEqual(b.ws.conflicts())
    expect(a.ws.conflicts().map((c) => [c.id, c.kind, c.copy])).toEqual([
      [`name-${copy}`, 'name', copy],
    ])
    a.ws.resolveConflict(`name-${copy}`)
    sync(a, b)
    b.ws.recordConflict({ id: `name-${copy}`, file: f, kind: 'name', copy })
    expect(b.ws.conflicts()[0]!.resolved).toBe(true)
  })

  it('WS3 a rebuilt view equals the incremental one after remote updates', () => {
    const { a, b } = pair()
    for (let i = 0; i < 20; i++) a.ws.createFile(`x${i % 4}/f${i}.md`, text())
    sync(a, b)
    b.ws.rename(b.ws.findByPath('x1')!, 'X0')
    sync(a, b)
    const fresh = new WorkspaceCrdt(a.doc, { device: 'Z' as DeviceId })
    expect([...fresh.pathMap()].sort()).toEqual([...a.ws.pathMap()].sort())
  })
})
