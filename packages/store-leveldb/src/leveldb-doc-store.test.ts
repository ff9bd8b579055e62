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
