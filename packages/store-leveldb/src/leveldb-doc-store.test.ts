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
