/**
 * How a room undoes an update that failed on its document (SPEC.md PR-U1).
 * Yjs has no rollback, so the room keeps the document's last encoded state plus
 * the updates it accepted since; restoring replays them into a fresh Y.Doc.
 * Re-encoding once the log has grown as large as the state keeps the cost
 * amortised O(1) per accepted byte, and the memory at most about twice the
 * encoded document (a shadow Y.Doc, the alternative, costs a second document
 * and a second apply of every update).
 */
import * as Y from 'yjs'

/** Below this many logged bytes the state is not re-encoded (small documents). */
const MIN_LOG_BYTES = 64 * 1024

/** A restore point of one document. */
export class RestorePoint {
  private base: Uint8Array | undefined
  private log: Uint8Array[] = []
  private logBytes = 0

  /** Takes the first restore point (O(document)) unless there is one. Call before applying. */
  ensure(doc: Y.Doc): void {
    this.base ??= Y.encodeStateAsUpdate(doc)
  }

  /** Records updates `doc` emitted while applying an accepted update; re-encodes when the log is large. */
  record(doc: Y.Doc, updates: readonly Uint8Array[]): void {
    if (!this.base) return
    for (const u of updates) {
      this.log.push(u)
      this.logBytes += u.length
    }
    if (this.logBytes > Math.max(MIN_LOG_BYTES, this.base.length)) this.reset(doc)
  }

  /** Makes the current state of `doc` the restore point (e.g. after a compaction encoded it anyway). */
  reset(doc: Y.Doc, state: Uint8Array = Y.encodeStateAsUpdate(doc)): void {
    this.base = state
    this.log = []
    this.logBytes = 0
  }

  /** A new document in the state of the restore point. */
  restore(gc: boolean, guid: string): Y.Doc {
    const doc = new Y.Doc({ gc, guid })
    doc.transact(() => {
      if (this.base) Y.applyUpdate(doc, this.base)
      for (const u of this.log) Y.applyUpdate(doc, u)
    })
    return doc
  }

  /** Frees the encoded state (the document is unloading). */
  clear(): void {
    this.base = undefined
    this.log = []
    this.logBytes = 0
  }
}
