/**
 * A folder watcher reports *which paths may have changed*, never what changed:
 * the agent stats and hashes them itself, so missed, merged or reordered events
 * cannot mislead it (a rescan catches whatever a watcher missed).
 */
export interface FolderWatcher {
  /** Starts watching; resolves once the whole tree is watched. */
  start(): Promise<void>
  /** Stops watching and releases every handle. */
  close(): Promise<void>
  /** Subscribes to batches of workspace-relative paths (files or folders) that may have changed. */
  onChanges(cb: (paths: string[]) => void): () => void
  /** Subscribes to watcher failures (e.g. the root vanished, inotify limit reached). */
  onError(cb: (err: Error) => void): () => void
}

/** Options shared by the watcher implementations. */
export interface WatcherOptions {
  /** Events are gathered for this long before one batch is reported; default 40 ms. */
  debounceMs: number
}

/** Defaults of {@link WatcherOptions}. */
export const DEFAULT_WATCHER_OPTIONS: WatcherOptions = { debounceMs: 40 }
