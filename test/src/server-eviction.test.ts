/** Idle-document eviction (SPEC.md PR-M1) against a real LevelDB store. */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { LevelDocStore } from '@skein/store-leveldb'
import type { SyncServer } from '@skein/server'
import { newClient, startServer, textOf, waitFor } from './helpers/server-helpers.js'

describe('eviction', () => {
  let server: SyncServer | undefined
  let dir = ''
  afterEach(async () => {
    await server?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('PR-M1 2,000 documents opened, written and closed unload after the idle period and load again', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-evict-'))
    server = await startServer({ store: new LevelDocStore(dir), evictAfterMs: 300 })
    const client = newClient(server.url)
    const n = 2000
    const docs = Array.from({ length: n }, () => new Y.Doc())
    const handles = docs.map((d, i) => client.open(`ws1/n${i}`, d))
    await Promise.all(handles.map((h) => h.whenSynced))
    docs.forEach((d, i) => d.getText('t').insert(0, `note ${i}`))
    await waitFor(() => handles.every((h) => h.unsyncedChanges === 0), 'acks', 30_000)
    expect(server.loadedDocs).toBe(n)
    handles.forEach((h) => h.close())
    await waitFor(() => server!.loadedDocs === 0, 'every document unloaded', 30_000)
    client.close()

    const fresh = newClient(server.url)
    const sample = [0, 1, 999, 1999]
    const copies = sample.map(() => new Y.Doc())
    const hs = sample.map((i, k) => fresh.open(`ws1/n${i}`, copies[k]!))
    await Promise.all(hs.map((h) => h.whenSynced))
    expect(copies.map(textOf)).toEqual(sample.map((i) => `note ${i}`))
    expect(server.loadedDocs).toBe(sample.length)
    fresh.close()
  }, 60_000)
})
