import type { CloudSyncProvider } from '../provider.js'

/** One file in a snapshot. */
export interface SnapshotFile {
  path: string
  sha256: string
  size: number
  /** mtime in ms (restored, and the key of the next backup's re-hash cache). */
  mtime: number
}

/** A snapshot manifest (stored as `snapshots/<id>.json`, encrypted when the repository is). */
export interface SnapshotManifest {
  version: 1
  id: string
  /** Creation time (ms). */
  time: number
  /** Free-text source label, e.g. `laptop:~/notes`. */
  label: string
  /**
   * The snapshot the backup took as its predecessor (absent for the first one, and in
   * manifests written before this field existed). Prune checks, by key, that each one it
   * names is in the listing unless it was deleted: a gap means the listing is incomplete.
   */
  previous?: string
  files: SnapshotFile[]
}

/** A snapshot as listed. */
export interface SnapshotInfo {
  id: string
  time: number
  label: string
  fileCount: number
  totalSize: number
}

/** Where snapshots live. */
export interface SnapshotStoreOptions {
  /** The provider holding the repository (required). */
  provider: CloudSyncProvider
  /** Key prefix of the repository (default `''`). */
  prefix?: string
  /** Passphrase: encrypts a new repository; required to open an encrypted one (default none: plaintext). */
  passphrase?: string
  /** Parallel transfers (default 8). */
  concurrency?: number
  /** Cancels the operation. */
  signal?: AbortSignal
}
