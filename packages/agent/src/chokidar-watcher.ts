import { relative, sep } from 'node:path'
import { watch } from 'chokidar'
import type { FSWatcher, ChokidarOptions } from 'chokidar'
import type { IgnoreMatcher } from './ignore-rules.js'
import { ChangeBatcher } from './change-batcher.js'
import { DEFAULT_WATCHER_OPTIONS } from './watcher-types.js'
import type { FolderWatcher, WatcherOptions } from './watcher-types.js'

/**
 * chokidar-based watcher with the options that matter for a big notes folder:
 * symlinks not followed, ignore rules as a function (ignored folders are never
 * descended), no initial `add` flood (the scanner indexes), no stat per event.
 */
export class ChokidarWatcher implements FolderWatcher {
  private watcher: FSWatcher | undefined
  private readonly batcher: ChangeBatcher
  private readonly errorListeners = new Set<(err: Error) => void>()

  constructor(
    private readonly root: string,
    private readonly ignore: IgnoreMatcher,
    options: Partial<WatcherOptions> & { chokidar?: ChokidarOptions } = {},
  ) {
    this.batcher = new ChangeBatcher({ ...DEFAULT_WATCHER_OPTIONS, ...options }.debounceMs)
    this.extra = options.chokidar ?? {}
  }

  private readonly extra: ChokidarOptions

  private rel(abs: string): string {
    const r = relative(this.root, abs)
    return sep === '/' ? r : r.split(sep).join('/')
  }

  async start(): Promise<void> {
    const w = watch(this.root, {
      followSymlinks: false,
      ignoreInitial: true,
      alwaysStat: false,
      atomic: false,
      awaitWriteFinish: false,
      ignorePermissionErrors: true,
      ignored: (abs, stats) => {
        const rel = this.rel(abs)
        if (rel === '' || rel.startsWith('..')) return false
        return this.ignore.ignores(rel, stats?.isDirectory() ?? false)
      },
      ...this.extra,
    })
    this.watcher = w
    w.on('all', (_event, abs) => {
      const rel = this.rel(abs)
      if (rel !== '') this.batcher.add(rel)
    })
    w.on('error', (err) => {
      for (const cb of this.errorListeners) cb(err as Error)
    })
    await new Promise<void>((resolve) => w.once('ready', resolve))
  }

  async close(): Promise<void> {
    await this.watcher?.close()
    this.batcher.dispose()
  }

  onChanges(cb: (paths: string[]) => void): () => void {
    return this.batcher.subscribe(cb)
  }

  onError(cb: (err: Error) => void): () => void {
    this.errorListeners.add(cb)
    return () => this.errorListeners.delete(cb)
  }
}
