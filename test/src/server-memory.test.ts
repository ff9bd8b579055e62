/**
 * Memory after eviction (SPEC.md PR-M1): a server child whose clients left
 * unloads every document and gives back the heap they took. Heap is measured
 * in the child after a forced full GC; figures for 10,000 documents are in the
 * `server-idle-memory` benchmark, not here.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { SyncClient } from '@skein/client'
import { newClient, waitFor } from './helpers/server-helpers.js'
import { spawnServer } from './helpers/server-process.js'
import type { ChildServer, ChildStats } from './helpers/server-process.js'

const NOTE = 'Lorem ipsum dolor sit amet, consectetur adipiscing elit. '.repeat(36) // ~2 KB

describe('memory after eviction', () => {
  let dir = ''
  let server: ChildServer | undefined
  let client: SyncClient | undefined
  afterEach(async () => {
    client?.close()
    if (server && server.child.exitCode === null) {
      server.child.kill('SIGKILL')
      await server.exited
    }
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  /** Opens `names`, writes a note into each, waits for every ack; returns the server's stats, then leaves. */
  async function visit(s: ChildServer, names: string[]): Promise<ChildStats> {
    client = newClient(`ws://127.0.0.1:${s.port}`)
    const docs = names.map(() => new Y.Doc())
    const handles = names.map((n, i) => client!.open(n, docs[i]!))
    await Promise.all(handles.map((h) => h.whenSynced))
    docs.forEach((d, i) => d.getText('t').insert(0, `${i} ${NOTE}`))
    await waitFor(() => handles.every((h) => h.unsyncedChanges === 0), 'acks', 30_000)
    const stats = await s.stats()
    client.close()
    client = undefined
    return stats
  }

  async function unloaded(s: ChildServer): Promise<ChildStats> {
    let stats = await s.stats()
    while (stats.docs > 0) {
      await new Promise((r) => setTimeout(r, 50))
      stats = await s.stats()
    }
    return stats
  }

  it('PR-M1 2,000 documents whose client left are all unloaded and their heap is given back', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-memory-'))
    server = await spawnServer(dir, 0, { inspect: true, env: { SKEIN_EVICT_MS: '200' } })
    // warm-up: code paths, LevelDB and caches that stay for the life of the process
    await visit(server, ['ws1/warm'])
    const base = await unloaded(server)
    const loaded = await visit(
      server,
      Array.from({ length: 2000 }, (_, i) => `ws1/n${i}`),
    )
    const after = await unloaded(server)

    const mb = (b: number) => (b / 2 ** 20).toFixed(1)
    const report = `heap ${mb(base.heap)} → ${mb(loaded.heap)} (${loaded.docs} docs) → ${mb(after.heap)} MB`
    expect(loaded.docs, report).toBe(2000)
    expect(after.docs).toBe(0)
    // what loading took must be (nearly) all given back: a leaked room, doc or
    // per-document cache entry keeps a large share of it
    expect(after.heap - base.heap, report).toBeLessThan((loaded.heap - base.heap) / 4)
  }, 60_000)
})
