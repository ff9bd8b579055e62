/** Write pacing and busy rooms against a real server and real sockets (SPEC.md PR-L7, PR-U5). */
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import * as encoding from 'lib0/encoding'
import * as Y from 'yjs'
import { MemoryDocStore } from '@skein/core'
import type { SyncClient } from '@skein/client'
import type { SyncServer } from '@skein/server'
import { newClient, startServer, textOf, waitFor } from './helpers/server-helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
/** Sleeps until just after the next tick of a write clock of period `interval` (the server runs in this process, on this clock). */
const justAfterTick = (interval: number) => sleep(interval - (performance.now() % interval) + 20)

describe('write pacing', () => {
  let server: SyncServer | undefined
  const clients: SyncClient[] = []
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close()
    await server?.close()
  })

  it('PR-L7 a broadcast to a socket written inside the interval waits; a reply to that socket does not, and takes it along', async () => {
    const interval = 1500
    server = await startServer({ writeIntervalMs: interval })
    const a = newClient(server.url)
    const b = newClient(server.url)
    clients.push(a, b)
    const [da, db, da2, db2] = [new Y.Doc(), new Y.Doc(), new Y.Doc(), new Y.Doc()]
    await Promise.all([
      a.open('ws1/paced', da).whenSynced,
      b.open('ws1/paced', db).whenSynced,
      a.open('ws1/second', da2).whenSynced,
      b.open('ws1/second', db2).whenSynced,
    ])
    await sleep(interval + 100) // b's socket and both rooms have been quiet for a whole interval

    da.getText('t').insert(0, 'x')
    // the first broadcast after a quiet interval leaves at once
    await waitFor(() => textOf(db) === 'x', "b to get 'x' at once", interval - 500)

    // another room, quiet: 'y' is applied at once, but b's socket was just written
    da2.getText('t').insert(0, 'y')
    await sleep(400)
    expect(textOf(db2)).toBe('') // 'y' waits for the rest of b's interval

    // a subscription's answers are replies: they leave at the end of the turn,
    // with the broadcast held before them
    const t0 = performance.now()
    await b.open('ws1/other', new Y.Doc()).whenSynced
    expect(performance.now() - t0).toBeLessThan(interval - 500)
    expect(textOf(db2)).toBe('y')
  })

  it('PR-U5 a room that just applied a write applies the next ones at its tick, together; writes sent just before a close are kept', async () => {
    const interval = 1500
    const store = new MemoryDocStore()
    server = await startServer({ writeIntervalMs: interval, store })
    const a = newClient(server.url)
    const b = newClient(server.url)
    const c = newClient(server.url)
    clients.push(a, b, c)
    const [da, db, dc] = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
    const ha = a.open('ws1/busy', da)
    await Promise.all([
      ha.whenSynced,
      b.open('ws1/busy', db).whenSynced,
      c.open('ws1/busy', dc).whenSynced,
    ])
    await sleep(interval + 100)
    await justAfterTick(interval) // the next tick is a whole interval away

    da.getText('t').insert(0, 'x') // a quiet room applies it at once
    await waitFor(() => textOf(db) === 'x', "b to get 'x' at once", interval - 500)
    da.getText('t').insert(1, 'y') // the room is busy now: 'y' waits for its tick…
    dc.getText('t').insert(0, 'z') // …and so does c's write
    await sleep(300)
    // a reply to b leaves at once, but nothing was applied to take along
    await b.open('ws1/elsewhere', new Y.Doc()).whenSynced
    expect(textOf(db)).toBe('x')
    // at the tick both are applied in one transaction and reach every replica
    await waitFor(() => textOf(db).length === 3, 'b to get y and z at the tick', interval + 1000)
    await waitFor(
      () => textOf(da) === textOf(db) && textOf(dc) === textOf(db),
      'a and c to converge',
    )
    expect(new Set(textOf(db))).toEqual(new Set('xyz'))
    await waitFor(() => ha.unsyncedChanges === 0, 'a acked')

    // a write to the busy room, then the socket closes before the tick: applied and
    // stored. A stock y-websocket client (compatible endpoint) has no unsubscribe
    // frame to commit it: closing is all the server sees after the write.
    const raw = new WebSocket(`${server.url}/ws1/busy`)
    await new Promise((r, j) => raw.once('open', r).once('error', j))
    await sleep(interval + 100)
    await justAfterTick(interval)
    da.getText('t').insert(0, '!') // applied at once: the room is busy again
    await waitFor(() => textOf(db).startsWith('!'), "b to get '!'", interval - 500)
    const e = new Y.Doc()
    e.getText('t').insert(0, '?')
    const msg = encoding.createEncoder()
    encoding.writeVarUint(msg, 0) // sync
    encoding.writeVarUint(msg, 2) // update
    encoding.writeVarUint8Array(msg, Y.encodeStateAsUpdate(e))
    raw.send(encoding.toUint8Array(msg)) // waits for the tick…
    raw.close() // …but the socket closes first
    await waitFor(
      () => textOf(db).includes('?'),
      "b to get '?' from the closed socket",
      interval + 1000,
    )
    let stored = ''
    for (let i = 0; i < 100 && stored !== textOf(db); i++) {
      const replica = new Y.Doc()
      for (const u of (await store.load('ws1/busy'))!.updates) Y.applyUpdate(replica, u)
      stored = textOf(replica)
      await sleep(20)
    }
    expect(stored).toBe(textOf(db))
  })
})
