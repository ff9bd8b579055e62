import * as Y from 'yjs'
import type { ContentHash, DeviceId } from '@skein/core'
import { WorkspaceCrdt } from './workspace-crdt.js'

/** A replica: its doc and WorkspaceCrdt, for tests. */
export interface Replica {
  doc: Y.Doc
  ws: WorkspaceCrdt
}

export function replica(device: string, clientID?: number): Replica {
  const doc = new Y.Doc()
  if (clientID !== undefined) doc.clientID = clientID
  return { doc, ws: new WorkspaceCrdt(doc, { device: device as DeviceId }) }
}

/** Two-way full sync through state vectors. */
export function sync(...rs: Replica[]): void {
  for (const a of rs)
    for (const b of rs)
      if (a !== b)
        Y.applyUpdate(b.doc, Y.encodeStateAsUpdate(a.doc, Y.encodeStateVector(b.doc)), 'remote')
}

export const H = (c: string) => c.repeat(64).slice(0, 64) as ContentHash
export const text = (hash = H('a')) => ({ kind: 'text' as const, hash, size: 1, mtime: 1 })

/** Sorted [path, id] pairs of a replica's derived tree. */
export function paths(r: Replica): [string, string][] {
  return [...r.ws.pathMap()].sort(([a], [b]) => (a < b ? -1 : 1))
}
