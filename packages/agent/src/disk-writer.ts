import {
  closeSync,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  unlinkSync,
} from 'node:fs'
import { open } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { createHash } from 'node:crypto'
import { SkeinError, normalizePath, systemClock } from '@skein/core'
import type { Clock, ContentHash, FileId } from '@skein/core'
import { SYNC_HASH_LIMIT, hashBytes, readHashed, toFileStat } from './file-hash.js'
import type { HashedStat } from './file-hash.js'
import { tempName } from './names.js'
import { OwnWrites } from './own-writes.js'
import type { StateStore } from './state-store.js'
import type { Intent } from './state-types.js'

/** One atomic write. */
export interface WriteRequest {
  /** Workspace-relative target path (validated with core's path rules). */
  path: string
  data: Uint8Array | string
  /** What the target must hold right before it is replaced: its hash, or null for "must not exist". */
  expect: ContentHash | null
  fileId?: FileId
}

/** The outcome of {@link DiskWriter.write}. */
export type WriteResult =
  | { ok: true; stat: HashedStat }
  /** The target no longer matched `expect` (an edit the agent has not read): nothing written. */
  | { ok: false; reason: 'changed'; current: HashedStat | undefined }
  /** A folder, symbolic link or special file is at the target: nothing written, nothing replaced. */
  | { ok: false; reason: 'blocked'; current: undefined }

/** What recovery did with one intent left by an interrupted run. */
export interface RecoveredIntent {
  intent: Intent
  outcome: 'replayed' | 'completed' | 'rolled-back'
}

/**
 * Writes files atomically: temp file in the same folder, fsync, compare the
 * target with the expected base, rename, fsync the folder. Each write is in the
 * intent log first, so a crash is replayed or rolled back by {@link recover}.
 */
export class DiskWriter {
  readonly ownWrites: OwnWrites

  constructor(
    private readonly root: string,
    private readonly store: StateStore,
    options: {
      ownWrites?: OwnWrites
      clock?: Clock
      /** Fault injection for tests: runs right before a target is replaced. */
      beforeReplace?: (abs: string) => void
      /**
       * Called when a failed write could not remove a temp file because it is no
       * longer where it was written (its folder was renamed or moved meanwhile):
       * the temp now sits somewhere unknown, and a full scan sweeps it.
       */
      onLostTemp?: (temp: string) => void
    } = {},
  ) {
    this.ownWrites = options.ownWrites ?? new OwnWrites()
    this.clock = options.clock ?? systemClock
    this.beforeReplace = options.beforeReplace
    this.onLostTemp = options.onLostTemp
  }

  /** Temp-file names (not paths) of writes in progress: never swept as stale. */
  private readonly inFlight = new Set<string>()

  /**
   * True when `name` (a temp file's name, see `tempName`) belongs to a write in
   * progress. Any other temp file of the agent's shape is litter of an
   * interrupted write (a crash, or a folder moved mid-write) and safe to remove.
   */
  isInFlight(name: string): boolean {
    return this.inFlight.has(name)
  }

  private readonly clock: Clock
  private readonly beforeReplace: ((abs: string) => void) | undefined
  private readonly onLostTemp: ((temp: string) => void) | undefined

  /**
   * Absolute path of a workspace path, refusing anything that would leave the
   * root: `..`, absolute paths, control characters (core's path rules), the
   * `.skein` folder, and parent folders that are symbolic links.
   */
  resolve(path: string, verified?: Set<string>): string {
    const norm = normalizePath(path)
    const segs = norm.split('/')
    if (segs[0] === '.skein')
      throw new SkeinError(
        'INVALID_PATH',
        `Refusing to write ${path}: the .skein folder holds agent state and is never synced.`,
      )
    let cur = this.root
    for (const seg of segs.slice(0, -1)) {
      cur = join(cur, seg)
      // A batch checks each folder once (a first sync writes thousands of files into a few folders).
      if (verified?.has(cur)) continue
      let st
      try {
        st = lstatSync(cur)
      } catch {
        break // missing from here down: it will be created as real folders
      }
      if (!st.isDirectory())
        throw new SkeinError(
          'INVALID_PATH',
          `Refusing to write ${path}: its parent ${cur} is ${st.isSymbolicLink() ? 'a symbolic link' : 'not a folder'}; links are never followed.`,
        )
      verified?.add(cur)
    }
    return join(this.root, norm)
  }

  /** Writes `data` to `path` atomically if the target still matches `expect`. */
  async write(req: WriteRequest): Promise<WriteResult> {
    return (await this.writeMany([req]))[0] as WriteResult
  }

  /**
   * Writes many files atomically: one durable intent batch, temp files written
   * and fsynced in parallel, each target checked against its `expect` right
   * before its rename, each folder fsynced once.
   */
  async writeMany(
    reqs: readonly WriteRequest[],
    { own = true }: { own?: boolean } = {},
  ): Promise<WriteResult[]> {
    const verified = new Set<string>()
    const jobs = reqs.map((req) => {
      const abs = this.resolve(req.path, verified)
      const bytes = typeof req.data === 'string' ? Buffer.from(req.data, 'utf8') : req.data
      const intent: Intent = {
        id: `${this.clock.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`,
        op: 'write',
        path: req.path,
        temp: tempName(),
        hash: hashBytes(bytes),
        expect: req.expect,
        at: this.clock.now(),
        ...(req.fileId === undefined ? {} : { fileId: req.fileId }),
      }
      return { req, abs, dir: dirname(abs), bytes, intent, tmp: join(dirname(abs), intent.temp) }
    })
    for (const j of jobs) this.inFlight.add(j.intent.temp)
    await this.store.putIntents(jobs.map((j) => j.intent))
    const results: WriteResult[] = []
    // Temps created and not yet renamed into place or removed.
    const created = new Set<(typeof jobs)[number]>()
    try {
      for (const dir of new Set(jobs.map((j) => j.dir))) mkdirSync(dir, { recursive: true })
      await inParallel(jobs, 16, (j) => writeDurably(j.tmp, j.bytes, () => created.add(j)))
      const dirs = new Set<string>()
      for (const j of jobs) {
        const kind = entryKind(j.abs)
        if (kind === 'other') {
          // Never replaced; one blocked file does not hold up the rest of the batch.
          unlinkSync(j.tmp)
          created.delete(j)
          results.push({ ok: false, reason: 'blocked', current: undefined })
          continue
        }
        // Nothing there is all a new file needs to know (a first sync writes thousands).
        // An existing target is checked through an open descriptor that is kept past
        // the rename: a write that lands in the old file between the check and the
        // rename (an editor appending, a script) is still readable there, and is put
        // back instead of vanishing with the replaced file.
        const held = kind === 'none' ? undefined : holdFile(j.abs)
        try {
          const current = kind === 'none' ? undefined : held ? held.read() : await readHashed(j.abs)
          if ((current?.hash ?? null) !== j.req.expect) {
            unlinkSync(j.tmp)
            created.delete(j)
            results.push({ ok: false, reason: 'changed', current })
            continue
          }
          if (own) this.ownWrites.add(j.req.path, j.intent.hash)
          this.beforeReplace?.(j.abs)
          renameSync(j.tmp, j.abs)
          created.delete(j)
          dirs.add(j.dir)
          const displaced = held && current ? await held.displaced(current) : undefined
          if (displaced) {
            results.push(await this.putBack(j.req.path, displaced, j.intent.hash))
            continue
          }
          results.push({ ok: true, stat: { ...toFileStat(lstatSync(j.abs)), hash: j.intent.hash } })
        } finally {
          held?.close()
        }
      }
      await inParallel([...dirs], 8, fsyncDir)
      return results
    } catch (err) {
      for (const j of created) {
        if (existsSync(j.tmp)) unlinkSync(j.tmp)
        else this.onLostTemp?.(j.intent.temp)
      }
      if (err instanceof SkeinError) throw err
      throw new SkeinError(
        'IO',
        `Cannot write ${jobs
          .map((j) => j.req.path)
          .slice(0, 3)
          .join(
            ', ',
          )}: ${(err as Error).message}. ${writeFix((err as NodeJS.ErrnoException).code)}`,
        {
          cause: err,
        },
      )
    } finally {
      // A successful write of a file's content keeps its intent until the base
      // records it (StateStore.putBases clears it): a crash in between is then
      // recovered as "completed" and the written text adopted as the base.
      for (const j of jobs) this.inFlight.delete(j.intent.temp)
      const done = jobs.filter((j, i) => j.req.fileId === undefined || results[i]?.ok !== true)
      await this.store.deleteIntents(done.map((j) => j.intent.id))
    }
  }

  /**
   * Puts back a write that landed in the file this writer had just replaced
   * (see writeMany): the target returns to the writer's version, and the caller
   * hears `changed`, as if that write had come a moment before the check. Only
   * when the target still holds what this writer put there; a newer write wins.
   */
  private async putBack(path: string, bytes: Uint8Array, ours: ContentHash): Promise<WriteResult> {
    const [res] = await this.writeMany([{ path, data: bytes, expect: ours }], { own: false })
    if (res?.ok) return { ok: false, reason: 'changed', current: res.stat }
    return { ok: false, reason: 'changed', current: res?.current }
  }

  /**
   * Finishes or undoes writes interrupted by a crash: a complete temp file whose
   * target is still as expected is renamed into place (replayed); otherwise the
   * temp file is removed (rolled back). No temp litter remains.
   */
  async recover(): Promise<RecoveredIntent[]> {
    const out: RecoveredIntent[] = []
    for (const intent of await this.store.listIntents()) {
      let abs: string
      try {
        abs = this.resolve(intent.path)
      } catch {
        await this.store.deleteIntent(intent.id)
        continue
      }
      const tmp = join(dirname(abs), intent.temp)
      let outcome: RecoveredIntent['outcome'] = 'rolled-back'
      if (existsSync(tmp)) {
        const tempHash = hashBytes(readFileSync(tmp))
        const current = await readHashed(abs)
        if (tempHash === intent.hash && (current?.hash ?? null) === intent.expect) {
          renameSync(tmp, abs)
          await fsyncDir(dirname(abs))
          outcome = 'replayed'
        } else unlinkSync(tmp)
      } else if ((await readHashed(abs))?.hash === intent.hash) outcome = 'completed'
      await this.store.deleteIntent(intent.id)
      out.push({ intent, outcome })
    }
    return out
  }
}

/** What to do about a failed write, by its errno code. */
function writeFix(code: string | undefined): string {
  const fix =
    code === 'ENOSPC' || code === 'EDQUOT'
      ? 'The disk is full: free some space'
      : code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'Check that the folder is writable'
        : 'Fix the cause'
  return `${fix}; the files were left as they were and are written on the agent's next pass.`
}

async function writeDurably(path: string, bytes: Uint8Array, opened: () => void): Promise<void> {
  const fh = await open(path, 'wx', 0o644)
  opened()
  try {
    await fh.writeFile(bytes)
    await fh.sync()
  } finally {
    await fh.close()
  }
}

async function fsyncDir(dir: string): Promise<void> {
  try {
    const fh = await open(dir, 'r')
    try {
      await fh.sync()
    } finally {
      await fh.close()
    }
  } catch {
    // Some filesystems refuse fsync on a directory; the rename is still atomic.
  }
}

async function inParallel<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

/** How long a write into a replaced file may take to settle before it is put back. */
const SETTLE_TRIES = 10
const SETTLE_MS = 10

/** A target file held open across its replacement. */
interface HeldFile {
  /** Its content hash and stat now; undefined when it cannot be read. */
  read(): (HashedStat & { bytes?: Uint8Array }) | undefined
  /** The content written into it since `seen`, once it has settled; undefined when none. */
  displaced(seen: HashedStat & { bytes?: Uint8Array }): Promise<Uint8Array | undefined>
  close(): void
}

function holdFile(abs: string): HeldFile | undefined {
  let fd: number
  try {
    fd = openSync(abs, 'r')
  } catch {
    return undefined // vanished or unreadable: the path-based check decides
  }
  const readAll = (size: number): Uint8Array => {
    const buf = Buffer.alloc(size)
    let at = 0
    while (at < size) {
      const n = readSync(fd, buf, at, size - at, at)
      if (n === 0) break
      at += n
    }
    return buf.subarray(0, at)
  }
  const read = (): (HashedStat & { bytes?: Uint8Array }) | undefined => {
    try {
      const st = fstatSync(fd)
      if (st.size > SYNC_HASH_LIMIT) return { ...toFileStat(st), hash: hashFd(fd, st.size) }
      const bytes = readAll(st.size)
      return { ...toFileStat(st), size: bytes.length, hash: hashBytes(bytes), bytes }
    } catch {
      return undefined
    }
  }
  return {
    read,
    async displaced(seen) {
      // Cheap first look for big files: size and mtime (the unlink by the rename changes ctime).
      const st = fstatSync(fd)
      if (seen.bytes === undefined && st.size === seen.size && st.mtimeMs === seen.mtimeMs)
        return undefined
      let now = read()
      if (!now || now.hash === seen.hash) return undefined
      // A writer may be between truncating and writing: wait until the content holds still.
      for (let i = 0; i < SETTLE_TRIES; i++) {
        await new Promise((r) => setTimeout(r, SETTLE_MS))
        const again = read()
        if (!again) return undefined
        if (again.hash === now.hash) break
        now = again
      }
      return now.bytes ?? readAll(now.size)
    },
    close: () => closeSync(fd),
  }
}

function hashFd(fd: number, size: number): ContentHash {
  const h = createHash('sha256')
  const buf = Buffer.alloc(1 << 20)
  for (let at = 0; at < size;) {
    const n = readSync(fd, buf, 0, buf.length, at)
    if (n === 0) break
    h.update(buf.subarray(0, n))
    at += n
  }
  return h.digest('hex') as ContentHash
}

/** What is at a path: nothing, a regular file, or something else (link, folder, special file). */
function entryKind(abs: string): 'none' | 'file' | 'other' {
  try {
    return lstatSync(abs).isFile() ? 'file' : 'other'
  } catch {
    return 'none'
  }
}
