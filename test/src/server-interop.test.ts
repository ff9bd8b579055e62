import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import type { SyncServer } from '@skein/server'
import type { SyncClient } from '@skein/client'
import { newClient, startServer, textOf, waitFor } from './helpers/server-helpers.js'

describe('y-websocket interop (PR-Y1)', () => {
  let server: SyncServer
  const cleanups: (() => void)[] = []
  afterEach(async () => {
    for (const c of cleanups.splice(0)) c()
    await server?.close()
  })

  it('PR-Y1 two stock WebsocketProviders and one SyncClient converge and share awareness', async () => {
    server = await startServer()
    const docs = [new Y.Doc(), new Y.Doc(), new Y.Doc()]
    const providers = docs.slice(0, 2).map(
      (d) =>
        new WebsocketProvider(server.url, 'ws1/note', d, {
          WebSocketPolyfill: WebSocket as never,
        }),
    )
    const client: SyncClient = newClient(server.url)
    const handle = client.open('ws1/note', docs[2]!)
    cleanups.push(
      () => providers.forEach((p) => p.destroy()),
      () => client.close(),
    )
    await handle.whenSynced
    await Promise.all(
      providers.map((p) => new Promise((r) => (p.synced ? r(null) : p.once('sync', r)))),
    )

    docs[0]!.getText('t').insert(0, 'a')
    docs[1]!.getText('t').insert(0, 'b')
    docs[2]!.getText('t').insert(0, 'c')
    await waitFor(
      () => docs.every((d) => textOf(d).length === 3),
      () => 'three edits everywhere: ' + docs.map(textOf).join('|'),
    )
    expect(new Set(docs.map(textOf)).size).toBe(1)
    await waitFor(() => handle.unsyncedChanges === 0, 'ack of the SyncClient edit')

    providers[0]!.awareness.setLocalStateField('user', 'alice')
    handle.awareness.setLocalStateField('user', 'carol')
    const names = (a: { getStates(): Map<number, Record<string, unknown>> }) =>
      [...a.getStates().values()]
        .map((s) => s.user)
        .filter(Boolean)
        .sort()
    await waitFor(
      () => names(providers[1]!.awareness).join() === 'alice,carol',
      'awareness at provider 2',
    )
    await waitFor(
      () => names(handle.awareness).join() === 'alice,carol',
      'awareness at the SyncClient',
    )

    // persisted: a fresh provider after everyone left still gets the text
    providers.forEach((p) => p.destroy())
    client.close()
    const late = new Y.Doc()
    const p3 = new WebsocketProvider(server.url, 'ws1/note', late, {
      WebSocketPolyfill: WebSocket as never,
    })
    cleanups.push(() => p3.destroy())
    await waitFor(() => textOf(late) === textOf(docs[0]!), 'late joiner sync')
  })
})
