/**
 * A {@link DocStore} on LevelDB through `y-leveldb`: updates live under y-leveldb's
 * own key layout (`['v1', doc, 'update', clock]`), so its tools can read them; the
 * change feed and per-document sequences live in `skein_*` keys next to them and
 * are written in the same atomic batch as the update they describe.
 */
import { SkeinError, docWorkspace, noopLogger } from '@skein/core'
import type { ChangePage, DocStore, Logger, StoredDoc } from '@skein/core'
import { LeveldbPersistence, getLevelBulkEntries, getLevelUpdatesEntries } from 'y-leveldb'

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
type Db = {
  batch(ops: { type: 'put' | 'del'; key: Key; value?: Uint8Array }[], o?: object): Promise<void>
  get(key: Key): Promise<Uint8Array | undefined>
  clear(o: { gte: Key; lt: Key }): Promise<void>
}
type Result<T> = { ok: true; value: T } | { ok: false; error: unknown }

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

  /** Opens (creating if needed) the store in `location`. */
  constructor(
    readonly location: string,
    options: Partial<LevelDocStoreOptions> = {},
  ) {
    this.options = { ...DEFAULT_LEVEL_DOC_STORE_OPTIONS, ...options }
    this.persistence = new LeveldbPersistence(location)
  }

  /** Runs `f` in y-leveldb's serial transaction chain, surfacing errors y-leveldb would swallow. */
  private async run<T>(what: string, f: (db: Db) => Promise<T>): Promise<T> {
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
      const entries = await getLevelUpdatesEntries(db, doc)
      return { updates: entries.map((e) => new Uint8Array(e.value)), seq }
    })
  }

  async append(doc: string, update: Uint8Array): Promise<number> {
    return this.run('append an update', async (db) => {
      const ws = docWorkspace(doc)
      const seq = (await this.head(db, ws)) + 1
      const clock = (await this.lastClock(db, doc)) + 1
      if (clock >= MAX_CLOCK) throw new Error('update clock overflow; compact the document')
      const prev = this.seqs.get(doc) ?? readNum(await get(db, docKey(ws, doc)))
      const ops: Parameters<Db['batch']>[0] = [
        { type: 'put', key: updateKey(doc, clock), value: update },
        { type: 'put', key: docKey(ws, doc), value: num(seq) },
        { type: 'put', key: feedKey(ws, seq), value: text.encode(doc) },
        { type: 'put', key: headKey(ws), value: num(seq) },
      ]
      if (prev > 0) ops.push({ type: 'del', key: feedKey(ws, prev) })
      await db.batch(ops, { sync: this.options.sync })
      this.heads.set(ws, seq)
      this.clocks.set(doc, clock)
      if (this.seqs.size > 100_000) this.seqs.clear()
      this.seqs.set(doc, seq)
      return seq
    })
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
