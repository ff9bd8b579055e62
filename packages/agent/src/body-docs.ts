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
export function bodyGen(body: Body): number | undefined {
  const g = body.doc.getMap('meta').get('gen')
  return typeof g === 'number' ? g : undefined
}

/**
 * Opens body documents on demand, persists them in the state store so restarts
 * and offline starts have them, and reports text changes that came from others.
 */
export class BodyDocs {
  private readonly bodies = new Map<FileId, Body>()
  /** Bodies changed since the last save, saved together in one batch. */
  private readonly dirty = new Set<FileId>()
  private saveTimer: NodeJS.Timeout | undefined
  private readonly lastUse = new Map<FileId, number>()
  private sweeper: NodeJS.Timeout | undefined

  constructor(
    private readonly workspace: string,
    private readonly transport: SyncTransport,
    private readonly store: StateStore,
    private readonly onRemoteChange: (fileId: FileId) => void,
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
        b.session.settled() &&
        !this.dirty.has(id),
    )
    if (idle.length === 0) return
    await this.store.saveDocs(idle.map(([, b]) => [b.room, Y.encodeStateAsUpdate(b.doc)] as const))
    for (const [id, b] of idle)
      if (this.bodies.get(id) === b && Date.now() - (this.lastUse.get(id) ?? 0) >= this.idleMs)
        this.close(id)
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

  private attach(fileId: FileId, saved: Uint8Array | undefined): void {
    const room = `${this.workspace}/${fileId}`
    const doc = new Y.Doc()
    if (saved) Y.applyUpdate(doc, saved, AGENT_ORIGIN)
    const text = doc.getText('body')
    doc.on('update', (_u: Uint8Array, origin: unknown) => {
      this.lastUse.set(fileId, Date.now())
      this.scheduleSave(fileId)
      if (origin !== AGENT_ORIGIN) this.onRemoteChange(fileId)
    })
    const body: Body = { fileId, room, doc, text, session: this.transport.open(room, doc) }
    this.bodies.set(fileId, body)
  }

  /**
   * Detaches and re-attaches a body's room (a fresh subscription): the
   * watchdog for a subscription the server never answered.
   */
  resubscribe(fileId: FileId): void {
    const b = this.bodies.get(fileId)
    if (!b) return
    b.session.close()
    b.session = this.transport.open(b.room, b.doc)
  }

  /** Writes the first content and generation of a body this device created. */
  seed(body: Body, gen: number, content: string): void {
    body.doc.transact(() => {
      body.doc.getMap('meta').set('gen', gen)
      if (content !== '') body.text.insert(0, content)
    }, AGENT_ORIGIN)
  }

  private scheduleSave(fileId: FileId): void {
    this.dirty.add(fileId)
    this.saveTimer ??= setTimeout(() => void this.saveDirty().catch(() => {}), 200)
  }

  /** Persists every changed body in one write batch. */
  private async saveDirty(): Promise<void> {
    this.saveTimer = undefined
    const docs: [string, Uint8Array][] = []
    for (const id of this.dirty) {
      const b = this.bodies.get(id)
      if (b) docs.push([b.room, Y.encodeStateAsUpdate(b.doc)])
    }
    this.dirty.clear()
    await this.store.saveDocs(docs)
  }

  /** Closes one body (after its file was deleted). */
  close(fileId: FileId): void {
    const b = this.bodies.get(fileId)
    if (!b) return
    b.session.close()
    b.doc.destroy()
    this.bodies.delete(fileId)
    this.lastUse.delete(fileId)
  }

  /** Persists every body now and closes them all. */
  async closeAll(): Promise<void> {
    if (this.sweeper) clearInterval(this.sweeper)
    if (this.saveTimer) clearTimeout(this.saveTimer)
    this.saveTimer = undefined
    this.dirty.clear()
    const all = [...this.bodies.values()]
    await this.store.saveDocs(all.map((b) => [b.room, Y.encodeStateAsUpdate(b.doc)] as const))
    for (const b of all) {
      b.session.close()
      b.doc.destroy()
    }
    this.bodies.clear()
  }
}
