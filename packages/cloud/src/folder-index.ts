import { appendFile, mkdir, open } from 'node:fs/promises'
import { join } from 'node:path'
import { atomicWriteFile, fsError, isNotFound } from './fs-utils.js'

/** One indexed object: its content hash and logical mtime, plus the file facts that validate them. */
export interface FolderIndexEntry {
  /** sha-256 hex. */
  sha256: string
  /** Logical mtime given at upload (ms). */
  mtime: number
  /** Size, file mtime (ms) and inode when indexed: if the file no longer matches, the entry is stale. */
  size: number
  fileMtimeMs: number
  ino: number
}

interface Line {
  k: string
  d?: 1
  h?: string
  m?: number
  s?: number
  f?: number
  i?: number
}

/**
 * The sha-256 + mtime index FolderProvider keeps beside the data, as an append-only
 * journal (`index.jsonl`). It is a cache: each entry is validated against the
 * file's size, mtime and inode, so a lost or stale line costs a re-hash, never a
 * wrong answer. Appends are single `O_APPEND` lines, safe with other processes.
 */
export class FolderIndex {
  private readonly entries = new Map<string, FolderIndexEntry>()
  private readonly file: string
  private offset = 0
  private lines = 0

  constructor(dir: string) {
    this.file = join(dir, 'index.jsonl')
  }

  /** Reads journal lines appended (by anyone) since the last call. */
  async refresh(): Promise<void> {
    let fh
    try {
      fh = await open(this.file, 'r')
    } catch (err) {
      if (isNotFound(err)) return
      throw fsError(err, 'open the folder index', this.file)
    }
    try {
      const { size } = await fh.stat()
      if (size < this.offset) {
        // Compacted by another process: start over.
        this.offset = 0
        this.entries.clear()
        this.lines = 0
      }
      if (size === this.offset) return
      const buf = Buffer.alloc(size - this.offset)
      await fh.read(buf, 0, buf.length, this.offset)
      const end = buf.lastIndexOf(10)
      if (end < 0) return
      this.offset += end + 1
      for (const raw of buf.subarray(0, end).toString('utf8').split('\n')) {
        if (raw) this.apply(raw)
      }
    } finally {
      await fh.close()
    }
  }

  private apply(raw: string): void {
    let l: Line
    try {
      l = JSON.parse(raw) as Line
    } catch {
      return // a torn line from a crash: ignore it, the file is re-hashed on demand
    }
    this.lines++
    if (l.d) this.entries.delete(l.k)
    else if (l.h !== undefined)
      this.entries.set(l.k, {
        sha256: l.h,
        mtime: l.m ?? 0,
        size: l.s ?? -1,
        fileMtimeMs: l.f ?? -1,
        ino: l.i ?? -1,
      })
  }

  /** The entry for `key` if it still describes the file with the given stat. */
  lookup(
    key: string,
    st: { size: number; mtimeMs: number; ino: number },
  ): FolderIndexEntry | undefined {
    const e = this.entries.get(key)
    if (!e || e.size !== st.size || e.fileMtimeMs !== st.mtimeMs || e.ino !== st.ino)
      return undefined
    return e
  }

  /** Records `entry` for `key`. */
  async put(key: string, entry: FolderIndexEntry): Promise<void> {
    this.entries.set(key, entry)
    await this.append({
      k: key,
      h: entry.sha256,
      m: entry.mtime,
      s: entry.size,
      f: entry.fileMtimeMs,
      i: entry.ino,
    })
  }

  /** Forgets `key`. */
  async remove(key: string): Promise<void> {
    if (!this.entries.delete(key)) return
    await this.append({ k: key, d: 1 })
  }

  private pending: string[] = []
  private flushing: Promise<void> | undefined

  /**
   * Queues a journal line; lines queued in the same tick share one write. Our own
   * lines are re-read by the next refresh (harmless): the read offset only ever
   * advances over whole lines, whoever wrote them.
   */
  private append(line: Line): Promise<void> {
    this.pending.push(JSON.stringify(line) + '\n')
    this.lines++
    this.flushing ??= Promise.resolve().then(() => this.flush())
    return this.flushing
  }

  private async flush(): Promise<void> {
    const text = this.pending.join('')
    this.pending = []
    this.flushing = undefined
    try {
      await appendFile(this.file, text)
    } catch (err) {
      if (!isNotFound(err)) throw fsError(err, 'append to the folder index', this.file)
      await mkdir(join(this.file, '..'), { recursive: true })
      await appendFile(this.file, text)
    }
    if (this.lines > 20_000 && this.lines > this.entries.size * 3) await this.compact()
  }

  /** Rewrites the journal with one line per live entry. */
  async compact(): Promise<void> {
    const text = [...this.entries]
      .map(
        ([k, e]) =>
          JSON.stringify({ k, h: e.sha256, m: e.mtime, s: e.size, f: e.fileMtimeMs, i: e.ino }) +
          '\n',
      )
      .join('')
    await atomicWriteFile(this.file, text)
    this.offset = Buffer.byteLength(text)
    this.lines = this.entries.size
  }

  /** Loads the journal (also used to reread it whole). */
  async load(): Promise<void> {
    this.offset = 0
    this.lines = 0
    this.entries.clear()
    await this.refresh()
  }
}
