/**
 * SyncClient handles across server restarts (SPEC.md PR-R2, PR-R4). The device
 * agent saw handles stall in 'syncing' after a restart: a handle resubscribed
 * quietly on a change-feed page that another writer had made stale, the server
 * (rightly) refused quiet, and the handle waited for a sync step 2 that never
 * came — missing that writer's update for good.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { afterEach, describe, expect, it } from 'vitest'
import type { ChangePage, DocStore, StoredDoc } from '@skein/core'
import type { SyncClient } from '@skein/client'
import { SyncServer } from '@skein/server'
import { LevelDocStore } from '@skein/store-leveldb'
import { newClient, textOf, waitFor } from './helpers/server-helpers.js'

/**
 * Fault injection around a real LevelDB store: the first change-feed read is
 * computed at once but answered only on `release()`, so the page is stale by the
 * time the client acts on it — the race, made deterministic.
 */
class StaleFeedStore implements DocStore {
  private gate: (() => void) | undefined
  private holding = true
  /** Resolves once a feed page is being held back. */
  readonly held: Promise<void>
  private onHeld!: () => void

  constructor(private readonly inner: LevelDocStore) {
    this.held = new Promise((r) => (this.onHeld = r))
  }

  async changes(workspace: string, since: number, limit?: number): Promise<ChangePage> {
    const page = await this.inner.changes(workspace, since, limit)
    if (!this.holding) return page
    this.holding = false
    await new Promise<void>((r) => {
      this.gate = r
      this.onHeld()
    })
    return page
  }

  release(): void {
    this.gate?.()
  }

  load = (d: string): Promise<StoredDoc | undefined> => this.inner.load(d)
  append = (d: string, u: Uint8Array): Promise<number> => this.inner.append(d, u)
  compact = (d: string, s: Uint8Array): Promise<void> => this.inner.compact(d, s)
  list = (w?: string): Promise<string[]> => this.inner.list(w)
  delete = (d: string): Promise<void> => this.inner.delete(d)
  close = (): Promise<void> => this.inner.close()
}

describe('SyncClient across server restarts', () => {
  let dir = ''
  let server: SyncServer | undefined
  const clients: SyncClient[] = []
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close())
    await server?.close()
    server = undefined
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('PR-R4 a quiet resubscription on a stale feed page still resyncs and gets the write it missed', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-restart-'))
    const db = join(dir, 'db')
    server = new SyncServer({ store: new LevelDocStore(db) })
    const port = await server.listen()
    const url = `ws://127.0.0.1:${port}`
    const reader = newClient(url)
    clients.push(reader)
    const mine = new Y.Doc()
    const handle = reader.open('ws1/body', mine)
    await handle.whenSynced
    mine.getText('t').insert(0, 'hello')
    // acked: the client now knows a feed head > 0, so it may resubscribe quietly
    await waitFor(() => handle.unsyncedChanges === 0, 'ack of the first write')

    await server.close()
    await waitFor(() => handle.status === 'offline', 'reader offline')
    const store = new StaleFeedStore(new LevelDocStore(db))
    server = new SyncServer({ port, store })
    await server.listen()
    await store.held // the reader's feed page says "nothing changed"…

    const writer = newClient(url)
    clients.push(writer)
    const theirs = new Y.Doc()
    const wh = writer.open('ws1/body', theirs)
    await wh.whenSynced
    theirs.getText('t').insert(5, ' world')
    await waitFor(() => wh.unsyncedChanges === 0, 'the writer acked') // …which is now stale
    store.release()

    await waitFor(
      () => handle.status === 'synced' && textOf(mine) === 'hello world',
      () => `the reader to resync; status ${handle.status}, text ${JSON.stringify(textOf(mine))}`,
    )
    // and it keeps syncing both ways
    mine.getText('t').insert(0, '> ')
    await waitFor(() => textOf(theirs) === '> hello world', 'the reader write reaching the writer')
    await waitFor(() => handle.unsyncedChanges === 0, 'the reader write acked')
  })

  it('PR-R2 every handle of two clients resyncs after each of 10 server restarts', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-restart-'))
    const db = join(dir, 'db')
    server = new SyncServer({ store: new LevelDocStore(db) })
    const port = await server.listen()
    const url = `ws://127.0.0.1:${port}`
    clients.push(newClient(url), newClient(url))
    const docs = clients.map(() => [new Y.Doc(), new Y.Doc()] as const)
    const handles = clients.flatMap((c, i) => [
      c.open('w', docs[i]![0]),
      c.open('w/body', docs[i]![1]),
    ])
    const [a, b] = [docs[0]![1], docs[1]![1]]
    a.getText('t').insert(0, 'hello')
    await waitFor(() => textOf(b) === 'hello', 'initial')
    const statuses = () => `statuses ${handles.map((h) => h.status).join(',')}`
    for (let round = 0; round < 10; round++) {
      await server.close()
      await waitFor(() => handles.every((h) => h.status === 'offline'), statuses)
      a.getText('t').insert(0, `a${round}`) // made offline: pending until the restart
      server = new SyncServer({ port, store: new LevelDocStore(db) })
      await server.listen()
      await waitFor(
        () => handles.every((h) => h.status === 'synced'),
        () => `round ${round}: all synced; ${statuses()}`,
      )
      b.getText('t').insert(0, `b${round}`)
      await waitFor(
        () =>
          textOf(a) === textOf(b) &&
          textOf(a).includes(`a${round}`) &&
          textOf(a).includes(`b${round}`),
        () => `round ${round}: converged; ${JSON.stringify([textOf(a), textOf(b)])}`,
      )
    }
    expect(textOf(a)).toMatch(/^(a9b9|b9a9)/)
  })
})
