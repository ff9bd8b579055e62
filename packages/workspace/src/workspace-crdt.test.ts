import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { SkeinError } from '@skein/core'
import { type DeviceId, type FileId } from '@skein/core'
import { WorkspaceCrdt } from './workspace-crdt.js'
import { SCHEMA_VERSION } from './schema.js'
import type { WorkspaceEvent } from './events.js'
import { H, paths, replica, text } from './test-helpers.js'

const codeOf = (fn: () => unknown) => {
  try {
    fn()
  } catch (e) {
    return (e as SkeinError).code
  }
  return 'no error'
}

describe('WorkspaceCrdt basics', () => {
  it('WS7 createFile creates parent folders as entries and derives paths', () => {
    const { ws } = replica('a')
    const id = ws.createFile('notes/2026/todo.md', text())
    expect(ws.getPath(id)).toBe('notes/2026/todo.md')
    expect(ws.findByPath('notes/2026/todo.md')).toBe(id)
    const folder = ws.findByPath('notes')!
    expect(ws.get(folder)?.kind).toBe('folder')
    expect(ws.children(folder).map((c) => ws.getPath(c))).toEqual(['notes/2026'])
    expect(ws.createFolder('notes')).toBe(folder)
    expect(ws.schemaVersion()).toBe(SCHEMA_VERSION)
  })

  it('WS2 a folder rename is one write and moves the whole subtree', () => {
    const { doc, ws } = replica('a')
    for (let i = 0; i < 50; i++) ws.createFile(`a/b/f${i}.md`, text())
    const b = ws.findByPath('a/b')!
    let updates = 0
    doc.on('update', () => updates++)
    const before = Y.encodeStateVector(doc)
    ws.rename(b, 'c')
    expect(updates).toBe(1)
    const diff = Y.encodeStateAsUpdate(doc, before)
    expect(diff.length).toBeLessThan(120)
    expect(ws.findByPath('a/c/f7.md')).toBeDefined()
    expect(ws.findByPath('a/b/f7.md')).toBeUndefined()
  })

  it('WS8 emits typed events with old and new paths and the origin', () => {
    const { ws } = replica('a')
    const events: WorkspaceEvent[] = []
    ws.observe((evs) => events.push(...evs))
    const id = ws.createFile('x/y.md', text(), { source: 'disk', device: 'a' as DeviceId })
    expect(events.map((e) => [e.type, 'path' in e ? e.path : ''])).toEqual([
      ['created', 'x'],
      ['created', 'x/y.md'],
    ])
    expect(events[1]!.origin).toEqual({ source: 'disk', device: 'a' })
    events.length = 0
    ws.rename(id, 'z.md')
    ws.moveToPath(id, 'w/z.md')
    ws.updateContent(id, { hash: H('b'), size: 2, mtime: 2 })
    ws.delete(id)
    ws.restore(id)
    expect(events.map((e) => e.type)).toEqual([
      'renamed',
      'created',
      'moved',
      'contentChanged',
      'deleted',
      'restored',
    ])
    expect(events[0]).toMatchObject({ oldPath: 'x/y.md', newPath: 'x/z.md' })
    expect(events[2]).toMatchObject({ oldPath: 'x/z.md', newPath: 'w/z.md' })
  })

  it('updateContent changes a file between text and binary (a note that became binary), never a folder', () => {
    const { ws } = replica('a')
    const id = ws.createFile('n.md', text())
    ws.updateContent(id, { hash: H('b'), blob: H('b'), size: 2, mtime: 2, kind: 'binary' })
    expect(ws.get(id)).toMatchObject({ kind: 'binary', blob: H('b') })
    ws.updateContent(id, { hash: H('c'), size: 2, mtime: 3, kind: 'text' })
    expect(ws.get(id)?.kind).toBe('text')
    const dir = ws.createFolder('d')
    expect(() =>
      ws.updateContent(dir, { hash: H('d'), size: 1, mtime: 1, kind: 'text' }),
    ).not.toThrow()
    expect(ws.get(dir)?.kind).toBe('folder')
  })

  it('WS10 WS11 folder delete tombstones the subtree; restore brings it back', () => {
    const { ws } = replica('a')
    const f = ws.createFile('d/e/f.md', text())
    const d = ws.findByPath('d')!
    ws.delete(d, 'dev2' as DeviceId)
    expect(ws.getPath(f)).toBeUndefined()
    expect(ws.get(f)).toMatchObject({ deleted: true, deletedBy: 'dev2' })
    expect(ws.list().length).toBe(0)
    expect(ws.list({ includeDeleted: true }).length).toBe(3)
    ws.restore(d)
    expect(ws.getPath(f)).toBe('d/e/f.md')
    ws.delete(f)
    ws.delete(d)
    ws.restore(f)
    expect(ws.getPath(f)).toBe('d/e/f.md')
  })

  it('WS9 prototype-key names work like any other', () => {
    const { ws } = replica('a')
    const names = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf']
    for (const n of names) ws.createFile(`${n}/${n}`, text())
    for (const n of names) expect(ws.getPath(ws.findByPath(`${n}/${n}`)!)).toBe(`${n}/${n}`)
    expect(paths({ doc: ws.doc, ws }).length).toBe(10)
  })

  it('WS9 hostile entries written by a raw peer are never shown', () => {
    const { doc, ws } = replica('a')
    const bad = ['../escape', 'a/b', '', 'nul\u0000', '..', '.']
    doc.transact(() => {
      bad.forEach((name, i) => {
        const m = new Y.Map<unknown>()
        m.set('name', name)
        m.set('parent', '')
        m.set('kind', 'text')
        ws.files.set(`bad${i}`, m)
      })
      const k = new Y.Map<unknown>()
      k.set('name', 'ok.md')
      k.set('parent', '')
      k.set('kind', 'script')
      ws.files.set('badkind', k)
    }, 'remote')
    expect(ws.pathMap().size).toBe(0)
    expect(ws.invalidEntries().size).toBe(bad.length + 1)
  })

  it('WS14 validates input with clear errors', () => {
    const { ws } = replica('a')
    const f = ws.createFile('a/f.md', text())
    const a = ws.findByPath('a')!
    expect(codeOf(() => ws.createFile('../x', text()))).toBe('INVALID_PATH')
    expect(codeOf(() => ws.createFile('a/f.md', text()))).toBe('CONFLICT')
    expect(codeOf(() => ws.createFile('A/F.md', text()))).toBe('CONFLICT')
    expect(codeOf(() => ws.createFile('a/f.md/g.md', text()))).toBe('CONFLICT')
    expect(codeOf(() => ws.rename('nope' as FileId, 'x'))).toBe('NOT_FOUND')
    expect(codeOf(() => ws.rename(f, 'x/y'))).toBe('INVALID_PATH')
    expect(codeOf(() => ws.move(a, a))).toBe('INVALID_INPUT')
    expect(codeOf(() => ws.move(a, f))).toBe('INVALID_INPUT')
    expect(codeOf(() => ws.createFile('b.md', { ...text(), size: -1 }))).toBe('INVALID_INPUT')
    expect(codeOf(() => ws.createFile('b.md', { ...text(), hash: 'xyz' as never }))).toBe(
      'INVALID_INPUT',
    )
    expect(codeOf(() => new WorkspaceCrdt({} as never, { device: 'a' as DeviceId }))).toBe(
      'INVALID_INPUT',
    )
  })

  it('WS12 refuses to write into a newer schema', () => {
    const { doc, ws } = replica('a')
    doc.getMap('schema').set('version', 99)
    expect(codeOf(() => ws.createFile('a.md', text()))).toBe('UNSUPPORTED')
  })

  it('WS3 loading from encoded state derives the same tree', () => {
    const { doc, ws } = replica('a')
    for (let i = 0; i < 30; i++) ws.createFile(`d${i % 3}/s${i % 5}/f${i}.md`, text())
    ws.rename(ws.findByPath('d1')!, 'renamed')
    const doc2 = new Y.Doc()
    Y.applyUpdate(doc2, Y.encodeStateAsUpdate(doc))
    const ws2 = new WorkspaceCrdt(doc2, { device: 'b' as DeviceId })
    expect(paths({ doc: doc2, ws: ws2 })).toEqual(paths({ doc, ws }))
  })
})
