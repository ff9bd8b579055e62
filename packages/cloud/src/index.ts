export type {
  CloudSyncProvider,
  ObjectInfo,
  UploadMeta,
  ByteStream,
  CallOptions,
  Download,
  WriteCondition,
  UploadOptions,
  UploadCheckpoint,
  UploadedPart,
  UploadResumeStore,
} from './provider.js'
export {
  FolderProvider,
  DEFAULT_FOLDER_PROVIDER_OPTIONS,
  FOLDER_PROVIDER_DIR,
} from './folder-provider.js'
export type { FolderProviderOptions } from './folder-provider.js'
export { withRetry, isRetryable, DEFAULT_RETRY_OPTIONS, sleep, abortError } from './retry.js'
export type { RetryOptions } from './retry.js'
export { hashTap, verifyStream, readAll, bytesStream } from './streams.js'
export type { HashTap } from './streams.js'
export {
  DEFAULT_IGNORE_PATTERNS,
  IGNORE_FILE,
  createPathFilter,
  loadPathFilter,
} from './ignore-rules.js'
export type { PathFilter } from './ignore-rules.js'
export { SyncManifest } from './manifest.js'
export type { ManifestEntry } from './manifest.js'
export { SyncEngine, DEFAULT_SYNC_ENGINE_OPTIONS } from './sync-engine.js'
export type {
  SyncEngineOptions,
  SyncRunOptions,
  SyncMode,
  CompareMode,
  KeepMode,
  SyncDirection,
  SyncProgress,
  SyncStage,
  ConflictInfo,
  ConflictSide,
  SyncFileError,
  CloudSyncResult,
} from './sync-types.js'
export { conflictCopyPath } from './conflict-names.js'
export { REMOTE_INDEX_KEY } from './remote-state.js'
export { backup } from './snapshots/backup.js'
export type { BackupOptions, BackupResult } from './snapshots/backup.js'
export { restore } from './snapshots/restore.js'
export type { RestoreOptions, RestoreResult } from './snapshots/restore.js'
export { prune, selectKept } from './snapshots/prune.js'
export type { PruneOptions, PruneResult } from './snapshots/prune.js'
export { listSnapshots } from './snapshots/list.js'
export type {
  SnapshotFile,
  SnapshotInfo,
  SnapshotManifest,
  SnapshotStoreOptions,
} from './snapshots/types.js'
export { atomicWriteFile } from './fs-utils.js'
