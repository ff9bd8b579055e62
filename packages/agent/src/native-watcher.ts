import { watch, readdirSync, lstatSync } from 'node:fs'
import type { FSWatcher as NodeWatcher } from 'node:fs'
import { join } from 'node:path'
import type { IgnoreMatcher } from './ignore-rules.js'
import { ChangeBatcher } from './change-batcher.js'
import { DEFAULT_WATCHER_OPTIONS } from './watcher-types.js'
import type { FolderWatcher, WatcherOptions } from './watcher-types.js'

/**
 * One non-recursive `fs.watch` per folder (one inotify watch per directory on
 * Linux; a directory watch reports its children's changes). Chokidar instead
 * holds a watcher per file, which for 100,000 files costs seconds and hundreds
 * of MB (figures in test/bench/agent.bench.ts). Symlinks are never followed.
 */
export class NativeWatcher implements FolderWatcher {
  private readonly watchers = new Map<string, NodeWatcher>()
  private readonly batcher: ChangeBatcher
  private readonly errorListeners = new Set<(err: Error) => void>()
  private closed = false

  constructor(
    private readonly root: string,
    private readonly ignore: IgnoreMatcher,
    options: Partial<WatcherOptions> = {},
  ) {
    this.batcher = new ChangeBatcher({ ...DEFAULT_WATCHER_OPTIONS, ...options }.debounceMs)
  }

  async start(): Promise<void> {
    this.watchTree('', false)
  }

  async close(): Promise<void> {
    this.closed = true
    for (const w of this.watchers.values()) w.close()
    this.watchers.clear()
    this.batcher.dispose()
  }

  onChanges(cb: (paths: string[]) => void): () => void {
    return this.batcher.subscribe(cb)
  }

  onError(cb: (err: Error) => void): () => void {
    this.errorListeners.add(cb)
    return () => this.errorListeners.delete(cb)
  }

  /** Number of folders watched (for tests and status). */
  get size(): number {
    return this.watchers.size
  }

  private fail(err: Error): void {
    for (const cb of this.errorListeners) cb(err)
  }

  /** Watches `rel` and every folder below it; `report` marks what it finds as changed. */
  private watchTree(rel: string, report: boolean): void {
    const stack = [rel]
    while (stack.length > 0) {
      const dir = stack.pop() as string
      if (this.closed || this.watchers.has(dir)) continue
      const abs = dir === '' ? this.root : join(this.root, dir)
      if (!this.watchDir(dir, abs)) continue
      let entries
      try {
        entries = readdirSync(abs, { withFileTypes: true })
      } catch {
        continue
      }
      for (const ent of entries) {
        const path = dir === '' ? ent.name : dir + '/' + ent.name
        const isDir = ent.isDirectory()
        if (this.ignore.ignores(path, isDir)) continue
        if (isDir) stack.push(path)
        if (report) this.batcher.add(path)
      }
    }
  }

  private watchDir(dir: string, abs: string): boolean {
    try {
      const w = watch(abs, { persistent: true }, (_type, filename) => this.onEvent(dir, filename))
      w.on('error', (err) => {
        this.unwatch(dir)
        if (dir === '') this.fail(err)
      })
      this.watchers.set(dir, w)
      return true
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOSPC' || code === 'EMFILE')
        this.fail(
          new Error(
            `Cannot watch ${abs}: the system limit on watches was reached (${code}); ` +
              'raise fs.inotify.max_user_watches, or ignore large folders in .skeinignore.',
          ),
        )
      else if (dir === '') this.fail(err as Error)
      return false
    }
  }

  private unwatch(dir: string): void {
    for (const [d, w] of this.watchers)
      if (d === dir || d.startsWith(dir === '' ? '' : dir + '/')) {
        w.close()
        this.watchers.delete(d)
      }
  }

  private onEvent(dir: string, filename: string | Buffer | null): void {
    if (this.closed) return
    if (filename === null) {
      // The OS did not say which entry: report the folder, the agent rescans it.
      if (dir !== '') this.batcher.add(dir)
      this.watchTree(dir, true)
      return
    }
    const name = filename.toString()
    const path = dir === '' ? name : dir + '/' + name
    let isDir = false
    try {
      const st = lstatSync(join(this.root, path))
      isDir = st.isDirectory()
    } catch {
      // Gone: report it (a delete), and drop watches below it.
      if (!this.ignore.ignores(path, false)) this.batcher.add(path)
      if (this.watchers.has(path)) this.unwatch(path)
      return
    }
    if (this.ignore.ignores(path, isDir)) return
    this.batcher.add(path)
    if (isDir && !this.watchers.has(path)) this.watchTree(path, true)
  }
}
