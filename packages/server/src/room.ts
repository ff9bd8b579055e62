/**
 * One loaded document: the shared Y.Doc, its subscribers, its awareness and its
 * write queue. Updates are broadcast as soon as they are validated and applied;
 * the author is acked once the store has durably appended them (SPEC.md PR-K1).
 */
import * as Y from 'yjs'
import { encodeMessageFrame } from '@skein/protocol'
import type { DocStore, Logger } from '@skein/core'
import { AwarenessRegistry } from './awareness-registry.js'
import type { ServerMetrics } from './metrics.js'
import type { Peer } from './peer.js'
import { UpdateGuard } from './update-guard.js'
import type { UpdateVerdict } from './update-guard.js'
import { awarenessMessage, isEmptyUpdate, updateMessage } from './y-messages.js'

/** What a room needs from its server. */
export interface RoomDeps {
  store: DocStore
  metrics: ServerMetrics
  logger: Logger
  compactAfterUpdates: number
  maxAwarenessBytes: number
}

type Job = { update: Uint8Array } | { peer: Peer; count: number }

const LOAD_ORIGIN = Symbol('load')

/** One stored record for a batch; updates are concatenated losslessly by Yjs. */
function merge(updates: Uint8Array[]): Uint8Array {
  return updates.length === 1 ? updates[0]! : Y.mergeUpdates(updates)
}

/** Outcome of a write from a peer. */
export type WriteResult = UpdateVerdict | 'read-only'

/** A loaded document. */
export class Room {
  readonly doc = new Y.Doc()
  readonly awareness: AwarenessRegistry
  /** Change-feed sequence of the last durable append. */
  seq = 0
  ready: Promise<void> = Promise.resolve()
  evicting: Promise<void> | undefined
  private readonly guard: UpdateGuard
  private readonly peers = new Map<Peer, { writes: number }>()
  private queue: Job[] = []
  private flushing: Promise<void> | undefined
  private appendsSinceCompact = 0
  /** Bytes appended since the last compaction, and the size of the last compacted state. */
  private bytesSinceCompact = 0
  private compactedBytes = 0
  /** Set when an apply threw midway: the in-memory doc is not trusted any more (PR-U1). */
  broken = false
  /** What the live document emitted while applying a peer's update (re-encoded by Yjs from its own state). */
  private captured: Uint8Array[] | undefined

  constructor(
    readonly name: string,
    private readonly deps: RoomDeps,
  ) {
    this.guard = new UpdateGuard(this.doc)
    this.awareness = new AwarenessRegistry(deps.maxAwarenessBytes)
    this.doc.on('update', (update: Uint8Array, origin: unknown) => {
      if (origin !== LOAD_ORIGIN) this.captured?.push(update)
    })
  }

  /** Loads the stored state; the room answers no sync step before this resolves (PR-S1). */
  async load(): Promise<void> {
    const t0 = performance.now()
    const stored = await this.deps.store.load(this.name)
    this.deps.metrics.time('load', performance.now() - t0)
    if (!stored) return
    this.doc.transact(() => {
      for (const u of stored.updates) Y.applyUpdate(this.doc, u, LOAD_ORIGIN)
    }, LOAD_ORIGIN)
    this.seq = stored.seq
    this.appendsSinceCompact = stored.updates.length > 1 ? stored.updates.length : 0
  }

  /** True when no write is queued or being stored. */
  get idle(): boolean {
    return this.flushing === undefined && this.queue.length === 0
  }

  /** Number of subscribers. */
  get size(): number {
    return this.peers.size
  }

  addPeer(peer: Peer): void {
    if (!this.peers.has(peer)) this.peers.set(peer, { writes: 0 })
  }

  /** Removes a subscriber, its client ids and its awareness states. */
  removePeer(peer: Peer): void {
    if (!this.peers.delete(peer)) return
    this.guard.release(peer)
    const removal = this.awareness.removePeer(peer)
    if (removal) this.broadcast(awarenessMessage(removal), peer)
  }

  /** The document's encoded state vector. */
  stateVector(): Uint8Array {
    return Y.encodeStateVector(this.doc)
  }

  /** The update a peer with state vector `sv` is missing. Throws on a malformed vector. */
  diff(sv: Uint8Array | undefined): Uint8Array {
    return Y.encodeStateAsUpdate(this.doc, sv)
  }

  /** Validates and applies one write (sync step 2 or update) from a subscriber (PR-U1…U3). */
  write(peer: Peer, update: Uint8Array): WriteResult {
    const state = this.peers.get(peer)
    if (!state || this.broken) return 'invalid'
    state.writes++
    if (!isEmptyUpdate(update)) {
      if (peer.readOnly) {
        this.deps.metrics.rejectedUpdates++
        return 'read-only'
      }
      const verdict = this.guard.check(peer, update)
      if (verdict !== 'ok') {
        this.deps.metrics.rejectedUpdates++
        return verdict
      }
      this.captured = []
      try {
        Y.applyUpdate(this.doc, update, peer)
      } catch (err) {
        this.captured = undefined
        this.breakDown(err)
        return 'invalid'
      }
      // Store and forward what the live document emitted, not the peer's bytes:
      // Yjs re-encodes from its own state, so duplicates or conflicting content
      // for known ids never reach the log or other replicas.
      const emitted = this.captured
      this.captured = undefined
      for (const u of emitted) this.accept(u, peer)
    }
    this.queue.push({ peer, count: state.writes })
    this.flush()
    return 'ok'
  }

  private accept(update: Uint8Array, origin: Peer | undefined): void {
    this.queue.push({ update })
    this.broadcast(updateMessage(update), origin)
  }

  /**
   * The shadow accepted an update the real document could not apply. Nothing of
   * it was stored or broadcast; drop every subscriber so the room reloads from
   * the store (which holds only complete updates) on the next subscription.
   */
  private breakDown(err: unknown): void {
    this.broken = true
    this.deps.logger.error('update threw on the live document after validation; reloading', {
      doc: this.name,
      error: String(err),
    })
    for (const peer of [...this.peers.keys()]) peer.fail(4500, 'document reloading')
  }

  /** Applies an awareness update from a subscriber; false when it must be closed. */
  applyAwareness(peer: Peer, update: Uint8Array): 'ok' | 'malformed' | 'too-large' {
    const result = this.awareness.apply(peer, update, (client) => this.guard.claim(peer, client))
    if (!result.ok) return result.reason
    if (result.forward) this.broadcast(awarenessMessage(result.forward), peer)
    return 'ok'
  }

  /** Sends a y-protocols message to every subscriber except `except`. */
  broadcast(message: Uint8Array, except?: Peer): void {
    let frame: Uint8Array | undefined
    const lazy = () => (frame ??= encodeMessageFrame(this.name, message))
    for (const peer of this.peers.keys()) if (peer !== except) peer.send(this.name, message, lazy)
  }

  private flush(): void {
    if (this.flushing) return
    this.flushing = this.drain().finally(() => {
      this.flushing = undefined
      // writes queued after the drain loop ended but before this callback ran
      if (this.queue.length > 0) this.flush()
    })
  }

  /** Resolves when every queued write is stored (or failed). */
  async whenIdle(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue
      this.queue = []
      const updates: Uint8Array[] = []
      const acks = new Map<Peer, number>()
      for (const job of batch) {
        if ('update' in job) updates.push(job.update)
        else acks.set(job.peer, job.count)
      }
      if (updates.length > 0) {
        try {
          const t0 = performance.now()
          const record = merge(updates)
          this.seq = await this.deps.store.append(this.name, record)
          this.deps.metrics.time('append', performance.now() - t0)
          this.bytesSinceCompact += record.length
          // amortised: compacting costs O(document), so wait until the log grew by as much
          if (
            ++this.appendsSinceCompact >= this.deps.compactAfterUpdates &&
            this.bytesSinceCompact >= this.compactedBytes
          ) {
            await this.compact()
          }
        } catch (err) {
          this.deps.logger.error('store append failed; dropping its writers so they resync', {
            doc: this.name,
            error: String(err),
          })
          for (const peer of acks.keys()) peer.fail(4500, 'store failed')
          continue
        }
      }
      for (const [peer, count] of acks) peer.ack(this.name, count, this.seq)
    }
  }

  /** Replaces the stored updates by the current state (runs inside the write queue or when idle). */
  async compact(): Promise<void> {
    if (this.appendsSinceCompact <= 1 || this.broken) return
    const t0 = performance.now()
    const state = Y.encodeStateAsUpdate(this.doc)
    await this.deps.store.compact(this.name, state)
    this.deps.metrics.time('compact', performance.now() - t0)
    this.appendsSinceCompact = 0
    this.bytesSinceCompact = 0
    this.compactedBytes = state.length
  }

  /** Frees the document. Call only when idle and without subscribers. */
  destroy(): void {
    this.guard.destroy()
    this.doc.destroy()
  }
}
