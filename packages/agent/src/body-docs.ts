import * as Y from 'yjs'
import type { FileId } from '@skein/core'
import type { DocSession, SyncTransport } from './sync-transport.js'
import type { StateStore } from './state-store.js'

/** The local origin of agent writes to a body (the transport never echoes it back as remote). */
export const AGENT_ORIGIN = Symbol('skein-agent')

/** A text note's body document (room `<workspaceId>/<fileId>`, DESIGN §3). */
export interface Body {
  fileId: FileId
  room: string
  doc: Y.Doc
  text: Y.Text
  session: DocSession
}

/** The generation a body document carries (`undefined` before it is seeded). */
export function bodyGen(body: Pick<Body, 'doc'>): number | undefined {
  const g = body.doc.getMap('meta').get('gen')
  return typeof g === 'number' ? g : undefined
}

/** What a body holds while it may not be synced: nothing is exchanged, nothing resolves. */
const DETACHED: DocSession = {
  synced: () => new Promise<void>(() => {}),
  flushed: () => new Promise<void>(() => {}),
  settled: () => false,
  close: () => {},
}

/**
 * Opens body documents on demand, persists them in the state store so restarts
 * and offline starts have them, and reports text changes that came from others.
 */
export class BodyDocs {
  private readonly bodies = new Map<FileId, Body>()
  /**
   * Bodies changed since the last save, saved together in one batch. The value
   * lists the updates since then when nothing was persisted before (a body
   * just downloaded or created): a single one is the whole state and is stored
   * as it is, without encoding the document again; null means "encode".
   */
  private readonly dirty = new Map<FileId, Uint8Array[] | null>()
  /** Bodies marked in the state store as holding updates the server has not acknowledged. */
  private readonly marked = new Set<FileId>()
  /** Open bodies with nothing (or only a stale generation) persisted. */
  private readonly persistedEmpty = new Set<FileId>()
  private saveTimer: NodeJS.Timeout | undefined
  private readonly lastUse = new Map<FileId, number>()
  /**
   * Bodies whose text has not reached the server yet (empty there, or of an
   * older generation than the entry): they stay open however long they are
   * idle, since the update that brings the text is what triggers the next
   * pass. Closed, nothing would — the entry's hash does not change when the
   * text finally arrives.
   */
  private readonly waiting = new Set<FileId>()
  private sweeper: NodeJS.Timeout | undefined

  /**
   * True while the workspace document is in sync: only then is an entry's
   * `gen` known, so only then are bodies attached to their rooms (DESIGN §3:
   * a body of another generation is never merged, not even for a moment).
   */
  private live = false

  constructor(
    private readonly workspace: string,
    private readonly transport: SyncTransport,
    private readonly store: StateStore,
    private readonly onRemoteChange: (fileId: FileId) => void,
    /** The generation the workspace gives a file's body (undefined: unknown entry). */
    private readonly genOf: (fileId: FileId) => number | undefined,
    /** Bodies unused this long are closed (0: never); remote edits are then noticed by the entry's hash. */
    private readonly idleMs = 0,
  ) {
    if (idleMs > 0) {
      this.sweeper = setInterval(
        () => void this.closeIdle().catch(() => {}),
        Math.max(idleMs / 2, 50),
      )
      this.sweeper.unref()
    }
  }

  /**
   * Closes bodies nobody used for `idleMs` and whose updates the server has
   * acknowledged, so a reconnect resubscribes the few active notes, not all.
   */
  async closeIdle(): Promise<void> {
    const now = Date.now()
    const idle = [...this.bodies].filter(
      ([id, b]) =>
        now - (this.lastUse.get(id) ?? 0) >= this.idleMs &&
        !this.waiting.has(id) &&
        b.session.settled() &&
        !this.dirty.has(id),
    )
    // Not dirty: what is persisted is their state already.
    for (const [id, b] of idle)
      if (this.bodies.get(id) === b && Date.now() - (this.lastUse.get(id) ?? 0) >= this.idleMs)
        this.close(id)
  }

  /**
   * Marks a body as waiting for its text to reach the server (true) or no
   * longer (false); a waiting body is never closed as idle.
   */
  setWaiting(fileId: FileId, on: boolean): void {
    if (on && this.bodies.has(fileId)) this.waiting.add(fileId)
    else this.waiting.delete(fileId)
  }

  /** How many bodies are open. */
  get size(): number {
    return this.bodies.size
  }

  /** The open body of a file, if any. */
  peek(fileId: FileId): Body | undefined {
    return this.bodies.get(fileId)
  }

  /** Opens (or returns) the body of a file, restoring its locally persisted state. */
  async open(fileId: FileId): Promise<Body> {
    return (await this.openMany([fileId]))[0] as Body
  }

  /** Opens many bodies with one read of the local state (a first sync subscribes thousands). */
  async openMany(fileIds: readonly FileId[]): Promise<Body[]> {
    const missing = [...new Set(fileIds.filter((id) => !this.bodies.has(id)))]
    const saved = await this.store.loadDocs(missing.map((id) => `${this.workspace}/${id}`))
    missing.forEach((id, i) => {
      if (!this.bodies.has(id)) this.attach(id, saved[i])
    })
    const now = Date.now()
    for (const id of fileIds) this.lastUse.set(id, now)
    return fileIds.map((id) => this.bodies.get(id) as Body)
  }

  /** True when a body's generation differs from its entry's (it must not be merged). */
  private stale(fileId: FileId, doc: Y.Doc): boolean {
    const gen = bodyGen({ doc })
    return gen !== undefined && this.live && gen !== this.genOf(fileId)
  }

  private attach(fileId: FileId, saved: Uint8Array | undefined): void {
    const room = `${this.workspace}/${fileId}`
    // The room as guid: Yjs would otherwise draw a random uuid per document
    // (31 crypto calls each — a second of a 10,000-note first sync).
    let doc = new Y.Doc({ guid: room })
    if (saved) Y.applyUpdate(doc, saved, AGENT_ORIGIN)
    if (this.stale(fileId, doc)) {
      // A local copy of an older generation: start empty and fetch the current one.
      doc.destroy()
      doc = new Y.Doc({ guid: room })
      saved = undefined
    }
    if (saved) this.persistedEmpty.delete(fileId)
    else this.persistedEmpty.add(fileId)
    const text = doc.getText('body')
    doc.on('update', (u: Uint8Array, origin: unknown) => {
      this.lastUse.set(fileId, Date.now())
      this.scheduleSave(fileId, u)
      if (origin !== AGENT_ORIGIN) this.onRemoteChange(fileId)
    })
    const session = this.live ? this.transport.open(room, doc) : DETACHED
    this.bodies.set(fileId, { fileId, room, doc, text, session })
  }

  /**
   * Detaches and re-attaches a body's room (a fresh subscription): the
   * watchdog for a subscription the server never answered.
   */
  resubscribe(fileId: FileId): void {
    const b = this.bodies.get(fileId)
    if (!b || !this.live) return
    b.session.close()
    b.session = this.transport.open(b.room, b.doc)
  }

  /**
   * The connection dropped: every body leaves its room until {@link resume}.
   * Reconnecting must not re-sync a body before the workspace says which
   * generation is current (another device may have re-seeded it meanwhile).
   */
  suspend(): void {
    if (!this.live) return
    this.live = false
    for (const b of this.bodies.values()) {
      b.session.close()
      b.session = DETACHED
    }
  }

  /**
   * The workspace document is in sync again: bodies of the current generation
   * rejoin their rooms; a body of another generation is dropped (its text is
   * on disk and in the base; the current generation is fetched when needed)
   * and its file handed back for another pass.
   */
  resume(): void {
    if (this.live) return
    this.live = true
    for (const [id, b] of [...this.bodies]) {
      if (this.stale(id, b.doc)) {
        this.drop(id)
        this.onRemoteChange(id)
      } else if (b.session === DETACHED) b.session = this.transport.open(b.room, b.doc)
    }
  }

  /** Forgets an open body without saving it (its generation is gone). */
  private drop(fileId: FileId): void {
    this.dirty.delete(fileId)
    this.close(fileId)
  }

  /** Writes the first content and generation of a body this device created. */
  seed(body: Body, gen: number, content: string): void {
    body.doc.transact(() => {
      body.doc.getMap('meta').set('gen', gen)
      if (content !== '') body.text.insert(0, content)
    }, AGENT_ORIGIN)
  }

  private scheduleSave(fileId: FileId, update: Uint8Array): void {
    const list = this.dirty.get(fileId)
    if (list === undefined)
      this.dirty.set(fileId, this.persistedEmpty.has(fileId) ? [update] : null)
    else list?.push(update)
    this.saveTimer ??= setTimeout(() => void this.saveDirty().catch(() => {}), 200)
  }

  /** Persists every changed body now (before a base that relies on it is written). */
  async saveNow(): Promise<void> {
    if (this.dirty.size > 0) await this.saveDirty()
  }

  /**
   * Opens the bodies a previous run left with updates the server never
   * acknowledged (marked when persisted), so those updates are sent: a body
   * stays closed after a restart until its file changes. Returns how many.
   */
  async resendUnsent(): Promise<number> {
    const ids = (await this.store.unsentIds()) as FileId[]
    for (const id of ids) this.marked.add(id)
    const live = ids.filter((id) => this.genOf(id) !== undefined)
    const gone = ids.filter((id) => this.genOf(id) === undefined)
    if (gone.length > 0) {
      await this.store.clearUnsent(gone)
      for (const id of gone) this.marked.delete(id)
    }
    await this.openInBatches(live)
    return live.length
  }

  /** Opens (subscribes) many bodies a batch at a time, for a whole workspace's worth. */
  async openInBatches(fileIds: readonly FileId[], batch = 500): Promise<void> {
    for (let i = 0; i < fileIds.length; i += batch) await this.openMany(fileIds.slice(i, i + batch))
  }

  /** Persists every changed body in one write batch. */
  private async saveDirty(): Promise<void> {
    if (this.saveTimer) clearTimeout(this.saveTimer)
    this.saveTimer = undefined
    const docs: [string, Uint8Array][] = []
    const ids: FileId[] = []
    const unsent: FileId[] = []
    for (const [id, updates] of this.dirty) {
      const b = this.bodies.get(id)
      if (!b) continue
      if (!b.session.settled() && !this.marked.has(id)) unsent.push(id)
      const { pendingStructs, pendingDs } = b.doc.store
      const whole = updates?.length === 1 && pendingStructs === null && pendingDs === null
      docs.push([b.room, whole ? (updates[0] as Uint8Array) : Y.encodeStateAsUpdate(b.doc)])
      ids.push(id)
      this.persistedEmpty.delete(id)
    }
    this.dirty.clear()
    try {
      // The mark first: a mark without the state only reopens a body for nothing.
      await this.store.markUnsent(unsent)
      for (const id of unsent) this.marked.add(id)
      await this.store.saveDocs(docs)
    } catch (err) {
      for (const id of ids) if (!this.dirty.has(id)) this.dirty.set(id, null)
      throw err
    }
  }

  /**
   * Persists and closes bodies that were only needed to write their files (a
   * first sync): 10,000 open documents would hold memory and server rooms for
   * nothing. Remote edits to them are noticed by the entry's hash later, as for
   * any idle body. Bodies with unacknowledged updates stay open.
   */
  async release(fileIds: readonly FileId[]): Promise<void> {
    await this.saveDirty()
    for (const id of fileIds) {
      const b = this.bodies.get(id)
      if (b && b.session.settled() && !this.dirty.has(id)) this.close(id)
    }
  }

  /** Closes one body (after its file was deleted). */
  close(fileId: FileId): void {
    const b = this.bodies.get(fileId)
    if (!b) return
    this.unmarkIfSent(fileId, b)
    b.session.close()
    b.doc.destroy()
    this.bodies.delete(fileId)
    this.waiting.delete(fileId)
    this.lastUse.delete(fileId)
    this.persistedEmpty.delete(fileId)
  }

  /** Persists every body now and closes them all. */
  async closeAll(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    // What is not dirty is persisted already.
    await this.saveDirty()
    const all = [...this.bodies.values()]
    const sent = all.filter((b) => this.marked.has(b.fileId) && b.session.settled())
    await this.store.clearUnsent(sent.map((b) => b.fileId)).catch(() => undefined)
    for (const b of all) {
      b.session.close()
      b.doc.destroy()
    }
    this.bodies.clear()
    this.waiting.clear()
  }

  /** A closing body whose updates the server acknowledged loses its unsent mark. */
  private unmarkIfSent(fileId: FileId, b: Body): void {
    if (!this.marked.has(fileId) || !b.session.settled()) return
    this.marked.delete(fileId)
    void this.store.clearUnsent([fileId]).catch(() => undefined)
  }
}
