/** Write pacing against a real server and real sockets (SPEC.md PR-L7). */
import { afterEach, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import type { SyncClient } from '@skein/client'
import type { SyncServer } from '@skein/server'
import { newClient, startServer, textOf, waitFor } from './helpers/server-helpers.js'

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

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
    const da = new Y.Doc()
    const db = new Y.Doc()
    await Promise.all([a.open('ws1/paced', da).whenSynced, b.open('ws1/paced', db).whenSynced])
    await sleep(interval + 100) // b's socket has been quiet for a whole interval

    da.getText('t').insert(0, 'x')
    // the first broadcast after a quiet interval leaves at once
    await waitFor(() => textOf(db) === 'x', "b to get 'x' at once", interval - 500)

    da.getText('t').insert(1, 'y')
    await sleep(400)
    expect(textOf(db)).toBe('x') // 'y' waits for the rest of b's interval

    // a subscription's answers are replies: they leave at the end of the turn,
    // with the broadcast held before them
    const t0 = performance.now()
    await b.open('ws1/other', new Y.Doc()).whenSynced
    expect(performance.now() - t0).toBeLessThan(interval - 500)
    expect(textOf(db)).toBe('xy')
  })
})
