import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runDocStoreContract } from '@skein/core/testing'
import { describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LeveldbPersistence } from 'y-leveldb'
import { LevelDocStore } from './leveldb-doc-store.js'

runDocStoreContract('leveldb', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skein-level-'))
  let store = new LevelDocStore(dir)
  return {
    store,
    reopen: async () => {
      await store.close()
      store = new LevelDocStore(dir)
      return store
    },
    teardown: async () => {
      await store.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
})

describe('LevelDocStore layout', () => {
  it('stores updates in the y-leveldb layout, readable by LeveldbPersistence', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skein-level-'))
    const doc = new Y.Doc()
    doc.getText('t').insert(0, 'hello')
    const store = new LevelDocStore(dir)
    await store.append('ws/a', Y.encodeStateAsUpdate(doc))
    await store.close()
    const p = new LeveldbPersistence(dir)
    const loaded = await p.getYDoc('ws/a')
    expect(loaded.getText('t').toJSON()).toBe('hello')
    await p.destroy()
    await rm(dir, { recursive: true, force: true })
  })
})

describe('LevelDocStore group commit', () => {
  it('DS8 many appends issued at once get consecutive sequences, keep their order and the y-leveldb keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skein-level-'))
    const store = new LevelDocStore(dir)
    const doc = new Y.Doc()
    const updates: Uint8Array[] = []
    doc.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 300; i++) doc.getText('t').insert(i, String(i % 10))
    await store.append('ws/other', new Uint8Array([0, 0]))
    const seqs = await Promise.all(updates.map((u) => store.append('ws/a', u)))
    expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i))
    const loaded = await store.load('ws/a')
    expect(loaded?.seq).toBe(seqs.at(-1))
    expect(loaded?.updates).toEqual(updates) // clock order = call order (big-endian keys)
    expect((await store.changes('ws', 0)).changes).toEqual([
      { doc: 'ws/other', seq: 1 },
      { doc: 'ws/a', seq: seqs.at(-1) },
    ])
    await store.close()
    // y-leveldb reads the keys we encoded by hand, in clock order
    const p = new LeveldbPersistence(dir)
    const replica = await p.getYDoc('ws/a')
    expect(replica.getText('t').toJSON()).toBe(doc.getText('t').toJSON())
    await p.destroy()
    await rm(dir, { recursive: true, force: true })
  })
})

describe('LevelDocStore batched loads', () => {
  async function open() {
    const dir = await mkdtemp(join(tmpdir(), 'skein-level-'))
    return { dir, store: new LevelDocStore(dir) }
  }
  const textUpdate = (s: string) => {
    const d = new Y.Doc()
    d.getText('t').insert(0, s)
    return Y.encodeStateAsUpdate(d)
  }
  /** Writes `doc`'s record (`skein_doc`) as raw text, past the store, with y-leveldb itself. */
  const writeRecord = (raw: LeveldbPersistence, doc: string, value: string) =>
    raw._transact((db: { put(k: unknown, v: Uint8Array): Promise<void> }) =>
      db.put(['skein_doc', 'ws', doc], new TextEncoder().encode(value)),
    )
  const textOf = (updates: Uint8Array[] | undefined) => {
    const d = new Y.Doc()
    for (const u of updates ?? []) Y.applyUpdate(d, u)
    return d.getText('t').toJSON()
  }

  it('DS9 loads issued at once each get their own document, in call order with appends', async () => {
    const { dir, store } = await open()
    const names = Array.from({ length: 300 }, (_, i) => `ws/d${i}`)
    await Promise.all(names.map((n) => store.append(n, textUpdate(n))))
    // short logs (read by key), one long log (read with an iterator), one missing document
    const long = new Y.Doc()
    const longUpdates: Uint8Array[] = []
    long.on('update', (u: Uint8Array) => longUpdates.push(u))
    for (let i = 0; i < 100; i++) long.getText('t').insert(i, 'x')
    await Promise.all(longUpdates.map((u) => store.append('ws/long', u)))
    const loads = await Promise.all([...names, 'ws/long', 'ws/none'].map((n) => store.load(n)))
    expect(loads.slice(0, 300).map((l) => textOf(l?.updates))).toEqual(names)
    expect(loads[300]?.updates).toHaveLength(100)
    expect(textOf(loads[300]?.updates)).toBe('x'.repeat(100))
    expect(loads[301]).toBeUndefined()
    // an append issued before a load is in what it reads; one issued after is not
    const [, seen, before] = await Promise.all([
      store.append('ws/d1', textUpdate('more')),
      store.load('ws/d1'),
      store.load('ws/d2'),
      store.append('ws/d2', textUpdate('later')),
    ])
    expect(seen?.updates).toHaveLength(2)
    expect(before?.updates).toHaveLength(1)
    expect((await store.load('ws/d2'))?.updates).toHaveLength(2)
    await store.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('DS10 a record without a clock range (older stores) and an update appended by y-leveldb itself are still read', async () => {
    const { dir, store } = await open()
    await store.append('ws/a', textUpdate('a'))
    await store.append('ws/b', textUpdate('b'))
    await store.close()
    // rewrite ws/a's record the way earlier versions did (sequence only)
    const raw = new LeveldbPersistence(dir)
    await writeRecord(raw, 'ws/a', '1')
    // y-leveldb appends to ws/b after the range Skein recorded
    const extra = new Y.Doc()
    extra.getText('u').insert(0, 'direct')
    await raw.storeUpdate('ws/b', Y.encodeStateAsUpdate(extra))
    await raw.destroy()
    const again = new LevelDocStore(dir)
    const [a, b] = await Promise.all([again.load('ws/a'), again.load('ws/b')])
    expect(textOf(a?.updates)).toBe('a')
    expect(b?.updates).toHaveLength(2)
    // appends and a compaction after a legacy record keep every update
    await again.append('ws/a', textUpdate('A'))
    const d = new Y.Doc()
    for (const u of (await again.load('ws/a'))!.updates) Y.applyUpdate(d, u)
    expect(d.getText('t').length).toBe(2)
    await again.compact('ws/a', Y.encodeStateAsUpdate(d))
    const compacted = await again.load('ws/a')
    expect(compacted?.updates).toHaveLength(1)
    expect(textOf(compacted?.updates).length).toBe(2)
    await again.close()
    const reopened = new LevelDocStore(dir)
    expect((await reopened.load('ws/a'))?.updates).toHaveLength(1)
    await reopened.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('DS12 an append after a record without a range finds the last clock past one byte (300 updates)', async () => {
    const { dir, store } = await open()
    const d = new Y.Doc()
    const updates: Uint8Array[] = []
    d.on('update', (u: Uint8Array) => updates.push(u))
    for (let i = 0; i < 300; i++) d.getText('t').insert(i, 'x')
    await Promise.all(updates.map((u) => store.append('ws/long', u)))
    await store.close()
    const raw = new LeveldbPersistence(dir)
    await writeRecord(raw, 'ws/long', '300')
    await raw.destroy()
    const again = new LevelDocStore(dir)
    await again.append('ws/long', textUpdate('y'))
    const loaded = await again.load('ws/long')
    // a wrong last clock would have overwritten one of the 300
    expect(loaded?.updates).toHaveLength(301)
    expect(textOf(loaded?.updates)).toContain('x'.repeat(300))
    await again.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('DS11 a record that does not parse still loads its updates, and delete removes it', async () => {
    const { dir, store } = await open()
    await store.append('ws/a', textUpdate('kept'))
    await store.close()
    const raw = new LeveldbPersistence(dir)
    await writeRecord(raw, 'ws/a', 'garbage:x')
    await raw.destroy()
    const again = new LevelDocStore(dir)
    expect(textOf((await again.load('ws/a'))?.updates)).toBe('kept')
    await again.delete('ws/a')
    expect(await again.load('ws/a')).toBeUndefined()
    expect(await again.list('ws')).toEqual([])
    await again.close()
    await rm(dir, { recursive: true, force: true })
  })
})
