export { WorkspaceCrdt } from './workspace-crdt.js'
export type {
  WorkspaceCrdtOptions,
  ContentMeta,
  CreateFileMeta,
  ListedEntry,
} from './workspace-crdt.js'
export type { WorkspaceEvent, WorkspaceListener } from './events.js'
export { toWorkspaceOrigin } from './origin.js'
export type { WorkspaceOrigin } from './origin.js'
export { derivedFolderId } from './folder-id.js'
export {
  SCHEMA_VERSION,
  FILES_KEY,
  CONFLICTS_KEY,
  SCHEMA_KEY,
  LOST_AND_FOUND_ID,
  LOST_AND_FOUND_NAME,
} from './schema.js'
export type { FileEntry, FileKind, ConflictRecord } from './schema.js'
