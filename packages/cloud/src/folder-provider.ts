import {
  closeSync,
  createReadStream,
  createWriteStream,
  fdatasync,
  futimesSync,
  mkdirSync,
  openSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs'
import {
  copyFile,
  link,
  mkdir,
  open,
  readdir,
  rename,
  rm,
  rmdir,
  stat,
  utimes,
} from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { SkeinError, normalizePath } from '@skein/core'
import { hashFile } from '@skein/core/node'
import { FolderIndex } from './folder-index.js'
import { errnoCode, flushFilesystem, fsError, isNotFound, tempName } from './fs-utils.js'
import type {
  ByteStream,
  CallOptions,
  CloudSyncProvider,
  Download,
  ObjectInfo,
  UploadMeta,
  WriteCondition,
} from './provider.js'
import { abortError } from './retry.js'
import { readAll, verifyStream } from './streams.js'

const SMALL_BODY = 256 * 1024

/** Name of the folder (inside the root) holding FolderProvider's index and temp files. */
export const FOLDER_PROVIDER_DIR = '.skein-provider'

/** Options of {@link FolderProvider}. */
export interface FolderProviderOptions {
  /**
   * Durability against power loss (crashes are always safe: temp + rename).
   * `batch` (default): uploads are flushed together by `flush()`, which the sync
   * engine calls before committing its manifest — one syncfs for many files, a
   * parallel fsync of each file and folder for a few. `file`: fsync every file
   * before its rename. `none`: never.
   */
  fsync: 'batch' | 'file' | 'none'
}

/** Defaults for {@link FolderProvider}. */
export const DEFAULT_FOLDER_PROVIDER_OPTIONS: FolderProviderOptions = { fsync: 'batch' }

/**
 * A local folder used as a bucket: key `a/b.md` is the file `<root>/a/b.md`, so the
 * folder is a readable mirror. Writes go to a temp file and are renamed into
 * place; sha-256 and mtime live in `<root>/.skein-provider/index.jsonl`.
 */
export class FolderProvider implements CloudSyncProvider {
  readonly name: string
  readonly root: string
  private readonly meta: string
  private readonly index: FolderIndex
  private readonly options: FolderProviderOptions
  private loaded: Promise<void> | undefined

  constructor(root: string, options: Partial<FolderProviderOptions> = {}) {
    this.root = resolve(root)
    this.name = `folder:${this.root}`
    this.meta = join(this.root, FOLDER_PROVIDER_DIR)
    this.index = new FolderIndex(this.meta)
    this.options = { ...DEFAULT_FOLDER_PROVIDER_OPTIONS, ...options }
  }

  private ready(): Promise<void> {
    this.loaded ??= this.index.load()
    return this.loaded
  }

  private pathOf(key: string): string {
    let norm: string
    try {
      norm = normalizePath(key)
    } catch (err) {
      throw new SkeinError(
        'INVALID_INPUT',
        `Key ${JSON.stringify(key)} cannot be stored in ${this.name}: ${(err as Error).message}`,
        { cause: err },
      )
    }
    if (norm !== key || norm === FOLDER_PROVIDER_DIR || norm.startsWith(FOLDER_PROVIDER_DIR + '/'))
      throw new SkeinError(
        'INVALID_INPUT',
        `Key ${JSON.stringify(key)} cannot be stored in ${this.name}: keys must be normalized relative paths outside ${FOLDER_PROVIDER_DIR}/; rename the object.`,
      )
    return join(this.root, key)
  }

  private async info(
    key: string,
    path: string,
    hashIfUnknown: boolean,
  ): Promise<ObjectInfo | undefined> {
    let st
    try {
      st = await stat(path)
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw fsError(err, 'stat', path)
    }
    if (!st.isFile()) return undefined
    await this.ready()
    let e = this.index.lookup(key, st)
    if (!e) {
      await this.index.refresh()
      e = this.index.lookup(key, st)
    }
    if (!e && hashIfUnknown) {
      // A file put there by something else: hash it once and remember.
      const { hash } = await hashFile(path)
      e = {
        sha256: hash,
        mtime: Math.round(st.mtimeMs),
        size: st.size,
        fileMtimeMs: st.mtimeMs,
        ino: st.ino,
      }
      await this.index.put(key, e)
    }
    return {
      key,
      size: st.size,
      mtime: e?.mtime ?? Math.round(st.mtimeMs),
      sha256: e?.sha256,
      etag: e ? e.sha256 : `w-${st.ino}-${st.size}-${st.mtimeMs}`,
    }
  }

  async *list(prefix: string, options: CallOptions = {}): AsyncIterable<ObjectInfo> {
    await this.ready()
    await this.index.refresh()
    const slash = prefix.lastIndexOf('/')
    const startDir = slash < 0 ? '' : prefix.slice(0, slash)
    const stack = [startDir]
    while (stack.length) {
      if (options.signal?.aborted) throw abortError(options.signal)
      const rel = stack.pop() as string
      let entries
      try {
        entries = await readdir(join(this.root, rel), { withFileTypes: true })
      } catch (err) {
        if (isNotFound(err)) continue
        throw fsError(err, 'list', join(this.root, rel))
      }
      const files: string[] = []
      for (const d of entries) {
        const key = rel ? `${rel}/${d.name}` : d.name
        if (key === FOLDER_PROVIDER_DIR) continue
        if (d.isDirectory()) {
          if (key.startsWith(prefix) || prefix.startsWith(key + '/')) stack.push(key)
        } else if (d.isFile() && key.startsWith(prefix) && !d.name.endsWith('.tmp')) files.push(key)
      }
      const infos = await Promise.all(files.map((k) => this.info(k, join(this.root, k), false)))
      for (const i of infos) if (i) yield i
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    return this.info(key, this.pathOf(key), true)
  }

  async download(key: string): Promise<Download | undefined> {
    const path = this.pathOf(key)
    let fh
    try {
      fh = await open(path, 'r')
    } catch (err) {
      if (isNotFound(err) || errnoCode(err) === 'EISDIR') return undefined
      throw fsError(err, 'open', path)
    }
    try {
      const info = await this.info(key, path, true)
      if (!info) {
        await fh.close()
        return undefined
      }
      // Read through the handle opened first: a concurrent replace cannot mix versions.
      return { info, body: fh.createReadStream({ highWaterMark: 1 << 20 }) }
    } catch (err) {
      await fh.close()
      throw err
    }
  }

  async upload(
    key: string,
    body: ByteStream,
    meta: UploadMeta,
    options: CallOptions = {},
  ): Promise<ObjectInfo> {
    return this.write(key, body, meta, undefined, options)
  }

  async uploadIf(
    key: string,
    body: ByteStream,
    meta: UploadMeta,
    condition: WriteCondition,
    options: CallOptions = {},
  ): Promise<ObjectInfo> {
    return this.write(key, body, meta, condition, options)
  }

  private async write(
    key: string,
    body: ByteStream,
    meta: UploadMeta,
    condition: WriteCondition | undefined,
    options: CallOptions,
  ): Promise<ObjectInfo> {
    const path = this.pathOf(key)
    await this.ready()
    const tmpDir = join(this.meta, 'tmp')
    this.ensureDir(tmpDir)
    const tmp = tempName(tmpDir, 'upload')
    try {
      const verified = verifyStream(body, meta, `upload ${key} to ${this.name}`)
      const t = new Date(meta.mtime)
      if (meta.size <= SMALL_BODY && !condition) {
        // Small bodies: verified in memory, then written with synchronous calls —
        // for a local disk several times faster than one thread-pool trip each.
        const bytes = await readAll(verified)
        const fd = openSync(tmp, 'w')
        try {
          writeSync(fd, bytes)
          futimesSync(fd, t, t)
          // The flush goes to the thread pool, so many files' fsyncs overlap
          // (and the filesystem can group their journal commits).
          if (this.options.fsync === 'file')
            await new Promise<void>((res, rej) => fdatasync(fd, (e) => (e ? rej(e) : res())))
        } finally {
          closeSync(fd)
        }
        this.ensureDir(dirname(path))
        try {
          renameSync(tmp, path)
        } catch (err) {
          if (errnoCode(err) !== 'ENOENT') throw err
          // Another process pruned the folder since we cached it: recreate, retry once.
          this.dirs.clear()
          this.ensureDir(dirname(path))
          renameSync(tmp, path)
        }
        const st = statSync(path)
        if (this.options.fsync === 'batch') this.unflushed.add(path)
        await this.index.put(key, {
          sha256: meta.sha256,
          mtime: meta.mtime,
          size: st.size,
          fileMtimeMs: st.mtimeMs,
          ino: st.ino,
        })
        return { key, size: st.size, mtime: meta.mtime, sha256: meta.sha256, etag: meta.sha256 }
      }
      await pipeline(verified, createWriteStream(tmp, { flush: this.options.fsync === 'file' }), {
        signal: options.signal,
      })
      await utimes(tmp, t, t)
      this.ensureDir(dirname(path))
      if (condition?.ifNoneMatch === '*') {
        try {
          await link(tmp, path) // atomic create-if-absent
        } catch (err) {
          if (errnoCode(err) === 'EEXIST') throw this.precondition(key, 'it already exists')
          throw err
        }
        await rm(tmp, { force: true })
      } else {
        if (condition?.ifMatch !== undefined) {
          const cur = await this.info(key, path, true)
          if (cur?.etag !== condition.ifMatch)
            throw this.precondition(key, 'it changed since it was read')
        }
        await rename(tmp, path)
      }
      const st = await stat(path)
      if (this.options.fsync === 'batch') this.unflushed.add(path)
      await this.index.put(key, {
        sha256: meta.sha256,
        mtime: meta.mtime,
        size: st.size,
        fileMtimeMs: st.mtimeMs,
        ino: st.ino,
      })
      return { key, size: st.size, mtime: meta.mtime, sha256: meta.sha256, etag: meta.sha256 }
    } catch (err) {
      await rm(tmp, { force: true })
      this.dirs.clear() // a folder may have been removed behind our back
      if (options.signal?.aborted) throw abortError(options.signal)
      if (errnoCode(err) === 'ENOTDIR' || errnoCode(err) === 'EISDIR')
        throw new SkeinError(
          'CONFLICT',
          `Cannot store ${JSON.stringify(key)} in ${this.name}: a file and a folder would share a name; rename one of them.`,
          { cause: err },
        )
      throw fsError(err, 'store', path)
    }
  }

  private readonly dirs = new Set<string>()
  private unflushed = new Set<string>()

  /** Flushes uploads written since the last flush (see {@link FolderProviderOptions.fsync}). */
  async flush(): Promise<void> {
    if (this.unflushed.size === 0) return
    const files = this.unflushed
    this.unflushed = new Set()
    await flushFilesystem(this.root, files)
  }

  private ensureDir(dir: string): void {
    if (this.dirs.has(dir)) return
    mkdirSync(dir, { recursive: true })
    if (this.dirs.size > 10_000) this.dirs.clear()
    this.dirs.add(dir)
  }

  private precondition(key: string, why: string): SkeinError {
    return new SkeinError(
      'PRECONDITION_FAILED',
      `Conditional write of ${JSON.stringify(key)} to ${this.name} refused: ${why}; reread it and retry.`,
    )
  }

  async delete(key: string): Promise<void> {
    const path = this.pathOf(key)
    await this.ready()
    try {
      await rm(path, { force: true })
    } catch (err) {
      throw fsError(err, 'delete', path)
    }
    await this.index.remove(key)
    // Drop folders the delete left empty, so a mirror has no husks.
    for (let dir = dirname(path); dir.startsWith(this.root + '/'); dir = dirname(dir)) {
      try {
        await rmdir(dir)
        this.dirs.delete(dir)
      } catch {
        break
      }
    }
  }

  async copy(from: string, to: string): Promise<ObjectInfo | undefined> {
    const src = await this.head(from)
    if (!src || src.sha256 === undefined) return undefined
    const dest = this.pathOf(to)
    const tmp = tempName(join(this.meta, 'tmp'), 'copy')
    await mkdir(dirname(tmp), { recursive: true })
    try {
      await copyFile(this.pathOf(from), tmp)
      const { hash, size } = await hashFile(tmp)
      if (hash !== src.sha256)
        throw new SkeinError(
          'TRANSIENT',
          `Source ${from} changed during copy in ${this.name}; retry.`,
        )
      const t = new Date(src.mtime ?? Date.now())
      await utimes(tmp, t, t)
      await mkdir(dirname(dest), { recursive: true })
      await rename(tmp, dest)
      const st = await stat(dest)
      await this.index.put(to, {
        sha256: hash,
        mtime: src.mtime ?? 0,
        size,
        fileMtimeMs: st.mtimeMs,
        ino: st.ino,
      })
      return { key: to, size, mtime: src.mtime, sha256: hash, etag: hash }
    } catch (err) {
      await rm(tmp, { force: true })
      throw fsError(err, 'copy to', dest)
    }
  }
}

/** Reads a local file as a stream (helper for callers uploading files). */
export function fileStream(path: string): ByteStream {
  return createReadStream(path, { highWaterMark: 1 << 20 })
}
