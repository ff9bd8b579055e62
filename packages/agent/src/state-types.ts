import type { ContentHash, FileId } from '@skein/core'

/** What kind of content a file holds, as the agent syncs it (folders have bases too, for rename detection). */
export type SyncKind = 'text' | 'binary' | 'folder'

/**
 * The last state both disk and CRDT agreed on for one file: the "base" of every
 * three-way decision (DESIGN §5).
 */
export interface BaseRecord {
  fileId: FileId
  /** Workspace-relative POSIX path at the time of agreement. */
  path: string
  kind: SyncKind
  ino: number
  /** Content hash (folders: the hash of no bytes). */
  hash: ContentHash
  size: number
  mtimeMs: number
  ctimeMs: number
  /** Creation time of the file agreed on (0 or absent: unknown); tells a rename from inode reuse. */
  birthtimeMs?: number
  /** The agreed text (text files only): the `base` argument of merge3. */
  text?: string
  /** Body-document generation the text was agreed with. */
  gen?: number
  /**
   * Binary files: this device wrote the agreed version into the workspace. A
   * later workspace version that does not list it as replaced (WS15) was written
   * concurrently, and this version is kept as a conflict instead of overwritten.
   */
  mine?: boolean
}

/** A disk change recorded while offline, not yet folded into the shared CRDT. */
export interface PendingEdit {
  /** Workspace-relative path on disk (key of the record). */
  path: string
  /** FileId when the file had a base; absent for files created offline. */
  fileId?: FileId
  change: 'modify' | 'create' | 'delete'
  /** Disk hash when recorded (absent for a delete). */
  hash?: ContentHash
  /** When the change was first seen (ms). */
  since: number
}

/** One step of a disk mutation, logged before it starts so a crash replays or rolls back. */
export interface Intent {
  id: string
  op: 'write'
  /** Target path (workspace-relative). */
  path: string
  /** Temp file name in the target's folder. */
  temp: string
  /** Hash of the bytes being written. */
  hash: ContentHash
  /** Hash the target had when checked (null: it must not exist). */
  expect: ContentHash | null
  /** The file the write belongs to, so recovery can update its base. */
  fileId?: FileId
  at: number
}

/** A file moved to `.skein/trash/` by a remote delete, restorable to its path. */
export interface TrashRecord {
  id: string
  /** Where the file lived (workspace-relative). */
  path: string
  fileId?: FileId
  hash: ContentHash
  size: number
  trashedAt: number
  /** File name inside `.skein/trash/`. */
  file: string
  reason: string
}
