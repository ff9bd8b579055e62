import { mkdirSync, renameSync, existsSync, lstatSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { Level } from 'level'
import { SkeinError, pathKey, splitExt, baseName, normalizePath } from '@skein/core'
import type { FileId } from '@skein/core'
import type { BaseRecord, PendingEdit, Intent, TrashRecord } from './state-types.js'

/** Name of the agent's state folder inside the workspace root. */
export const STATE_DIR = '.skein'
/** Trash folder (inside the state folder) for files removed by remote deletes. */
export const TRASH_DIR = 'trash'

function openSub<V>(db: Level<string, unknown>, name: string) {
  return db.sublevel<string, V>(name, { valueEncoding: 'json' })
}
type Sub<V> = ReturnType<typeof openSub<V>>
/** classic-level's `sync` (fsync the write-ahead log), forwarded by sublevels; not in abstract-level's types. */
const DURABLE: { valueEncoding: 'json'; sync: boolean } = { valueEncoding: 'json', sync: true }

/**
 * The agent's durable state in `<root>/.skein/` (LevelDB): base records, pending
 * offline edits, the intent log, trash metadata, local Yjs persistence and meta.
 * Base records are also kept in memory, indexed by FileId, path and inode, since
 * every scan and event consults them.
 */
export class StateStore {
  readonly root: string
  readonly dir: string
  readonly trashDir: string
  private readonly db: Level<string, unknown>
  private readonly bases = new Map<FileId, BaseRecord>()
  private readonly byPath = new Map<string, FileId>()
  private readonly pendingPaths = new Set<string>()
  private readonly byIno = new Map<number, Set<FileId>>()
  /** Intents still open per file: cleared when the file's base is stored. */
  private readonly openIntents = new Map<FileId, Set<string>>()
  private readonly base: Sub<BaseRecord>
  private readonly pending: Sub<PendingEdit>
  private readonly intents: Sub<Intent>
  private readonly trash: Sub<TrashRecord>
  private readonly docs: Sub<string>
  private readonly meta: Sub<unknown>
  private readonly unsent: Sub<number>

  private constructor(root: string) {
    this.root = root
    this.dir = join(root, STATE_DIR)
    this.trashDir = join(this.dir, TRASH_DIR)
    this.db = new Level<string, unknown>(join(this.dir, 'state'), { valueEncoding: 'json' })
    this.base = openSub<BaseRecord>(this.db, 'base')
    this.pending = openSub<PendingEdit>(this.db, 'pending')
    this.intents = openSub<Intent>(this.db, 'intent')
    this.trash = openSub<TrashRecord>(this.db, 'trash')
    this.docs = openSub<string>(this.db, 'doc')
    this.meta = openSub<unknown>(this.db, 'meta')
    this.unsent = openSub<number>(this.db, 'unsent')
  }

  /** Opens (creating if needed) the state of the workspace folder `root`. */
  static async open(root: string): Promise<StateStore> {
    const store = new StateStore(root)
    mkdirSync(store.trashDir, { recursive: true })
    try {
      await store.db.open()
    } catch (err) {
      throw new SkeinError(
        'IO',
        `Cannot open the agent state in ${store.dir}: ${(err as Error).message}; ` +
          'make sure no other agent runs on this folder.',
        { cause: err },
      )
    }
    for await (const [, rec] of store.base.iterator()) store.index(rec)
    for await (const key of store.pending.keys()) store.pendingPaths.add(key)
    for await (const i of store.intents.values()) store.trackIntent(i)
    return store
  }

  /** Closes the database. */
  async close(): Promise<void> {
    await this.db.close()
  }

  // ---- base records -------------------------------------------------------

  private index(rec: BaseRecord): void {
    const old = this.bases.get(rec.fileId)
    if (old) this.byIno.get(old.ino)?.delete(rec.fileId)
    this.bases.set(rec.fileId, rec)
    this.byPath.set(pathKey(rec.path), rec.fileId)
    let set = this.byIno.get(rec.ino)
    if (!set) this.byIno.set(rec.ino, (set = new Set()))
    set.add(rec.fileId)
  }

  /** Base records whose inode is `ino` (rename detection). */
  basesByIno(ino: number): BaseRecord[] {
    return [...(this.byIno.get(ino) ?? [])]
      .map((id) => this.bases.get(id))
      .filter((b) => b !== undefined)
  }

  /** The base record of a file, or undefined. */
  getBase(fileId: FileId): BaseRecord | undefined {
    return this.bases.get(fileId)
  }

  /** The base record whose path equals `path` (case/NFC-insensitive), or undefined. */
  baseByPath(path: string): BaseRecord | undefined {
    const id = this.byPath.get(pathKey(path))
    return id === undefined ? undefined : this.bases.get(id)
  }

  /** Every base record. */
  allBases(): BaseRecord[] {
    return [...this.bases.values()]
  }

  /** Stores base records (one atomic batch). */
  async putBases(recs: readonly BaseRecord[]): Promise<void> {
    if (recs.length === 0) return
    for (const rec of recs) {
      const old = this.bases.get(rec.fileId)
      if (old && pathKey(old.path) !== pathKey(rec.path)) this.byPath.delete(pathKey(old.path))
      this.index(rec)
    }
    await this.base.batch(recs.map((r) => ({ type: 'put' as const, key: r.fileId, value: r })))
    const done: string[] = []
    for (const r of recs) {
      const ids = this.openIntents.get(r.fileId)
      if (ids) done.push(...ids)
    }
    if (done.length > 0) await this.deleteIntents(done)
  }

  private trackIntent(i: Intent): void {
    if (i.fileId === undefined) return
    let set = this.openIntents.get(i.fileId)
    if (!set) this.openIntents.set(i.fileId, (set = new Set()))
    set.add(i.id)
  }

  /** Stores one base record. */
  async putBase(rec: BaseRecord): Promise<void> {
    await this.putBases([rec])
  }

  /** Forgets a file's base. */
  async deleteBase(fileId: FileId): Promise<void> {
    const old = this.bases.get(fileId)
    if (!old) return
    this.bases.delete(fileId)
    this.byIno.get(old.ino)?.delete(fileId)
    if (this.byPath.get(pathKey(old.path)) === fileId) this.byPath.delete(pathKey(old.path))
    await this.base.del(fileId)
  }

  // ---- pending offline edits ---------------------------------------------

  /** Records (or replaces) the pending edit of a path; survives restarts. */
  async putPending(edit: PendingEdit): Promise<void> {
    this.pendingPaths.add(edit.path)
    await this.pending.put(edit.path, edit, DURABLE)
  }

  /** Records many pending edits in one durable batch. */
  async putPendingMany(edits: readonly PendingEdit[]): Promise<void> {
    if (edits.length === 0) return
    for (const e of edits) this.pendingPaths.add(e.path)
    await this.pending.batch(
      edits.map((e) => ({ type: 'put' as const, key: e.path, value: e })),
      DURABLE,
    )
  }

  /** Drops the pending edit of a path. */
  async deletePending(path: string): Promise<void> {
    if (!this.pendingPaths.delete(path)) return
    await this.pending.del(path)
  }

  /**
   * Moves the pending edits at `from` (and, for a folder, below it) to `to`: a
   * rename applied on disk takes its unsynced edits along, so they are folded in
   * at the new path instead of waiting forever at one that no longer exists.
   */
  async movePending(from: string, to: string): Promise<void> {
    const moved = this.pendingPathsUnder([from])
    if (moved.length === 0) return
    const edits: PendingEdit[] = []
    for (const p of moved) {
      const e = await this.pending.get(p).catch(() => undefined)
      if (e) edits.push({ ...e, path: to + p.slice(from.length) })
    }
    for (const p of moved) this.pendingPaths.delete(p)
    await this.pending.batch(
      [
        ...moved.map((p) => ({ type: 'del' as const, key: p })),
        ...edits.map((e) => ({ type: 'put' as const, key: e.path, value: e })),
      ],
      DURABLE,
    )
    for (const e of edits) this.pendingPaths.add(e.path)
  }

  /** True when `path` has a pending offline edit. */
  hasPending(path: string): boolean {
    return this.pendingPaths.has(path)
  }

  /** Paths with pending edits at or below any of `roots` (`''` = all). */
  pendingPathsUnder(roots: readonly string[]): string[] {
    return [...this.pendingPaths].filter((p) =>
      roots.some((r) => r === '' || p === r || p.startsWith(r + '/')),
    )
  }

  /** How many paths have pending edits. */
  /** The first `limit` pending paths, sorted. */
  pendingList(limit: number): string[] {
    return [...this.pendingPaths].sort().slice(0, limit)
  }

  get pendingCount(): number {
    return this.pendingPaths.size
  }

  /** Every pending edit, in path order. */
  async listPending(): Promise<PendingEdit[]> {
    return this.pending.values().all()
  }

  // ---- intent log ---------------------------------------------------------

  /** Logs an intent durably (fsync) before the disk mutation starts. */
  async putIntent(intent: Intent): Promise<void> {
    this.trackIntent(intent)
    await this.intents.put(intent.id, intent, DURABLE)
  }

  /** Logs many intents in one durable batch. */
  async putIntents(intents: readonly Intent[]): Promise<void> {
    for (const i of intents) this.trackIntent(i)
    await this.intents.batch(
      intents.map((i) => ({ type: 'put' as const, key: i.id, value: i })),
      DURABLE,
    )
  }

  /** Clears finished intents. */
  async deleteIntents(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return
    const gone = new Set(ids)
    for (const [f, set] of this.openIntents) {
      for (const id of set) if (gone.has(id)) set.delete(id)
      if (set.size === 0) this.openIntents.delete(f)
    }
    await this.intents.batch(ids.map((id) => ({ type: 'del' as const, key: id })))
  }

  /** Clears a finished intent. */
  async deleteIntent(id: string): Promise<void> {
    await this.deleteIntents([id])
  }

  /** Intents left by an interrupted run. */
  async listIntents(): Promise<Intent[]> {
    return this.intents.values().all()
  }

  // ---- trash --------------------------------------------------------------

  /**
   * Moves `<root>/<path>` into `.skein/trash/` and records where it came from.
   * Returns undefined when the file is already gone.
   */
  async moveToTrash(
    path: string,
    info: Pick<TrashRecord, 'hash' | 'size' | 'reason'> & { fileId?: FileId; now: number },
  ): Promise<TrashRecord | undefined> {
    const abs = join(this.root, path)
    if (!existsSync(abs)) return undefined
    const id = `${info.now.toString(36)}-${Math.random().toString(36).slice(2, 10)}`
    const { ext } = splitExt(baseName(path))
    const rec: TrashRecord = {
      id,
      path,
      hash: info.hash,
      size: info.size,
      trashedAt: info.now,
      file: id + ext,
      reason: info.reason,
      ...(info.fileId === undefined ? {} : { fileId: info.fileId }),
    }
    await this.trash.put(id, rec, DURABLE)
    try {
      renameSync(abs, join(this.trashDir, rec.file))
    } catch (err) {
      await this.trash.del(id)
      throw new SkeinError('IO', `Cannot move ${path} to the trash: ${(err as Error).message}.`, {
        cause: err,
      })
    }
    return rec
  }

  /** Trashed files (records whose file is still in the trash folder), newest first. */
  async listTrash(): Promise<TrashRecord[]> {
    const all = await this.trash.values().all()
    return all
      .filter((r) => existsSync(join(this.trashDir, r.file)))
      .sort((a, b) => b.trashedAt - a.trashedAt)
  }

  /**
   * Puts the newest trashed file that lived at `path` back there. Refuses to
   * overwrite an existing file. Returns the record, or undefined if none.
   */
  async restoreFromTrash(path: string): Promise<TrashRecord | undefined> {
    const want = pathKey(normalizePath(path))
    const rec = (await this.listTrash()).find((r) => pathKey(r.path) === want)
    if (!rec) return undefined
    const abs = join(this.root, rec.path)
    if (existsSync(abs) || isSymlink(abs))
      throw new SkeinError(
        'PRECONDITION_FAILED',
        `Cannot restore ${rec.path} from the trash: a file already exists there; move it away first.`,
      )
    mkdirSync(dirname(abs), { recursive: true })
    renameSync(join(this.trashDir, rec.file), abs)
    await this.trash.del(rec.id)
    return rec
  }

  // ---- local Yjs persistence and meta ------------------------------------

  /** Stores a document's full state (base64 of a Yjs update). */
  async saveDoc(name: string, update: Uint8Array): Promise<void> {
    await this.docs.put(name, Buffer.from(update).toString('base64'))
  }

  /** Stores many document states in one batch. */
  async saveDocs(docs: readonly (readonly [string, Uint8Array])[]): Promise<void> {
    if (docs.length === 0) return
    await this.docs.batch(
      docs.map(([name, u]) => ({
        type: 'put' as const,
        key: name,
        value: Buffer.from(u).toString('base64'),
      })),
    )
  }

  /**
   * Marks bodies whose local updates the server has not acknowledged yet: a
   * restart opens them again so those updates are sent (a closed body is not).
   */
  async markUnsent(fileIds: readonly string[]): Promise<void> {
    if (fileIds.length === 0) return
    await this.unsent.batch(
      fileIds.map((key) => ({ type: 'put' as const, key, value: 1 })),
      DURABLE,
    )
  }

  /** Clears the marks of bodies the server acknowledged. */
  async clearUnsent(fileIds: readonly string[]): Promise<void> {
    if (fileIds.length === 0) return
    await this.unsent.batch(fileIds.map((key) => ({ type: 'del' as const, key })))
  }

  /** Every marked body. */
  async unsentIds(): Promise<string[]> {
    const out: string[] = []
    for await (const key of this.unsent.keys()) out.push(key)
    return out
  }

  /** A stored document state, or undefined. */
  async loadDoc(name: string): Promise<Uint8Array | undefined> {
    const [v] = await this.docs.getMany([name])
    return v === undefined ? undefined : new Uint8Array(Buffer.from(v, 'base64'))
  }

  /** Many stored document states (undefined where none), in one read. */
  async loadDocs(names: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    if (names.length === 0) return []
    const vs = await this.docs.getMany([...names])
    return vs.map((v) => (v === undefined ? undefined : new Uint8Array(Buffer.from(v, 'base64'))))
  }

  /** A meta value, or undefined. */
  async getMeta<T>(key: string): Promise<T | undefined> {
    const [v] = await this.meta.getMany([key])
    return v as T | undefined
  }

  /** Stores a meta value. */
  async setMeta(key: string, value: unknown): Promise<void> {
    await this.meta.put(key, value)
  }
}

function isSymlink(abs: string): boolean {
  try {
    return lstatSync(abs).isSymbolicLink()
  } catch {
    return false
  }
}
