import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { SyncClient } from '@skein/client'
import { newClient, textOf, waitFor } from './helpers/server-helpers.js'
import { spawnServer } from './helpers/server-process.js'
import type { ChildServer } from './helpers/server-process.js'

describe('durability across SIGKILL (PR-K1)', () => {
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

  it('PR-K1 every acked update is present after kill -9 and restart; the client reconnects by itself', async () => {
    dir = await mkdtemp(join(tmpdir(), 'skein-durable-'))
    server = await spawnServer(dir)
    const port = server.port
    client = newClient(`ws://127.0.0.1:${port}`)
    const docs = Array.from({ length: 5 }, () => new Y.Doc())
    const handles = docs.map((d, i) => client!.open(`ws1/doc${i}`, d))
    await Promise.all(handles.map((h) => h.whenSynced))
    for (let round = 0; round < 20; round++) {
      docs.forEach((d, i) => d.getText('t').insert(d.getText('t').length, `${i}:${round};`))
    }
    await waitFor(() => handles.every((h) => h.unsyncedChanges === 0), 'acks for every write')
    const expected = docs.map(textOf)
    const head = (await client.changes('ws1', 0)).head

    server.child.kill('SIGKILL')
    await server.exited
    await waitFor(() => handles.every((h) => h.status === 'offline'), 'client noticing the crash')

    server = await spawnServer(dir, port)
    await waitFor(() => handles.every((h) => h.status === 'synced'), 'resync after restart')
    // a fresh replica sees exactly the acked state
    const fresh = newClient(`ws://127.0.0.1:${port}`)
    const copies = expected.map(() => new Y.Doc())
    const hs = copies.map((d, i) => fresh.open(`ws1/doc${i}`, d))
    await Promise.all(hs.map((h) => h.whenSynced))
    expect(copies.map(textOf)).toEqual(expected)
    const page = await fresh.changes('ws1', 0)
    expect(page.head).toBe(head)
    expect(page.changes.map((c) => c.doc).sort()).toEqual(expected.map((_, i) => `ws1/doc${i}`))
    // writes continue after the restart and get new, larger sequences
    docs[0]!.getText('t').insert(0, 'after;')
    await waitFor(() => handles[0]!.unsyncedChanges === 0, 'ack after restart')
    expect((await fresh.changes('ws1', head)).changes.map((c) => c.doc)).toEqual(['ws1/doc0'])
    await waitFor(() => textOf(copies[0]!) === textOf(docs[0]!), 'live update after restart')
    fresh.close()
  })
})
