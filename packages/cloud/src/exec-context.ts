import type { Logger } from '@skein/core'
import type { MergeBases } from './merge-bases.js'
import type { LocalFile } from './local-scan.js'
import type { SyncManifest } from './manifest.js'
import type { CloudSyncProvider } from './provider.js'
import type { RemoteFile } from './remote-state.js'
import type { RetryOptions } from './retry.js'
import type { RateBucket } from './streams.js'
import type { SyncEngineOptions } from './sync-types.js'
import type { UploadCheckpoints } from './upload-checkpoints.js'

/** Everything an operation needs while a run executes. */
export interface ExecContext {
  /** Absolute local root. */
  root: string
  /** Temp folder for downloads, on the same filesystem as `root`. */
  tmpDir: string
  prefix: string
  provider: CloudSyncProvider
  /** Local files as scanned; operations update it. */
  local: Map<string, LocalFile>
  /** Remote files as seen; operations update it (it becomes the new remote index). */
  remote: Map<string, RemoteFile>
  manifest: SyncManifest
  options: SyncEngineOptions
  retry: Partial<RetryOptions>
  signal: AbortSignal | undefined
  bucket: RateBucket | undefined
  bases: MergeBases | undefined
  /** Checkpoints of interrupted multipart uploads (resume slots). */
  uploads: UploadCheckpoints | undefined
  logger: Logger
  /** Time of the run (conflict-copy names). */
  now: number
  /** Local files written by downloads this run (flushed before the manifest is saved). */
  written: Set<string>
  /** Reports transferred bytes. */
  onBytes(path: string, n: number): void
}
