import type { Clock, Logger } from '@skein/core'
import type { CloudSyncProvider } from './provider.js'
import type { RetryOptions } from './retry.js'

/** `copy`: new and changed files, no deletes. `mirror`: make the target equal the source. `move`: copy, then delete each source file once verified. `two-way`: bidirectional. */
export type SyncMode = 'copy' | 'mirror' | 'move' | 'two-way'
/** Attributes that must all match for two files to count as the same. */
export type CompareMode = 'size' | 'modtime' | 'checksum'
/** Which side wins a conflict; the loser is kept as a conflict copy. `path1` is local, `path2` remote. */
export type KeepMode = 'newer' | 'older' | 'larger' | 'smaller' | 'path1' | 'path2'
/** Direction of one-way modes: `up` is local → provider. */
export type SyncDirection = 'up' | 'down'

/** Options of {@link SyncEngine}; `local` and `provider` are required. */
export interface SyncEngineOptions {
  /** The local folder to sync (required). */
  local: string
  /** Where the other side lives (required). */
  provider: CloudSyncProvider
  /** Key prefix on the provider (default `''`). */
  prefix: string
  /** Manifest file (default `<local>/.skein/cloud/manifest.json`; the WAL and merge bases live beside it). */
  manifest: string | undefined
  /** Sync mode (default `two-way`). */
  mode: SyncMode
  /** One-way direction (default `up`). */
  direction: SyncDirection
  /** What "same file" means (default `['size', 'checksum']`: exact and independent of clocks). */
  compare: CompareMode[]
  /** mtime tolerance of the `modtime` compare in ms (default 1000: coarse filesystems). */
  modifyWindowMs: number
  /** Conflict winner (default `newer`); the loser is kept as `<stem>.conflict-<side>-<time><ext>`. */
  keep: KeepMode
  /** Merge text conflicts with merge3 over the last synced version (default false). */
  autoMerge: boolean
  /** Largest file kept as a merge base, in bytes (default 1 MiB). */
  autoMergeMaxBytes: number
  /** Parallel transfers (default 8). */
  concurrency: number
  /** Refuse runs deleting more than this % of either side (default 50). */
  maxDeletePercent: number
  /** Override the max-delete guard (default false). */
  force: boolean
  /** Extra ignore patterns on top of the defaults and `.skeinignore` (default none). */
  ignore: string[]
  /** Bytes per second over all transfers (default unlimited). */
  bandwidthLimit: number | undefined
  /**
   * Use the remote index object (`<prefix>.skein/index.json`) instead of listing
   * the provider, so an incremental run costs O(changes) requests (default true).
   */
  useRemoteIndex: boolean
  /**
   * Longest time the remote index is trusted (default 24 h): a run finding it
   * older lists the remote instead (and rewrites the index), so objects deleted
   * or changed outside Skein are found at least that often. 0 lists every run.
   */
  remoteIndexMaxAgeMs: number
  /** Retries of each provider call (default {@link DEFAULT_RETRY_OPTIONS}). */
  retry: Partial<RetryOptions>
  /** Time source for conflict-copy names (default the system clock). */
  clock: Clock
  logger: Logger
}

/** Per-run options of {@link SyncEngine.sync}. */
export interface SyncRunOptions {
  /** Plan only: report what would happen, change nothing. */
  dryRun?: boolean
  /** Progress callback, called at least once per file and per transferred chunk. */
  onProgress?: (p: SyncProgress) => void
  /** Cancels the run; completed work is kept in the manifest. */
  signal?: AbortSignal
}

/** Progress stages in order. */
export type SyncStage =
  | 'detectingLocal'
  | 'detectingRemote'
  | 'planning'
  | 'uploading'
  | 'downloading'
  | 'deleting'
  | 'complete'
  | 'error'

/** A progress report; rate = bytes / elapsed, ETA = (totalBytes - bytes) / rate. */
export interface SyncProgress {
  stage: SyncStage
  /** Operations finished so far. */
  current: number
  /** Operations planned. */
  total: number
  /** Bytes transferred so far. */
  bytes: number
  /** Bytes planned. */
  totalBytes: number
  /** The file concerned, when there is one. */
  path?: string | undefined
}

/** One side of a conflict. */
export interface ConflictSide {
  hash?: string | undefined
  size: number
  mtime: number
}

/** A path changed on both sides since the last sync, and how it was resolved. */
export interface ConflictInfo {
  path: string
  kind: 'modify-modify' | 'create-create' | 'delete-modify'
  /** Local state (absent: deleted locally). */
  local?: ConflictSide | undefined
  /** Remote state (absent: deleted remotely). */
  remote?: ConflictSide | undefined
  resolution: 'identical' | 'merged' | 'kept-local' | 'kept-remote' | 'failed'
  /** Where the losing version was kept. */
  copyPath?: string | undefined
}

/** A failure limited to one path (the run went on). */
export interface SyncFileError {
  path: string
  operation: string
  code: string
  message: string
}

/** What a run did (or, in a dry run, would do). */
export interface CloudSyncResult {
  success: boolean
  dryRun: boolean
  filesUploaded: number
  filesDownloaded: number
  filesDeleted: number
  /** Bytes transferred. */
  bytes: number
  conflicts: ConflictInfo[]
  errors: SyncFileError[]
  /** Safety notes (e.g. "remote listing empty: no local deletes"). */
  warnings: string[]
  /** Planned operations (`kind path`), useful with `dryRun`. */
  operations: string[]
}
