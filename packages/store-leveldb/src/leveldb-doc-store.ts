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
 *
 * Loads are batched the same way: every load asked for while the previous store
 * operation is in flight joins one batch, read with two native `getMany` calls
 * (the documents' records, then their update keys) instead of a get and an
 * iterator per document. A document's record (`skein_doc`) keeps its feed
 * sequence and the clock range of its updates (`seq:first:last`) for this.
 */
import { SkeinError, docWorkspace, noopLogger } from '@skein/core'
import type { ChangePage, DocStore, Logger, StoredDoc } from '@skein/core'
import { LeveldbPersistence, getLevelBulkEntries, keyEncoding } from 'y-leveldb'

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
  getMany(
    keys: (Key | Uint8Array)[],
    o?: { keyEncoding: 'view' },
  ): Promise<(Uint8Array | undefined)[]>
  iterator(o: { gte: Uint8Array; lt: Uint8Array; keys: false; keyEncoding: 'view' }): {
    all(): Promise<[undefined, Uint8Array][]>
  }
  keys(o: { gte: Uint8Array; lt: Uint8Array; reverse: true; limit: number; keyEncoding: 'view' }): {
    all(): Promise<Uint8Array[]>
  }
  get(key: Key): Promise<Uint8Array | undefined>
  clear(o: { gte: Key; lt: Key }): Promise<void>
}
type Result<T> = { ok: true; value: T } | { ok: false; error: unknown }

/** One load waiting for its batch. */
interface PendingLoad {
  doc: string
  resolve: (stored: StoredDoc | undefined) => void
  reject: (err: unknown) => void
}

/**
 * A document's record: its last feed sequence and the clocks of its first and
 * last stored update. `last` -1: no update stored. `first` -1 with a `last`: the
 * first is unknown (a record written before ranges were kept); such a document
 * is read with an iterator until its next compaction records a range.
 */
interface DocMeta {
  seq: number
  first: number
  last: number
}

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
/** Most updates a batched load reads by key; a longer log is read with an iterator. */
const MAX_KEYED_UPDATES = 64
/**
 * Most documents one load batch reads. A client subscribing to 10,000 documents
 * at once then gets its answers in runs of this many, each sent while the next
 * is read, instead of one 10,000-document batch whose answers all leave at the
 * end (the client idle until then, the server idle after).
 */
const MAX_BATCHED_LOADS = 256

/**
 * Parses a document record: `seq:first:last`, or `seq` alone (then the range is
 * unknown: undefined). A record that does not parse reads as sequence 0 with no
 * range, so its updates are still read (with an iterator), never skipped.
 */
function readMeta(b: Uint8Array | undefined): { seq: number; range?: [number, number] } {
  if (!b) return { seq: 0 }
  const parts = untext.decode(b).split(':').map(Number)
  const seq = Number.isSafeInteger(parts[0]) ? parts[0]! : 0
  const [, first = -1, last = -1] = parts
  const ok = parts.length === 3 && Number.isSafeInteger(first) && first >= 0 && last >= first
  return ok ? { seq, range: [first, last] } : { seq }
}

/** Encodes a document record; the clock range only when it is known. */
const writeMeta = (m: DocMeta) =>
  text.encode(m.first >= 0 ? `${m.seq}:${m.first}:${m.last}` : String(m.seq))

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
/** The clock of an encoded update key: its last four bytes, big-endian (see {@link LevelDocStore.updateKey}). */
function clockOfKey(key: Uint8Array): number {
  const n = key.length
  return ((key[n - 4]! << 24) >>> 0) + (key[n - 3]! << 16) + (key[n - 2]! << 8) + key[n - 1]!
}
const docKey = (ws: string, doc: string): Key => ['skein_doc', ws, doc]
const feedKey = (ws: string, seq: number): Key => ['skein_feed', ws, seq]
const headKey = (ws: string): Key => ['skein_head', ws]

/** LevelDB-backed DocStore; one instance owns its directory (LevelDB takes a lock). */
export class LevelDocStore implements DocStore {
  private readonly persistence: LeveldbPersistence
  private readonly options: LevelDocStoreOptions
  private readonly heads = new Map<string, number>()
  /** Per document: its record as last written or read (saves a read and an iterator per append). */
  private readonly metas = new Map<string, DocMeta>()
  private closed = false
  /** Per document: the encoded `['v1', doc, 'update']` key prefix (saves an encoder per append). */
  private readonly prefixes = new Map<string, Uint8Array>()
  /** Appends that will go into the next group commit; undefined once it started or another op was queued. */
  private batch: PendingAppend[] | undefined
  /** Loads that will go into the next load batch; undefined once it started or another op was queued. */
  private loads: PendingLoad[] | undefined

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
    this.loads = undefined
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

  /** The document's record, from the cache or the store; finds the clock range of a log without one. */
  private async meta(db: Db, doc: string): Promise<DocMeta> {
    const cached = this.metas.get(doc)
    if (cached) return cached
    const { seq, range } = readMeta(await get(db, docKey(docWorkspace(doc), doc)))
    let m: DocMeta
    if (range) m = { seq, first: range[0], last: range[1] }
    else {
      // no range kept: find the last clock; the first stays unknown unless the log is empty
      // one native read (y-leveldb's helper streams: 0.15 ms a document, 1.5 s of
      // server CPU when a device uploads 10,000 new notes)
      const [key] = await db
        .keys({
          gte: this.updateKey(doc, 0),
          lt: this.updateKey(doc, MAX_CLOCK),
          reverse: true,
          limit: 1,
          keyEncoding: 'view',
        })
        .all()
      m = { seq, first: -1, last: key === undefined ? -1 : clockOfKey(key) }
    }
    this.remember(doc, m)
    return m
  }

  private remember(doc: string, m: DocMeta): void {
    if (this.metas.size > 100_000) this.metas.clear()
    this.metas.set(doc, m)
  }

  load(doc: string): Promise<StoredDoc | undefined> {
    if (this.closed) return this.transact('load a document', async () => undefined)
    return new Promise<StoredDoc | undefined>((resolve, reject) => {
      if (!this.loads) {
        const loads: PendingLoad[] = []
        this.loads = loads
        // later appends must not overtake these loads (call order)
        this.batch = undefined
        this.transact('load documents', async (db) => {
          if (this.loads === loads) this.loads = undefined
          await this.loadMany(db, loads)
        }).catch((err: unknown) => {
          for (const l of loads) l.reject(err)
        })
      }
      this.loads.push({ doc, resolve, reject })
      if (this.loads.length >= MAX_BATCHED_LOADS) this.loads = undefined
    })
  }

  /**
   * Reads a batch of documents: their records in one `getMany`, then the updates
   * of every document with a short known clock range in another — plus the key
   * after each range, which must be absent (else something appended outside
   * this store and the document is read with an iterator, like one without a range).
   */
  private async loadMany(db: Db, loads: PendingLoad[]): Promise<void> {
    const docs = [...new Set(loads.map((l) => l.doc))]
    const records = await db.getMany(docs.map((d) => docKey(docWorkspace(d), d)))
    const found = new Map<string, StoredDoc | undefined>()
    const keyed: { doc: string; seq: number; first: number; last: number; at: number }[] = []
    const keys: Uint8Array[] = []
    const scanned: { doc: string; seq: number }[] = []
    docs.forEach((doc, i) => {
      const { seq, range } = readMeta(records[i])
      if (records[i] === undefined) found.set(doc, undefined)
      else if (range && range[1] - range[0] < MAX_KEYED_UPDATES) {
        keyed.push({ doc, seq, first: range[0], last: range[1], at: keys.length })
        for (let c = range[0]; c <= range[1] + 1; c++) keys.push(this.updateKey(doc, c))
      } else scanned.push({ doc, seq })
    })
    const values = keys.length > 0 ? await db.getMany(keys, { keyEncoding: 'view' }) : []
    for (const k of keyed) {
      const n = k.last - k.first + 1
      const updates = values.slice(k.at, k.at + n)
      if (values[k.at + n] !== undefined || updates.some((u) => u === undefined)) {
        scanned.push({ doc: k.doc, seq: k.seq })
        continue
      }
      // kept as returned: each value is its own copy (no shared pool), so a cold
      // room holding it holds nothing else — one copy less of every document
      found.set(k.doc, { updates: updates as Uint8Array[], seq: k.seq })
      if (!this.metas.has(k.doc)) this.remember(k.doc, { seq: k.seq, first: k.first, last: k.last })
    }
    await Promise.all(
      scanned.map(async ({ doc, seq }) => {
        // one native read of the whole range (y-leveldb's helper streams entry by entry)
        const entries = await db
          .iterator({
            gte: this.updateKey(doc, 0),
            lt: this.updateKey(doc, MAX_CLOCK),
            keys: false,
            keyEncoding: 'view',
          })
          .all()
        const updates = entries.map(([, v]) => new Uint8Array(v))
        found.set(doc, updates.length > 0 || seq > 0 ? { updates, seq } : undefined)
      }),
    )
    for (const l of loads) l.resolve(found.get(l.doc))
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
    /** Per document: its record after this batch, and its feed sequence before it (that entry is deleted). */
    const metas = new Map<string, { meta: DocMeta; before: number }>()
    const done: [PendingAppend, number][] = []
    for (const a of batch) {
      const ws = docWorkspace(a.doc)
      let m = metas.get(a.doc)
      if (!m) {
        const stored = await this.meta(db, a.doc)
        m = { meta: { ...stored }, before: stored.seq }
      }
      const clock = m.meta.last + 1
      if (clock >= MAX_CLOCK) {
        a.reject(new SkeinError('INTERNAL', `Update clock overflow in ${a.doc}: compact it.`))
        continue
      }
      const seq = (heads.get(ws) ?? (await this.head(db, ws))) + 1
      heads.set(ws, seq)
      if (m.meta.last < 0) m.meta.first = clock
      m.meta.last = clock
      m.meta.seq = seq
      metas.set(a.doc, m)
      ops.push({
        type: 'put',
        key: this.updateKey(a.doc, clock),
        value: a.update,
        keyEncoding: 'view',
      })
      done.push([a, seq])
    }
    for (const [doc, { meta, before }] of metas) {
      const ws = docWorkspace(doc)
      ops.push({ type: 'put', key: docKey(ws, doc), value: writeMeta(meta) })
      ops.push({ type: 'put', key: feedKey(ws, meta.seq), value: text.encode(doc) })
      if (before > 0) ops.push({ type: 'del', key: feedKey(ws, before) })
    }
    for (const [ws, head] of heads) ops.push({ type: 'put', key: headKey(ws), value: num(head) })
    if (ops.length > 0) await db.batch(ops, { sync: this.options.sync })
    for (const [ws, head] of heads) this.heads.set(ws, head)
    for (const [doc, { meta }] of metas) this.remember(doc, meta)
    for (const [a, seq] of done) a.resolve(seq)
  }

  /**
   * Writes the compacted state after the last update, with the record's new
   * range (one batch), then clears the older updates — a crash in between
   * leaves redundant updates below the range, never a gap.
   */
  async compact(doc: string, state: Uint8Array): Promise<void> {
    return this.run('compact a document', async (db) => {
      const m = await this.meta(db, doc)
      if (m.last < 0) return
      const clock = m.last + 1
      const next: DocMeta = { seq: m.seq, first: clock, last: clock }
      const ops: Op[] = [{ type: 'put', key: updateKey(doc, clock), value: state }]
      if (m.seq > 0) {
        ops.push({ type: 'put', key: docKey(docWorkspace(doc), doc), value: writeMeta(next) })
      }
      await db.batch(ops, { sync: this.options.sync })
      this.remember(doc, next)
      await db.clear({ gte: updateKey(doc, 0), lt: updateKey(doc, clock) })
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
      const record = await get(db, docKey(ws, doc))
      const { seq } = readMeta(record)
      await db.clear({ gte: updateKey(doc, 0), lt: updateKey(doc, MAX_CLOCK) })
      if (record) {
        const ops: Op[] = [{ type: 'del', key: docKey(ws, doc) }]
        if (seq > 0) ops.push({ type: 'del', key: feedKey(ws, seq) })
        await db.batch(ops)
      }
      this.metas.delete(doc)
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
