/**
 * Persistence for Yjs documents, behind which LevelDB, Postgres or S3 engines sit
 * (DESIGN.md §8). Stores move opaque update bytes; they never parse Yjs.
 */

/** What {@link DocStore.load} returns for a stored document. */
export interface StoredDoc {
  /** The stored updates in append order (after a compaction: the compacted state first). */
  updates: Uint8Array[]
  /** The workspace change-feed sequence of the document's last append (0 if none). */
  seq: number
}

/** One change-feed entry: `doc` was last appended at sequence `seq`. */
export interface DocChange {
  doc: string
  seq: number
}

/** A page of the per-workspace change feed. */
export interface ChangePage {
  /** The workspace's latest sequence (0 when nothing was ever stored). */
  head: number
  /** Documents whose last append has `seq > since`, ascending by seq, at most `limit`. */
  changes: DocChange[]
  /** True when more changes exist past the last returned one. */
  more: boolean
}

/**
 * Append-only storage of Yjs updates with a per-workspace change feed.
 * A document's workspace is the part of its name before the first `/`.
 * Contract (run `runDocStoreContract` from `@skein/core/testing`):
 * - `append` is durable when its promise resolves and returns a sequence that is
 *   strictly greater than every earlier sequence of the same workspace, also
 *   across close/reopen;
 * - `load` of an unknown document is `undefined`, never an error;
 * - `compact(doc, state)` replaces every stored update of `doc` by `state`
 *   (the caller guarantees `state` contains them) and keeps the document's seq;
 * - operations on one document are applied in call order.
 */
export interface DocStore {
  /** Every stored update of `doc`, or `undefined` if nothing is stored. */
  load(doc: string): Promise<StoredDoc | undefined>
  /** Durably appends one update; resolves to its workspace sequence. */
  append(doc: string, update: Uint8Array): Promise<number>
  /** Replaces the stored updates of `doc` by one merged `state`. */
  compact(doc: string, state: Uint8Array): Promise<void>
  /** Names of stored documents, optionally only those of one workspace. */
  list(workspace?: string): Promise<string[]>
  /** Removes a document (its feed entry too). Unknown documents are a no-op. */
  delete(doc: string): Promise<void>
  /** Documents of `workspace` changed after sequence `since`. */
  changes(workspace: string, since: number, limit?: number): Promise<ChangePage>
  /** Flushes and releases resources; later calls fail with `CLOSED`. */
  close(): Promise<void>
}

/** The workspace part of a document name. */
export function docWorkspace(doc: string): string {
  const slash = doc.indexOf('/')
  return slash === -1 ? doc : doc.slice(0, slash)
}
