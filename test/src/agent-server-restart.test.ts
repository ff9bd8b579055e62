import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as Y from 'yjs'
import { it, expect } from 'vitest'
import { SyncServer } from '@skein/server'
import { LevelDocStore } from '@skein/store-leveldb'
import { newClient, waitFor } from './helpers/server-helpers.js'

/**
 * Evidence for the client/server team, not an agent test: after a server
 * restart a handle sometimes stays 'offline' or 'syncing' and an update made
 * right after reconnecting never reaches the server. The agent's offline
 * tests hit it intermittently. Run with SKEIN_REPRO=1 (loop it to see it fail).
 */
it.skipIf(!process.env.SKEIN_REPRO)('all handles resync after a server restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'repro-'))
  let server = new SyncServer({ store: new LevelDocStore(join(dir, 'db')) })
  const port = await server.listen()
  const url = `ws://127.0.0.1:${port}`
  const clients = [newClient(url), newClient(url)]
  const docs = clients.map(() => [new Y.Doc(), new Y.Doc()])
  const handles = clients.map((c, i) => [c.open('w', docs[i]![0]!), c.open('w/body', docs[i]![1]!)])
  docs[0]![1]!.getText('t').insert(0, 'hello')
  await waitFor(() => docs[1]![1]!.getText('t').toJSON() === 'hello', 'initial')
  for (let round = 0; round < 10; round++) {
    await server.close()
    await waitFor(() => handles.flat().every((h) => h.status === 'offline'), 'offline')
    docs[0]![1]!.getText('t').insert(0, `a${round}`)
    server = new SyncServer({ port, store: new LevelDocStore(join(dir, 'db')) })
    await server.listen()
    await waitFor(
      () => handles.flat().every((h) => h.status === 'synced'),
      `round ${round}: all synced; statuses ${handles.flat().map((h) => h.status)}`,
      5000,
    )
    docs[1]![1]!.getText('t').insert(0, `b${round}`)
    await waitFor(
      () => docs[0]![1]!.getText('t').toJSON() === docs[1]![1]!.getText('t').toJSON(),
      `round ${round}: converged`,
      5000,
    )
  }
  expect(docs[0]![1]!.getText('t').toJSON()).toContain('a9')
  clients.forEach((c) => c.close())
  await server.close()
})
