/**
 * A {@link DocStore} on LevelDB through `y-leveldb`: updates live under y-leveldb's
 * own key layout (`['v1', doc, 'update', clock]`), so its tools can read them; the
 * change feed and per-document sequences live in `skein_*` keys next to them and
 * are written in the same atomic batch as the update they describe.
 *
 * Appends are group-committed: every append made while the previous write is
 * still in flight joins one LevelDB batch, which writes each update under its
 * own key but each document's feed entry and each workspace head only once. A
 * fast typist's stream of one-keystroke updates then costs one write per disk
 * round trip, not one per keystroke — and the server never has to merge them.
 */
import { SkeinError, docWorkspace, noopLogger } from '@skein/core'
import type { ChangePage, DocStore, Logger, StoredDoc } from '@skein/core'
import {
  LeveldbPersistence,
  getLevelBulkEntries,
  getLevelUpdatesEntries,
  keyEncoding,
} from 'y-leveldb'

/** Options of {@link LevelDocStore}. */
export interface LevelDocStoreOptions {
  /** fsync every append (survives power loss, not only a process crash); default false because it costs ~1 ms per write. */
  sync: boolean
  /** Where store errors are reported; default silent. */
  logger: Logger
}

/** Defaults for {@link LevelDocStoreOptions}. */
export const DEFAULT_LEVEL_DOC_STORE_OPTIONS: LevelDocStoreOptions = {
  sync: false,
  logger: noopLogger,
}

type Key = (string | number)[]
/** A batch operation; `keyEncoding: 'view'` marks a key already encoded (see {@link LevelDocStore.updateKey}). */
type Op = { type: 'put' | 'del'; key: Key | Uint8Array; value?: Uint8Array; keyEncoding?: 'view' }
type Db = {
  batch(ops: Op[], o?: object): Promise<void>
  iterator(o: { gte: Uint8Array; lt: Uint8Array; keys: false; keyEncoding: 'view' }): {
    all(): Promise<[undefined, Uint8Array][]>
  }
  get(key: Key): Promise<Uint8Array | undefined>
  clear(o: { gte: Key; lt: Key }): Promise<void>
}
type Result<T> = { ok: true; value: T } | { ok: false; error: unknown }

/** One append waiting for its group commit. */
interface PendingAppend {
  doc: string
  update: Uint8Array
  resolve: (seq: number) => void
  reject: (err: unknown) => void
}

const MAX_CLOCK = 0xffffffff
const text = new TextEncoder()
const untext = new TextDecoder()
const num = (n: number) => text.encode(String(n))
const readNum = (b: Uint8Array | undefined) => (b ? Number(untext.decode(b)) : 0)

/** level@8 rejects a missing key with `notFound`; Skein treats not-found as a value. */
async function get(db: Db, key: Key): Promise<Uint8Array | undefined> {
  try {
    return await db.get(key)
  } catch (err) {
    if ((err as { notFound?: boolean }).notFound) return undefined
    throw err
  }
}

const updateKey = (doc: string, clock: number): Key => ['v1', doc, 'update', clock]
const docKey = (ws: string, doc: string): Key => ['skein_doc', ws, doc]
const feedKey = (ws: string, seq: number): Key => ['skein_feed', ws, seq]
const headKey = (ws: string): Key => ['skein_head', ws]

/** LevelDB-backed DocStore; one instance owns its directory (LevelDB takes a lock). */
export class LevelDocStore implements DocStore {
  private readonly persistence: LeveldbPersistence
  private readonly options: LevelDocStoreOptions
  private readonly heads = new Map<string, number>()
  private readonly clocks = new Map<string, number>()
  /** Last feed sequence per document (saves a read per append). */
  private readonly seqs = new Map<string, number>()
  private closed = false
  /** Per document: the encoded `['v1', doc, 'update']` key prefix (saves an encoder per append). */
  private readonly prefixes = new Map<string, Uint8Array>()
  /** Appends that will go into the next group commit; undefined once it started or another op was queued. */
  private batch: PendingAppend[] | undefined

  /** Opens (creating if needed) the store in `location`. */
  constructor(
    readonly location: string,
    options: Partial<LevelDocStoreOptions> = {},
  ) {
    this.options = { ...DEFAULT_LEVEL_DOC_STORE_OPTIONS, ...options }
    this.persistence = new LeveldbPersistence(location)
  }

  /**
   * Runs `f` in y-leveldb's serial transaction chain, surfacing errors y-leveldb
   * would swallow. Closes the open append batch first: later appends must not
   * overtake this operation (call order per document).
   */
  private run<T>(what: string, f: (db: Db) => Promise<T>): Promise<T> {
    this.batch = undefined
    return this.transact(what, f)
  }

  private async transact<T>(what: string, f: (db: Db) => Promise<T>): Promise<T> {
    if (this.closed) {
      throw new SkeinError(
        'CLOSED',
        `LevelDocStore at ${this.location} is closed: open a new store to ${what}.`,
      )
    }
    const r = await this.persistence._transact<Result<T>>(async (db: Db) => {
      try {
        return { ok: true, value: await f(db) }
      } catch (error) {
        return { ok: false, error }
      }
    })
    if (r.ok) return r.value
    this.options.logger.error('leveldb store failed', { op: what, location: this.location })
    throw new SkeinError(
      'IO',
      `LevelDB store at ${this.location} failed to ${what}: check disk space and permissions.`,
      { cause: r.error, retryable: true },
    )
  }

  private async head(db: Db, ws: string): Promise<number> {
    let h = this.heads.get(ws)
    if (h === undefined) {
      h = readNum(await get(db, headKey(ws)))
      this.heads.set(ws, h)
    }
    return h
  }

  private async lastClock(db: Db, doc: string): Promise<number> {
    let c = this.clocks.get(doc)
    if (c === undefined) {
      const last = await getLevelUpdatesEntries(db, doc, { reverse: true, limit: 1, values: false })
      c = last.length === 0 ? -1 : (last[0]!.key[3] as number)
      if (this.clocks.size > 100_000) this.clocks.clear()
      this.clocks.set(doc, c)
    }
    return c
  }

  async load(doc: string): Promise<StoredDoc | undefined> {
    return this.run('load a document', async (db) => {
      const seq = readNum(await get(db, docKey(docWorkspace(doc), doc)))
      if (seq === 0) return undefined
      // One native read of the whole range (y-leveldb's helper streams entry by entry).
      const entries = await db
        .iterator({
          gte: this.updateKey(doc, 0),
          lt: this.updateKey(doc, MAX_CLOCK),
          keys: false,
          keyEncoding: 'view',
        })
        .all()
      return { updates: entries.map(([, v]) => new Uint8Array(v)), seq }
    })
  }

  append(doc: string, update: Uint8Array): Promise<number> {
    if (this.closed) return this.transact('append an update', async () => 0)
    return new Promise<number>((resolve, reject) => {
      if (!this.batch) {
        const batch: PendingAppend[] = []
        this.batch = batch
        this.transact('append updates', async (db) => {
          if (this.batch === batch) this.batch = undefined
          await this.commit(db, batch)
        }).catch((err: unknown) => {
          for (const a of batch) a.reject(err)
        })
      }
      this.batch.push({ doc, update, resolve, reject })
    })
  }

  /**
   * y-leveldb's key `['v1', doc, 'update', clock]`, encoded exactly as its
   * codec would (the cached prefix, then tag 1 and the clock as uint32 BE).
   */
  private updateKey(doc: string, clock: number): Uint8Array {
    let prefix = this.prefixes.get(doc)
    if (!prefix) {
      if (this.prefixes.size > 10_000) this.prefixes.clear()
      prefix = keyEncoding.encode(['v1', doc, 'update'])
      this.prefixes.set(doc, prefix)
    }
    const key = new Uint8Array(prefix.length + 5)
    key.set(prefix, 0)
    const at = prefix.length
    key[at] = 1
    key[at + 1] = clock >>> 24
    key[at + 2] = (clock >>> 16) & 0xff
    key[at + 3] = (clock >>> 8) & 0xff
    key[at + 4] = clock & 0xff
    return key
  }

  /** Writes one group of appends in one atomic batch, then resolves each with its sequence. */
  private async commit(db: Db, batch: PendingAppend[]): Promise<void> {
    const ops: Op[] = []
    const heads = new Map<string, number>()
    const clocks = new Map<string, number>()
    /** Per document: feed sequence before this batch (its entry is deleted) and after it. */
    const seqs = new Map<string, { before: number; after: number }>()
    const done: [PendingAppend, number][] = []
    for (const a of batch) {
      const ws = docWorkspace(a.doc)
      const clock = (clocks.get(a.doc) ?? (await this.lastClock(db, a.doc))) + 1
      if (clock >= MAX_CLOCK) {
        a.reject(new SkeinError('INTERNAL', `Update clock overflow in ${a.doc}: compact it.`))
        continue
      }
      const seq = (heads.get(ws) ?? (await this.head(db, ws))) + 1
      heads.set(ws, seq)
      clocks.set(a.doc, clock)
      const s = seqs.get(a.doc)
      if (s) s.after = seq
      else {
        const before = this.seqs.get(a.doc) ?? readNum(await get(db, docKey(ws, a.doc)))
        seqs.set(a.doc, { before, after: seq })
      }
      ops.push({
        type: 'put',
        key: this.updateKey(a.doc, clock),
        value: a.update,
        keyEncoding: 'view',
      })
      done.push([a, seq])
    }
    for (const [doc, { before, after }] of seqs) {
      const ws = docWorkspace(doc)
      ops.push({ type: 'put', key: docKey(ws, doc), value: num(after) })
      ops.push({ type: 'put', key: feedKey(ws, after), value: text.encode(doc) })
      if (before > 0) ops.push({ type: 'del', key: feedKey(ws, before) })
    }
    for (const [ws, head] of heads) ops.push({ type: 'put', key: headKey(ws), value: num(head) })
    if (ops.length > 0) await db.batch(ops, { sync: this.options.sync })
    for (const [ws, head] of heads) this.heads.set(ws, head)
    if (this.clocks.size > 100_000) this.clocks.clear()
    for (const [doc, clock] of clocks) this.clocks.set(doc, clock)
    if (this.seqs.size > 100_000) this.seqs.clear()
    for (const [doc, { after }] of seqs) this.seqs.set(doc, after)
    for (const [a, seq] of done) a.resolve(seq)
  }

  async compact(doc: string, state: Uint8Array): Promise<void> {
    return this.run('compact a document', async (db) => {
      const last = await this.lastClock(db, doc)
      if (last < 0) return
      const clock = last + 1
      await db.batch([{ type: 'put', key: updateKey(doc, clock), value: state }], {
        sync: this.options.sync,
      })
      await db.clear({ gte: updateKey(doc, 0), lt: updateKey(doc, clock) })
      this.clocks.set(doc, clock)
    })
  }

  async list(workspace?: string): Promise<string[]> {
    return this.run('list documents', async (db) => {
      const range =
        workspace === undefined
          ? { gte: ['skein_doc'], lt: ['skein_dod'] }
          : { gte: ['skein_doc', workspace], lt: ['skein_doc', workspace, MAX_CLOCK] }
      const entries = await getLevelBulkEntries(db, { ...range, values: false })
      return entries.map((e) => e.key[2] as unknown as string).sort()
    })
  }

  async delete(doc: string): Promise<void> {
    return this.run('delete a document', async (db) => {
      const ws = docWorkspace(doc)
      const seq = readNum(await get(db, docKey(ws, doc)))
      await db.clear({ gte: updateKey(doc, 0), lt: updateKey(doc, MAX_CLOCK) })
      if (seq > 0) {
        await db.batch([
          { type: 'del', key: docKey(ws, doc) },
          { type: 'del', key: feedKey(ws, seq) },
        ])
      }
      this.clocks.delete(doc)
      this.seqs.delete(doc)
    })
  }

  async changes(workspace: string, since: number, limit = 1000): Promise<ChangePage> {
    return this.run('read the change feed', async (db) => {
      const head = await this.head(db, workspace)
      if (since >= MAX_CLOCK - 1) return { head, changes: [], more: false }
      const entries = await getLevelBulkEntries(db, {
        gt: feedKey(workspace, since),
        lt: feedKey(workspace, MAX_CLOCK),
        limit: limit + 1,
      })
      const changes = entries
        .slice(0, limit)
        .map((e) => ({ doc: untext.decode(e.value), seq: e.key[2] as unknown as number }))
      return { head, changes, more: entries.length > limit }
    })
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await this.persistence.destroy()
  }
}
