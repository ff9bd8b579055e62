/**
 * One open document of a {@link SyncClient}: applies server messages, sends
 * local updates, tracks acks and awareness (SPEC.md PR-K1, PR-R1…R3).
 */
import * as decoding from 'lib0/decoding'
import * as encoding from 'lib0/encoding'
import * as awarenessProtocol from 'y-protocols/awareness'
import * as Y from 'yjs'
import { SkeinError } from '@skein/core'
import {
  YMessageType,
  YSyncType,
  encodeSyncFrame,
  messageFramePrefix,
  workspaceOfDoc,
} from '@skein/protocol'
import { Listeners, RemoteOrigin } from './status.js'
import type { DocStatus } from './status.js'

/** What a handle needs from its client. */
export interface HandleHost {
  sendMessage(doc: string, message: Uint8Array): void
  /** Sends an already encoded MESSAGE frame about `doc`. */
  sendFrame(doc: string, frame: Uint8Array): void
  canSend(doc: string): boolean
  release(handle: DocHandle): void
}

function message(type: number, write: (e: encoding.Encoder) => void): Uint8Array {
  const e = encoding.createEncoder()
  encoding.writeVarUint(e, type)
  write(e)
  return encoding.toUint8Array(e)
}

function syncMsg(sub: number, data: Uint8Array): Uint8Array {
  return message(YMessageType.SYNC, (e) => {
    encoding.writeVarUint(e, sub)
    encoding.writeVarUint8Array(e, data)
  })
}

function isEmptyObject(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false
  for (const _ in v) return false
  return true
}

/** True if the transaction inserted or deleted anything (what Yjs checks before emitting `update`). */
function changedSomething(tr: Y.Transaction): boolean {
  if (tr.deleteSet.clients.size > 0) return true
  for (const [client, clock] of tr.afterState) if (tr.beforeState.get(client) !== clock) return true
  return false
}

/** A document opened with `client.open(name, doc)`. */
export class DocHandle {
  /** Resolves the first time the document has synced with the server; rejects on a fatal error. */
  readonly whenSynced: Promise<void>
  readonly workspace: string
  readonly origin: RemoteOrigin
  private statusValue: DocStatus = 'connecting'
  private readonly statusListeners = new Listeners<DocStatus>()
  private resolveSynced!: () => void
  private rejectSynced!: (err: unknown) => void
  /**
   * Write index (on the current connection) of each unacked local update, in
   * order; Infinity = not sent yet. A queue (`pending` from `head`) so acks cost
   * O(acked), not O(pending) — a fast typist can have 10^5 updates in flight.
   */
  private pending: number[] = []
  private head = 0
  private writesSent = 0
  private closed = false
  /** True once synced at least once (quiet resubscription is allowed after that). */
  everSynced = false
  private readonly ownsAwareness: boolean
  /** The awareness, once there is one (see {@link awareness}). */
  private aw: awarenessProtocol.Awareness | undefined
  /** The start of every MESSAGE frame about this document (one allocation per keystroke, not three). */
  private readonly framePrefix: Uint8Array

  constructor(
    readonly name: string,
    readonly doc: Y.Doc,
    private readonly host: HandleHost,
    awareness: awarenessProtocol.Awareness | undefined,
  ) {
    this.workspace = workspaceOfDoc(name)
    this.origin = new RemoteOrigin(name)
    this.framePrefix = messageFramePrefix(name)
    this.ownsAwareness = awareness === undefined
    if (awareness) this.adopt(awareness)
    this.whenSynced = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve
      this.rejectSynced = reject
    })
    this.whenSynced.catch(() => undefined)
    doc.on('update', this.onLocalUpdate)
  }

  /**
   * Awareness of this document (cursors, presence); destroyed with the handle
   * if the client created it. Created on first use — by the application or by
   * a peer's state arriving (PR-R7): each `Awareness` holds a 3-second timer
   * and a local state, and a client syncing 10,000 notes used none of them.
   */
  get awareness(): awarenessProtocol.Awareness {
    if (this.aw) return this.aw
    const aw = new awarenessProtocol.Awareness(this.doc)
    // after close: usable, but without a timer that would keep the process alive
    if (this.closed) aw.destroy()
    else this.adopt(aw)
    return aw
  }

  private adopt(aw: awarenessProtocol.Awareness): void {
    this.aw = aw
    aw.on('update', this.onAwarenessUpdate)
  }

  /** Current status. */
  get status(): DocStatus {
    return this.statusValue
  }

  /** Local updates the server has not yet acknowledged as durably stored. */
  get unsyncedChanges(): number {
    return this.pending.length - this.head
  }

  /** Subscribes to status changes; returns the unsubscribe function. */
  onStatus(cb: (status: DocStatus) => void): () => void {
    return this.statusListeners.subscribe(cb)
  }

  /** @internal */
  setStatus(status: DocStatus): void {
    if (this.closed || status === this.statusValue) return
    this.statusValue = status
    if (status === 'synced') {
      this.everSynced = true
      this.resolveSynced()
    }
    this.statusListeners.emit(status)
  }

  /** @internal A new connection: everything unacked is resent by the next sync step 2. */
  resetConnection(): void {
    this.writesSent = 0
    this.pending = this.pending.slice(this.head).map(() => Infinity)
    this.head = 0
    const aw = this.aw
    if (!aw) return
    const others = [...aw.getStates().keys()].filter((c) => c !== this.doc.clientID)
    if (others.length) awarenessProtocol.removeAwarenessStates(aw, others, this.origin)
  }

  /** @internal */
  fatal(err: SkeinError): void {
    this.setStatus('error')
    this.rejectSynced(err)
  }

  private readonly onLocalUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin === this.origin || this.closed) return
    if (this.host.canSend(this.name)) {
      this.pending.push(++this.writesSent)
      this.host.sendFrame(
        this.name,
        encodeSyncFrame(this.framePrefix, YSyncType.UPDATE, update).frame,
      )
    } else this.pending.push(Infinity)
  }

  private readonly onAwarenessUpdate = (
    changes: { added: number[]; updated: number[]; removed: number[] },
    origin: unknown,
  ): void => {
    if (origin === this.origin || !this.host.canSend(this.name)) return
    const mine = [...changes.added, ...changes.updated, ...changes.removed].filter(
      (c) => c === this.doc.clientID,
    )
    if (mine.length) this.sendAwareness(mine)
  }

  /**
   * @internal Sends our own awareness state (after (re)subscribing), once the
   * application has set one (PR-R6): `Awareness` starts every document at
   * `{}` with clock 0, which every receiver (y-protocols, our server) ignores
   * by its clock check, and a device syncing 10,000 notes sent 10,000 of them.
   */
  sendAwareness(clients: number[] = [this.doc.clientID]): void {
    if (!this.aw || !this.hasOwnState(this.aw)) return
    const update = awarenessProtocol.encodeAwarenessUpdate(this.aw, clients)
    this.host.sendMessage(
      this.name,
      message(YMessageType.AWARENESS, (e) => encoding.writeVarUint8Array(e, update)),
    )
  }

  /** True once the application set our awareness state (see {@link sendAwareness}). */
  private hasOwnState(aw: awarenessProtocol.Awareness): boolean {
    const own = aw.meta.get(this.doc.clientID)
    if (own === undefined) return false
    return own.clock > 0 || !isEmptyObject(aw.getLocalState())
  }

  /** @internal Handles a y-protocols message from the server. */
  receive(payload: Uint8Array): void {
    const d = decoding.createDecoder(payload)
    const type = decoding.readVarUint(d)
    if (type === YMessageType.SYNC) {
      const sub = decoding.readVarUint(d)
      const data = decoding.readVarUint8Array(d)
      if (sub === YSyncType.STEP1) {
        const index = ++this.writesSent
        this.pending = this.pending.slice(this.head).map(() => index)
        this.head = 0
        this.host.sendMessage(
          this.name,
          syncMsg(YSyncType.STEP2, Y.encodeStateAsUpdate(this.doc, data)),
        )
        return
      }
      this.applyRemote(data)
      if (sub === YSyncType.STEP2) this.setStatus('synced')
    } else if (type === YMessageType.AWARENESS) {
      awarenessProtocol.applyAwarenessUpdate(
        this.awareness,
        decoding.readVarUint8Array(d),
        this.origin,
      )
    }
  }

  /**
   * Applies an update from the server. Yjs encodes every transaction as an
   * update whenever the document has an `update` listener, and ours ignores
   * remote ones: when ours is the only listener it is detached for the apply
   * (a fresh device's first sync spent about half its CPU on those encodings).
   * A local change an observer makes during the apply still leaves (PR-R3): as
   * a diff from the state before that change.
   */
  private applyRemote(data: Uint8Array): void {
    const observers = (this.doc as unknown as { _observers?: Map<string, Set<unknown>> })._observers
    const listeners = observers?.get('update')
    if (listeners?.size !== 1 || !listeners.has(this.onLocalUpdate)) {
      Y.applyUpdate(this.doc, data, this.origin)
      return
    }
    let missed: Map<number, number> | undefined
    const watch = (tr: Y.Transaction): void => {
      if (tr.origin !== this.origin && missed === undefined && changedSomething(tr))
        missed = tr.beforeState
    }
    this.doc.off('update', this.onLocalUpdate)
    this.doc.on('afterTransaction', watch)
    try {
      Y.applyUpdate(this.doc, data, this.origin)
    } finally {
      this.doc.off('afterTransaction', watch)
      if (!this.closed) this.doc.on('update', this.onLocalUpdate)
    }
    if (missed !== undefined && !this.closed)
      this.onLocalUpdate(Y.encodeStateAsUpdate(this.doc, Y.encodeStateVector(missed)), null)
  }

  /** @internal The server stored our first `count` writes on this connection. */
  ack(count: number): void {
    const before = this.head
    while (this.head < this.pending.length && this.pending[this.head]! <= count) this.head++
    const acked = this.head !== before
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending = this.pending.slice(this.head)
      this.head = 0
    } else if (this.head === this.pending.length) {
      this.pending = []
      this.head = 0
    }
    if (acked && this.statusValue === 'synced') this.statusListeners.emit('synced')
  }

  /** Stops syncing this document (the Y.Doc stays usable). */
  close(): void {
    if (this.closed) return
    // (a state never announced needs no removal)
    const aw = this.aw
    if (aw && this.host.canSend(this.name) && this.hasOwnState(aw)) {
      awarenessProtocol.removeAwarenessStates(aw, [this.doc.clientID], 'close')
    }
    this.closed = true
    this.doc.off('update', this.onLocalUpdate)
    aw?.off('update', this.onAwarenessUpdate)
    if (aw && this.ownsAwareness) aw.destroy()
    this.host.release(this)
    this.statusValue = 'offline'
    if (!this.everSynced)
      this.rejectSynced(
        new SkeinError('CLOSED', `Document ${this.name} was closed before it synced.`),
      )
  }
}
