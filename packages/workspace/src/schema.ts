import type { Doc } from 'yjs'
import type { ContentHash, DeviceId, FileId } from '@skein/core'

/** Current WorkspaceCrdt schema version (stored in the `schema` map). */
export const SCHEMA_VERSION = 2

/** Names of the top-level shared types of a workspace Y.Doc (DESIGN.md §2). */
export const FILES_KEY = 'files'
export const CONFLICTS_KEY = 'conflicts'
export const SCHEMA_KEY = 'schema'

/** What an entry is: a folder, a text note (with a body document) or a binary blob. */
export type FileKind = 'folder' | 'text' | 'binary'
export const FILE_KINDS: ReadonlySet<string> = new Set<FileKind>(['folder', 'text', 'binary'])

/** The id of the virtual recovery folder that shows orphans (never a real FileId: has `+`). */
export const LOST_AND_FOUND_ID = 'lost+found'
/** Display name of the virtual recovery folder under the root. */
export const LOST_AND_FOUND_NAME = 'lost+found'

/** A read-only snapshot of one entry's fields, as stored. */
export interface FileEntry {
  id: FileId
  name: string
  /** FileId of the parent folder, or `""` for the root. */
  parent: string
  kind: FileKind
  hash: ContentHash | undefined
  size: number
  mtime: number
  blob: ContentHash | undefined
  deleted: boolean
  deletedAt: number | undefined
  deletedBy: DeviceId | undefined
  /** A deleted file: the content hash its delete saw (WS17); a different `hash` is an edit the delete did not see. */
  deletedHash?: ContentHash
  createdAt: number
  createdBy: DeviceId | undefined
  updatedBy: DeviceId | undefined
  /** Body-document generation: a client never merges a body whose gen differs. */
  gen: number
  /** The hashes this content replaced, newest first, as its writer knew them (WS15). */
  replaced?: ContentHash[]
}

/** A conflict found by some device, recorded so every device and the web page can show it. */
export interface ConflictRecord {
  id: string
  /** The file the conflict happened on. */
  file: FileId
  /** What collided: concurrent text edits, edit vs delete, a name clash, a first-join divergence, … */
  kind: 'edit' | 'delete' | 'name' | 'join' | 'binary'
  device: DeviceId
  time: number
  /** The conflict copy's FileId, when a copy was made. */
  copy: FileId | undefined
  /** Path of the file when the conflict was recorded (for display; paths drift). */
  path: string
  resolved: boolean
}

/**
 * Explicit migrations, keyed by the version they produce. Version 2 (WS16) adds
 * an entry's `content` value; entries without one are read from the loose keys,
 * so nothing is rewritten — the version only stops version-1 replicas, which
 * write the loose keys alone, from writing into the document.
 */
export const MIGRATIONS: ReadonlyMap<number, (doc: Doc) => void> = new Map([[2, () => {}]])
