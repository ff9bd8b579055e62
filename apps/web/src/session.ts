/**
 * A workspace session: one SyncClient (one socket), the workspace document kept
 * offline in IndexedDB, and the WorkspaceCrdt over it.
 */
import { IndexeddbPersistence } from 'y-indexeddb'
import * as Y from 'yjs'
import { SyncClient } from '@skein/client'
import type { DocHandle } from '@skein/client'
import { WorkspaceCrdt } from '@skein/workspace'
import type { Device } from './device.js'
import type { Scope } from './tokens.js'

/** Options of {@link openSession}. */
export interface SessionOptions {
  server: string
  workspace: string
  token: string | undefined
  scope: Scope
  device: Device
}

/** Everything the views need about the open workspace. */
export interface Session extends SessionOptions {
  client: SyncClient
  doc: Y.Doc
  handle: DocHandle
  crdt: WorkspaceCrdt
  /** Open document handles, for the unsynced-changes count. */
  handles: Set<DocHandle>
  /** Local persistence name prefix for this server and workspace. */
  storagePrefix: string
  close(): void
}

/** Connects to the server and opens the workspace document (restoring its offline copy first). */
export async function openSession(o: SessionOptions): Promise<Session> {
  const client = new SyncClient({
    url: o.server,
    token: o.token,
    initialBackoffMs: 250,
    // a page should come back quickly when the server does
    maxBackoffMs: 3000,
  })
  const doc = new Y.Doc()
  const storagePrefix = `skein:${o.server}|${o.workspace}`
  const idb = new IndexeddbPersistence(storagePrefix, doc)
  await Promise.race([idb.whenSynced, new Promise((r) => setTimeout(r, 2000))])
  const handle = client.open(o.workspace, doc)
  const crdt = new WorkspaceCrdt(doc, { device: o.device.id })
  const handles = new Set<DocHandle>([handle])
  return {
    ...o,
    client,
    doc,
    handle,
    crdt,
    handles,
    storagePrefix,
    close() {
      crdt.destroy()
      client.close()
      void idb.destroy()
    },
  }
}
