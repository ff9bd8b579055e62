import * as Y from 'yjs'
import { SkeinError } from '@skein/core'
import type { DocSession, SyncTransport } from './sync-transport.js'

const HUB = Symbol('memory-hub')

/**
 * An in-process sync service for tests of the agent alone: rooms are Y.Docs,
 * delivery is asynchronous, and `setOnline(false)` cuts one client off (fault
 * injection). Integration tests use the real SyncServer instead.
 */
export class MemoryHub {
  private readonly rooms = new Map<string, Y.Doc>()
  readonly blobs = new Map<string, Uint8Array>()
  /** Deliveries held back by {@link hold} (fault injection), in order. */
  private held: (() => void)[] | undefined

  /**
   * Holds every document delivery, both ways, while clients stay connected:
   * edits made meanwhile are concurrent. The returned function delivers them in
   * order and resumes normal delivery.
   */
  hold(): () => void {
    this.held ??= []
    return () => {
      const q = this.held ?? []
      this.held = undefined
      for (const f of q) f()
    }
  }

  /** Runs a delivery soon, or later when deliveries are held. */
  deliver(f: () => void): void {
    if (this.held) this.held.push(() => setImmediate(f))
    else setImmediate(f)
  }

  /** The server-side copy of a room. */
  room(name: string): Y.Doc {
    let doc = this.rooms.get(name)
    if (!doc) {
      doc = new Y.Doc({ gc: false })
      this.rooms.set(name, doc)
    }
    return doc
  }

  /** A new client of this hub. */
  connect(): MemoryTransport {
    return new MemoryTransport(this)
  }
}

interface Attached {
  room: string
  doc: Y.Doc
  synced: boolean
  whenSynced: Promise<void>
  resolve: () => void
  detach: () => void
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void
  const promise = new Promise<void>((r) => (resolve = r))
  return { promise, resolve }
}

/** A client of a {@link MemoryHub}. */
export class MemoryTransport implements SyncTransport {
  private online = true
  private readonly sessions = new Set<Attached>()
  private readonly listeners = new Set<(c: boolean) => void>()

  constructor(private readonly hub: MemoryHub) {}

  get connected(): boolean {
    return this.online
  }

  /** Connects or disconnects this client (offline edits stay local until reconnect). */
  setOnline(online: boolean): void {
    if (online === this.online) return
    this.online = online
    for (const s of this.sessions) {
      if (online) this.syncNow(s)
      else if (s.synced) {
        s.synced = false
        const d = deferred()
        s.whenSynced = d.promise
        s.resolve = d.resolve
      }
    }
    for (const cb of this.listeners) cb(online)
  }

  private syncNow(s: Attached): void {
    setImmediate(() => {
      if (!this.online || !this.sessions.has(s)) return
      const server = this.hub.room(s.room)
      Y.applyUpdate(server, Y.encodeStateAsUpdate(s.doc, Y.encodeStateVector(server)), this)
      Y.applyUpdate(s.doc, Y.encodeStateAsUpdate(server, Y.encodeStateVector(s.doc)), HUB)
      s.synced = true
      s.resolve()
    })
  }

  open(room: string, doc: Y.Doc): DocSession {
    const first = deferred()
    const server = this.hub.room(room)
    const up = (update: Uint8Array, origin: unknown) => {
      if (origin === HUB || !this.online || !s.synced) return
      this.hub.deliver(() => Y.applyUpdate(server, update, this))
    }
    const down = (update: Uint8Array, origin: unknown) => {
      if (origin === this || !this.online || !s.synced) return
      this.hub.deliver(() => {
        if (this.online && this.sessions.has(s)) Y.applyUpdate(doc, update, HUB)
      })
    }
    const s: Attached = {
      room,
      doc,
      synced: false,
      whenSynced: first.promise,
      resolve: first.resolve,
      detach: () => {
        doc.off('update', up)
        server.off('update', down)
      },
    }
    doc.on('update', up)
    server.on('update', down)
    this.sessions.add(s)
    if (this.online) this.syncNow(s)
    return {
      synced: () => s.whenSynced,
      settled: () => s.synced,
      // Delivery is one setImmediate hop each way: two hops cover the round trip.
      flushed: () => new Promise<void>((r) => setImmediate(() => setImmediate(r))),
      close: () => {
        s.detach()
        this.sessions.delete(s)
      },
    }
  }

  onConnection(cb: (connected: boolean) => void): () => void {
    this.listeners.add(cb)
    return () => this.listeners.delete(cb)
  }

  async putBlob(workspace: string, hash: string, bytes: Uint8Array): Promise<void> {
    if (!this.online)
      throw new SkeinError(
        'TRANSIENT',
        'Cannot upload a blob while offline; retry after reconnecting.',
      )
    this.hub.blobs.set(`${workspace}/${hash}`, new Uint8Array(bytes))
  }

  async getBlob(workspace: string, hash: string): Promise<Uint8Array | undefined> {
    if (!this.online)
      throw new SkeinError(
        'TRANSIENT',
        'Cannot download a blob while offline; retry after reconnecting.',
      )
    return this.hub.blobs.get(`${workspace}/${hash}`)
  }

  async close(): Promise<void> {
    for (const s of this.sessions) s.detach()
    this.sessions.clear()
    this.listeners.clear()
  }
}
