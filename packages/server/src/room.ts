/**
 * One loaded document: the shared Y.Doc, its subscribers, its awareness and its
 * write queue. Writes are applied at the end of the turn that read them, or
 * together at the next tick of the write clock while the document is busy
 * (PR-U5); what they changed is broadcast at once, and the authors are acked
 * once the store has durably appended it (SPEC.md PR-K1).
 *
 * A document stored as one update (compacted, or written once) stays "cold"
 * until something writes to it: the room keeps the stored bytes, answers a
 * client with an empty state vector with them as they are and derives its state
 * vector from them, and builds the Y.Doc only when it is first needed. Loading
 * a workspace on a new device then costs no Yjs decoding or re-encoding.
 */
import * as Y from 'yjs'
import { YSyncType, encodeSyncFrame, messageFramePrefix } from '@skein/protocol'
import type { DocStore, Logger } from '@skein/core'
import { AwarenessRegistry } from './awareness-registry.js'
import type { ServerMetrics } from './metrics.js'
import { Outgoing } from './outgoing.js'
import type { Peer, Writer } from './peer.js'
import { RestorePoint } from './restore-point.js'
import { UpdateGuard } from './update-guard.js'
import type { UpdateVerdict } from './update-guard.js'
import { awarenessMessage, isEmptyUpdate } from './y-messages.js'

/** What a room needs from its server. */
export interface RoomDeps {
  store: DocStore
  metrics: ServerMetrics
  logger: Logger
  compactAfterUpdates: number
  maxAwarenessBytes: number
  /** Least time between two store commits (`SyncServerOptions.storeIntervalMs`); default 0. */
  storeIntervalMs?: number
  /**
   * The server's write clock (write-batch.ts): a room that applied a write less
   * than an interval ago applies the next ones at its next tick (PR-U5). Without
   * it, or with interval 0, every write is applied at once.
   */
  ticks?: WriteTicks
}

/** The server's write clock, as a room sees it. */
export interface WriteTicks {
  /** `SyncServerOptions.writeIntervalMs`. */
  readonly intervalMs: number
  /** Runs `task` at the next tick, before the sockets waiting for it are written. */
  beforeTick(task: () => void): void
}

/** One write (sync step 2 or update) from a subscriber. */
export interface Write<P extends Peer = Peer> {
  peer: P
  update: Uint8Array
}

/** What became of a subscriber's writes: how many were accepted, and the verdict on the first refused one. */
export interface RunResult {
  accepted: number
  verdict: UpdateVerdict
}

type Job = { update: Uint8Array } | { peer: Peer; count: number }

const LOAD_ORIGIN = Symbol('load')
/** Origin of a transaction applying several subscribers' writes. */
const BATCH_ORIGIN = Symbol('batch')

/** Outcome of a write from a peer. */
export type WriteResult = UpdateVerdict | 'read-only'

/** A loaded document. */
export class Room {
  /**
   * The shared document once built (see {@link doc}); replaced (restored) when an
   * update fails on it (PR-U1). Its guid is the room name: without one Yjs draws a
   * random UUID, 31 calls to the system's random source (a sixth of the CPU of
   * loading 5,000 documents).
   */
  private live: Y.Doc | undefined
  /** The stored state while the document is cold (no Y.Doc built yet), and its state vector. */
  private cold: Uint8Array | undefined
  private coldVector: Uint8Array | undefined
  readonly awareness: AwarenessRegistry
  /** Change-feed sequence of the last durable append. */
  seq = 0
  ready: Promise<void> = Promise.resolve()
  evicting: Promise<void> | undefined
  private readonly guard = new UpdateGuard()
  private readonly restorePoint = new RestorePoint()
  /** The start of every MESSAGE frame about this document. */
  private readonly framePrefix: Uint8Array
  private readonly peers = new Map<Peer, { writes: number }>()
  private queue: Job[] = []
  private flushing: Promise<void> | undefined
  /** When the last store commit started (performance.now()). */
  private lastCommit = -Infinity
  private appendsSinceCompact = 0
  /** Bytes appended since the last compaction, and the size of the last compacted state. */
  private bytesSinceCompact = 0
  private compactedBytes = 0
  /** Set when even restoring the document failed: it is not trusted any more (PR-U1). */
  broken = false
  /** What the live document emitted while applying a peer's update (re-encoded by Yjs from its own state). */
  private captured: Uint8Array[] | undefined
  /** Writes waiting for {@link applyWrites}, in the order they arrived (PR-U5). */
  private pending: Write<Writer>[] = []
  /** When writes were last applied (performance.now()). */
  private lastApply = -Infinity

  constructor(
    readonly name: string,
    private readonly deps: RoomDeps,
  ) {
    this.awareness = new AwarenessRegistry(deps.maxAwarenessBytes)
    this.framePrefix = messageFramePrefix(name)
  }

  /** False while the document is cold: served from its stored bytes, no Y.Doc built. */
  get built(): boolean {
    return this.live !== undefined
  }

  /** The shared document, built from the stored state on first use. */
  get doc(): Y.Doc {
    if (!this.live) {
      const doc = new Y.Doc({ guid: this.name })
      if (this.cold) {
        Y.applyUpdate(doc, this.cold, LOAD_ORIGIN)
        // the stored bytes are the restore point: no encoding before the first write
        this.restorePoint.reset(doc, this.cold)
        this.cold = this.coldVector = undefined
      }
      this.adopt(doc)
    }
    return this.live!
  }

  /**
   * Makes `doc` the live document. The update listener is attached only now:
   * with one attached, Yjs encodes every transaction (loading too) as an update.
   */
  private adopt(doc: Y.Doc): void {
    this.live = doc
    doc.on('update', this.onUpdate)
  }

  private readonly onUpdate = (update: Uint8Array, origin: unknown): void => {
    if (origin !== LOAD_ORIGIN) this.captured?.push(update)
  }

  /** Loads the stored state; the room answers no sync step before this resolves (PR-S1). */
  async load(): Promise<void> {
    const t0 = performance.now()
    const stored = await this.deps.store.load(this.name)
    this.deps.metrics.time('load', performance.now() - t0)
    if (!stored) return
    this.seq = stored.seq
    this.appendsSinceCompact = stored.updates.length > 1 ? stored.updates.length : 0
    if (stored.updates.length === 1) {
      try {
        // decodes every struct: a corrupt state fails here, as applying it would
        this.coldVector = Y.encodeStateVectorFromUpdate(stored.updates[0]!)
        this.cold = stored.updates[0]
        return
      } catch {
        // fall through: applying it reports the failure as a load error
      }
    }
    const doc = new Y.Doc({ guid: this.name })
    doc.transact(() => {
      for (const u of stored.updates) Y.applyUpdate(doc, u, LOAD_ORIGIN)
    }, LOAD_ORIGIN)
    this.adopt(doc)
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
    return this.coldVector ?? Y.encodeStateVector(this.doc)
  }

  /** The update a peer with state vector `sv` is missing. Throws on a malformed vector. */
  diff(sv: Uint8Array | undefined): Uint8Array {
    // an empty vector (a new replica) is missing everything: the stored state as it is
    if (this.cold && (sv === undefined || (sv.length === 1 && sv[0] === 0))) return this.cold
    return Y.encodeStateAsUpdate(this.doc, sv)
  }

  /**
   * Validates and applies one write (sync step 2 or update) from a subscriber
   * (PR-U1…U3); see {@link writeMany}.
   */
  write(peer: Peer, update: Uint8Array): WriteResult {
    if (peer.readOnly && !isEmptyUpdate(update)) {
      const state = this.peers.get(peer)
      if (!state || this.broken) return 'invalid'
      state.writes++
      this.deps.metrics.rejectedUpdates++
      return 'read-only'
    }
    return this.writeMany(peer, [update]).verdict
  }

  /**
   * Queues a write from `writer` (Connection.queueWrite). The room applies what
   * it queued, in the order it arrived, at the end of the current synchronous
   * batch of frames — or, when it applied writes less than the write interval
   * ago, at the next tick of the server's write clock, just before the sockets
   * waiting for that tick are written (PR-U5). A busy document (many typists)
   * is then one Yjs transaction, one store append and one broadcast per tick
   * instead of one per keystroke, and its subscribers get the result in the
   * write their socket was waiting for anyway (PR-L7).
   */
  enqueue(writer: Writer, update: Uint8Array): void {
    this.pending.push({ peer: writer, update })
    if (this.pending.length > 1) return // already scheduled
    const ticks = this.deps.ticks
    if (!ticks || performance.now() - this.lastApply >= ticks.intervalMs) {
      queueMicrotask(this.applyWrites)
    } else ticks.beforeTick(this.applyWrites)
  }

  /**
   * Applies the queued writes now (at its tick, or because a writer sent
   * another kind of message, wrote to another room or closed: its writes come
   * first, and every write that arrived before them with them). A refused write
   * closes its connection (PR-U1, PR-U2).
   */
  readonly applyWrites = (): void => {
    const writes = this.pending
    if (writes.length === 0) return
    this.pending = []
    const results = this.writeAll(writes)
    for (const [peer, result] of results) peer.settle(this, result.verdict)
  }

  /**
   * Validates and applies a run of writes from one subscriber (PR-U4); see
   * {@link writeAll}.
   */
  writeMany(peer: Peer, updates: readonly Uint8Array[]): RunResult {
    return (
      this.writeAll(updates.map((update) => ({ peer, update }))).get(peer) ?? {
        accepted: 0,
        verdict: 'invalid',
      }
    )
  }

  /**
   * Validates and applies writes from subscribers, in the order given (the
   * order they arrived), all in one Yjs transaction (PR-U1…U5): each update is
   * checked before it is applied and verified right after, all synchronously,
   * so nothing else can observe the document in between. A subscriber's writes
   * stop at its first refused one; the others' go on. If the refused one was
   * already applied (it threw, left something pending or linked items across
   * parents), the document is restored, the writes accepted so far are
   * applied again and the rest continue; nothing of the refused update is
   * stored, sent or acked. What the accepted ones changed leaves as one
   * update: one store append and one broadcast — to every subscriber but the
   * author when one subscriber wrote, to all of them otherwise (Yjs ignores
   * what a replica already holds, and the y-websocket server echoes every
   * update too). Returns each writer's result.
   */
  writeAll<P extends Peer>(writes: readonly Write<P>[]): Map<P, RunResult> {
    const results = new Map<P, RunResult>()
    for (const w of writes) {
      if (!results.has(w.peer)) {
        const known = this.peers.has(w.peer) && !this.broken
        results.set(w.peer, { accepted: 0, verdict: known ? 'ok' : 'invalid' })
      }
    }
    if (this.broken) return results
    let emitted: Uint8Array[] = []
    /** Writers with an accepted update that changed something. */
    const authors = new Set<Peer>()
    const needsDoc = writes.some(
      (w) => results.get(w.peer)!.verdict === 'ok' && !isEmptyUpdate(w.update),
    )
    if (!needsDoc) {
      // sync steps 2 with nothing new (every subscription sends one): no document needed
      for (const w of writes) {
        const result = results.get(w.peer)!
        if (result.verdict === 'ok') result.accepted++
      }
    } else {
      // only writes that needed the document make it busy (an empty sync step 2 costs nothing)
      this.lastApply = performance.now()
      /** The non-empty updates accepted so far, in order: what a restore applies again. */
      const applied: Uint8Array[] = []
      const origin = results.size === 1 ? writes[0]!.peer : BATCH_ORIGIN
      let from = 0
      while (from < writes.length) {
        const doc = this.doc
        let at = from
        let failed = -1
        this.restorePoint.ensure(doc)
        this.captured = []
        try {
          doc.transact(() => {
            for (; at < writes.length; at++) {
              const { peer, update } = writes[at]!
              const result = results.get(peer)!
              if (result.verdict !== 'ok') continue // its writes stopped at a refused one
              if (!isEmptyUpdate(update)) {
                const check = this.guard.precheck(doc, peer, update)
                if (check.verdict !== 'ok') {
                  result.verdict = check.verdict
                  continue
                }
                Y.applyUpdate(doc, update, peer)
                if (!this.guard.verify(doc, check)) {
                  result.verdict = 'invalid'
                  failed = at
                  return
                }
                this.guard.commit(peer, check)
                applied.push(update)
                authors.add(peer)
              }
              result.accepted++
            }
          }, origin)
        } catch {
          // thrown while applying writes[at] (or, past the last, while Yjs cleaned up after it)
          failed = Math.min(at, writes.length - 1)
          results.get(writes[failed]!.peer)!.verdict = 'invalid'
        }
        // Store and forward what the document emitted, not the peers' bytes: Yjs
        // re-encodes from its own state, so duplicates or conflicting content for
        // known ids never reach the log or other replicas.
        const captured = this.captured
        this.captured = undefined
        if (failed < 0) {
          emitted.push(...captured)
          break
        }
        this.restore()
        emitted = applied.length > 0 ? this.replay(applied) : []
        if (this.broken) {
          // nothing of these writes is kept: the room reloads from the store
          for (const r of results.values()) r.accepted = 0
          return results
        }
        from = failed + 1
      }
    }
    // a restore part-way leaves the replay's update and the rest's: still one update out
    if (emitted.length > 1) emitted = [Y.mergeUpdates(emitted)]
    if (emitted.length > 0) {
      this.restorePoint.record(this.doc, emitted)
      const sole = authors.size === 1 ? [...authors][0] : undefined
      for (const u of emitted) this.accept(u, sole)
    }
    // acks join the queue after the updates they cover: one drain stores both
    let queued = emitted.length > 0
    for (const [peer, { accepted, verdict }] of results) {
      const state = this.peers.get(peer)
      if (!state) continue
      if (verdict !== 'ok') this.deps.metrics.rejectedUpdates++
      state.writes += verdict === 'ok' ? accepted : accepted + 1
      if (accepted > 0) {
        this.queue.push({ peer, count: state.writes - (verdict === 'ok' ? 0 : 1) })
        queued = true
      }
    }
    if (queued) this.flush()
    return results
  }

  /** Applies updates already accepted once (after a restore); what the document emitted. */
  private replay(updates: readonly Uint8Array[]): Uint8Array[] {
    if (this.broken) return []
    this.captured = []
    try {
      this.doc.transact(() => {
        for (const u of updates) Y.applyUpdate(this.doc, u)
      }, BATCH_ORIGIN)
      if (this.doc.store.pendingStructs !== null || this.doc.store.pendingDs !== null) {
        throw new Error('accepted updates left something pending on replay')
      }
      return this.captured
    } catch (err) {
      this.breakDown(err)
      return []
    } finally {
      this.captured = undefined
    }
  }

  /** Puts the document back in the state before the refused update. */
  private restore(): void {
    let doc: Y.Doc
    try {
      doc = this.restorePoint.restore(this.doc.gc, this.name)
    } catch (err) {
      return this.breakDown(err)
    }
    this.doc.off('update', this.onUpdate)
    this.doc.destroy()
    this.adopt(doc)
  }

  private accept(update: Uint8Array, origin: Peer | undefined): void {
    this.queue.push({ update })
    this.broadcast(this.syncMessage(YSyncType.UPDATE, update), origin)
  }

  /** A sync message (step 1, step 2 or update) about this document, built in one allocation for either endpoint. */
  syncMessage(sub: number, data: Uint8Array): Outgoing {
    const { frame, message } = encodeSyncFrame(this.framePrefix, sub, data)
    return new Outgoing(this.name, message, frame)
  }

  /**
   * The document could not be restored after a refused update. Nothing of that
   * update was stored or broadcast; drop every subscriber so the room reloads
   * from the store (which holds only complete updates) on the next subscription.
   */
  private breakDown(err: unknown): void {
    this.broken = true
    this.deps.logger.error('document could not be restored after a refused update; reloading', {
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
  broadcast(message: Uint8Array | Outgoing, except?: Peer): void {
    const out = message instanceof Outgoing ? message : new Outgoing(this.name, message)
    for (const peer of this.peers.keys()) if (peer !== except) peer.send(out)
  }

  /**
   * Schedules storing the queued writes: at the end of this event-loop turn (so
   * the writes of every message the turn handled share one group commit), but
   * not sooner than `storeIntervalMs` after the last commit started.
   */
  private flush(): void {
    if (this.flushing) return
    const wait = this.lastCommit + (this.deps.storeIntervalMs ?? 0) - performance.now()
    this.flushing = new Promise<void>((r) => (wait > 0 ? setTimeout(r, wait) : setImmediate(r)))
      .then(() => this.drain())
      .finally(() => {
        this.flushing = undefined
        // writes queued after the drain loop ended but before this callback ran
        if (this.queue.length > 0) this.flush()
      })
  }

  /** Resolves when every queued write is stored (or failed). */
  async whenIdle(): Promise<void> {
    while (this.flushing) await this.flushing
  }

  /** Stores the queued writes in one group commit, then acks their writers; {@link flush} schedules the next. */
  private async drain(): Promise<void> {
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
        this.lastCommit = t0
        // One append per update, all issued at once: the store group-commits them
        // (Y.mergeUpdates of n updates costs O(n² log n) — 45% of the CPU of a
        // fast typist's stream whose batches grew while a write was in flight).
        const appends = updates.map((u) => this.deps.store.append(this.name, u))
        const seqs = await Promise.all(appends)
        this.seq = seqs[seqs.length - 1]!
        this.deps.metrics.time('append', performance.now() - t0)
        for (const u of updates) this.bytesSinceCompact += u.length
        this.appendsSinceCompact += updates.length
        // amortised: compacting costs O(document), so wait until the log grew by as much
        if (
          this.appendsSinceCompact >= this.deps.compactAfterUpdates &&
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
        return
      }
    }
    for (const [peer, count] of acks) peer.ack(this.name, count, this.seq)
  }

  /** Replaces the stored updates by the current state (runs inside the write queue or when idle). */
  async compact(): Promise<void> {
    if (this.appendsSinceCompact <= 1 || this.broken) return
    const t0 = performance.now()
    const state = Y.encodeStateAsUpdate(this.doc)
    this.restorePoint.reset(this.doc, state)
    await this.deps.store.compact(this.name, state)
    this.deps.metrics.time('compact', performance.now() - t0)
    this.appendsSinceCompact = 0
    this.bytesSinceCompact = 0
    this.compactedBytes = state.length
  }

  /** Frees the document. Call only when idle and without subscribers. */
  destroy(): void {
    this.guard.destroy()
    this.restorePoint.clear()
    this.live?.destroy()
    this.live = undefined
    this.cold = this.coldVector = undefined
  }
}
