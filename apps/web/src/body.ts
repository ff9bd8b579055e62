/**
 * Opening a note's body document (room `<workspace>/<fileId>`, DESIGN §3) with
 * its offline copy, refusing a body whose generation differs from the entry's.
 */
import { IndexeddbPersistence } from 'y-indexeddb'
import * as Y from 'yjs'
import type { DocHandle } from '@skein/client'
import type { FileEntry } from '@skein/workspace'
import type { Session } from './session.js'

/** The generation a body document carries (`undefined` before it is seeded) — as the agent stores it. */
export function bodyGen(doc: Y.Doc): number | undefined {
  const g = doc.getMap('meta').get('gen')
  return typeof g === 'number' ? g : undefined
}

/** An opened body. */
export interface OpenBody {
  doc: Y.Doc
  text: Y.Text
  handle: DocHandle
  close(): void
}

/** Why a body cannot be shown yet. */
export type BodyProblem = { kind: 'gen-mismatch'; bodyGen: number; entryGen: number }

const SYNC_WAIT_MS = 4000

/**
 * Opens a body (`seed`: this page just created the note). The offline copy is stored per generation, so a re-seeded body
 * (new gen) never meets an old local copy. Resolves with the body, or with the
 * problem that prevents merging it.
 */
export async function openBody(
  s: Session,
  entry: FileEntry,
  opts: { seed?: boolean } = {},
): Promise<OpenBody | BodyProblem> {
  const doc = new Y.Doc()
  const idb = new IndexeddbPersistence(`${s.storagePrefix}/${entry.id}@${entry.gen}`, doc)
  await Promise.race([idb.whenSynced, new Promise((r) => setTimeout(r, 2000))])
  // only the device that creates a note seeds its body (DESIGN §3)
  if (opts.seed && bodyGen(doc) === undefined) doc.getMap('meta').set('gen', entry.gen)
  const local = bodyGen(doc)
  if (local !== undefined && local !== entry.gen) {
    void idb.destroy()
    doc.destroy()
    return { kind: 'gen-mismatch', bodyGen: local, entryGen: entry.gen }
  }
  const handle = s.client.open(`${s.workspace}/${entry.id}`, doc)
  s.handles.add(handle)
  const close = () => {
    s.handles.delete(handle)
    handle.close()
    void idb.destroy()
    doc.destroy()
  }
  if (s.client.status === 'connected' || s.client.status === 'connecting') {
    await Promise.race([
      handle.whenSynced.catch(() => undefined),
      new Promise((r) => setTimeout(r, SYNC_WAIT_MS)),
    ])
  }
  const remote = bodyGen(doc)
  if (remote !== undefined && remote !== entry.gen) {
    close()
    return { kind: 'gen-mismatch', bodyGen: remote, entryGen: entry.gen }
  }
  return { doc, text: doc.getText('body'), handle, close }
}
