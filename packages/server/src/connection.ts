/**
 * What both endpoints share: frame accounting, the per-connection rate limit
 * (4429), backpressure (4508), liveness and closing. Subclasses decode frames.
 */
import type { WebSocket } from 'ws'
import { CloseCode, closeReason } from '@skein/protocol'
import type { Logger } from '@skein/core'
import type { Access } from './auth.js'
import type { ServerMetrics } from './metrics.js'
import type { SyncServerOptions } from './options.js'
import type { Writer } from './peer.js'
import { RateLimiter } from './rate-limiter.js'
import type { RoomManager } from './room-manager.js'
import { wsBinaryFrame } from './outgoing.js'
import type { Outgoing } from './outgoing.js'
import { SerialQueue } from './serial-queue.js'
import type { Flushable, WriteBatcher } from './write-batch.js'
import type { Room, WriteResult } from './room.js'

/** Server parts a connection uses. */
export interface ConnectionContext {
  options: SyncServerOptions
  metrics: ServerMetrics
  logger: Logger
  rooms: RoomManager
  writes: WriteBatcher
}

let nextId = 1
const OPEN = 1
/** Held frames up to this many bytes in all are joined into one buffer before they are written. */
const JOIN_BYTES = 64 * 1024

/** What a connection writes to: `ws`'s net.Socket (private to `ws`; see {@link Connection.flushWrites}). */
type Socket = { write(b: Buffer): void; cork(): void; uncork(): void }

/** Base of a live WebSocket connection. */
export abstract class Connection implements Writer, Flushable {
  readonly id = nextId++
  access: Access | undefined
  alive = true
  closed = false
  protected readonly queue: SerialQueue
  private readonly limiter: RateLimiter
  /** The room holding writes of this connection it has not applied yet (Room.enqueue). */
  private writesIn: Room | undefined
  /** Frames waiting for the next flush (see write-batch.ts), and their size. */
  private held: Buffer[] = []
  private heldBytes = 0
  /** When the socket was last written (performance.now()); see write-batch.ts. */
  lastWrite = -Infinity
  /** The held frames leave at the end of this turn (not after the write interval). */
  private expedited = false
  readonly awarenessLimiter: RateLimiter

  constructor(
    protected readonly ws: WebSocket,
    protected readonly ctx: ConnectionContext,
  ) {
    const o = ctx.options
    this.limiter = new RateLimiter(o.messageRate, o.messageBurst)
    this.awarenessLimiter = new RateLimiter(o.awarenessRate, o.awarenessRate * 2)
    this.queue = new SerialQueue((err) => this.crash(err))
    ws.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary))
    ws.on('pong', () => (this.alive = true))
    ws.on('close', () => this.onClose())
    ws.on('error', (err) => ctx.logger.debug('socket error', { peer: this.id, error: err.message }))
  }

  get readOnly(): boolean {
    return this.access?.scope !== 'write'
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.closed) return
    const m = this.ctx.metrics
    m.framesIn++
    m.bytesIn += data.length
    if (!this.limiter.take()) return this.fail(CloseCode.RATE_LIMITED, 'message rate exceeded')
    if (!isBinary) return this.fail(CloseCode.BAD_FRAME, 'text frame')
    this.receive(new Uint8Array(data.buffer, data.byteOffset, data.byteLength))
  }

  /** Handles one binary frame (already rate-limited). */
  protected abstract receive(data: Uint8Array): void

  /** Leaves rooms etc.; called once when the socket closes. */
  protected abstract cleanup(): void

  private onClose(): void {
    this.closed = true
    this.ctx.metrics.connections--
    // writes it sent before closing are edits like any other: applied (and stored) first
    this.commitWrites()
    this.cleanup()
  }

  /**
   * Sends bytes unless the peer's unread backlog passed the bound (then drops
   * it: 4508). `reply`: an answer the peer waits for, which leaves at the end of
   * the turn; otherwise (acks) it may wait for the socket's write interval.
   */
  sendRaw(data: Uint8Array, reply = true): void {
    if (this.admit(data.length)) this.hold(wsBinaryFrame(data), reply)
  }

  /** See {@link Peer.send}. */
  abstract send(out: Outgoing, reply?: boolean): void

  /**
   * Sends a complete WebSocket frame (see {@link Outgoing}); same checks and
   * accounting as `sendRaw`.
   */
  protected sendWire(wire: Buffer, payloadBytes: number, reply: boolean): void {
    if (this.admit(payloadBytes)) this.hold(wire, reply)
  }

  /** Backpressure check and accounting of one outgoing frame; false when it must not be sent. */
  private admit(payloadBytes: number): boolean {
    if (this.closed || this.ws.readyState !== OPEN) return false
    if (this.ws.bufferedAmount + this.heldBytes > this.ctx.options.maxBufferedBytes) {
      this.fail(CloseCode.SLOW_CONSUMER, 'send buffer full')
      return false
    }
    this.ctx.metrics.framesOut++
    this.ctx.metrics.bytesOut += payloadBytes
    return true
  }

  /**
   * Holds a frame until the next flush (PR-L7, write-batch.ts): a reply, or a
   * backlog past {@link JOIN_BYTES}, leaves at the end of the turn; other
   * frames (broadcasts, acks) wait for the socket's write interval.
   */
  private hold(wire: Buffer, reply: boolean): void {
    const first = this.held.length === 0
    this.held.push(wire)
    this.heldBytes += wire.length
    if (this.expedited) return
    if (reply || this.heldBytes >= JOIN_BYTES) {
      this.expedited = true
      this.ctx.writes.expedite(this)
    } else if (first) this.expedited = this.ctx.writes.add(this)
  }

  /**
   * Writes the frames held since the last flush in one write: small ones joined
   * into one buffer (one stream operation, not one per frame), large ones as
   * they are (corked: one system call, no copy).
   */
  flushWrites(): void {
    const held = this.held
    this.expedited = false
    if (held.length === 0) return
    const bytes = this.heldBytes
    this.held = []
    this.heldBytes = 0
    const socket = (this.ws as unknown as { _socket?: Socket })._socket
    if (!socket || this.ws.readyState !== OPEN) return
    this.lastWrite = performance.now()
    if (held.length === 1) socket.write(held[0]!)
    else if (bytes <= JOIN_BYTES) socket.write(Buffer.concat(held, bytes))
    else {
      socket.cork()
      for (const wire of held) socket.write(wire)
      socket.uncork()
    }
  }

  abstract ack(doc: string, count: number, seq: number): void

  /** Closes with `code`; a slow consumer is cut at once since a close frame would queue behind its backlog. */
  fail(code: number, why: string): void {
    if (this.closed) return
    this.closed = true
    this.ctx.metrics.closed(code)
    this.ctx.logger.info('closing connection', { peer: this.id, code, why })
    if (code === CloseCode.SLOW_CONSUMER) {
      this.held = []
      this.heldBytes = 0
      this.ws.terminate()
      return
    }
    this.flushWrites() // what was sent before the close frame goes first
    this.ws.close(code, closeReason(code))
    const t = setTimeout(() => this.ws.terminate(), 2000)
    t.unref?.()
  }

  /**
   * Queues a write for `room` (writable connections). The room applies it with
   * every write queued before it, in arrival order: consecutive writes of one
   * connection — a burst of keystrokes read from the socket in one go, or typed
   * while the room waits for its tick — as one run (PR-U4, PR-U5). Any other
   * frame of this connection, a write to another room or the socket closing
   * has them applied first.
   */
  queueWrite(room: Room, update: Uint8Array): void {
    if (this.writesIn !== room) this.commitWrites()
    this.writesIn = room
    room.enqueue(this, update)
  }

  /** See {@link Writer.settle}. */
  settle(room: Room, verdict: WriteResult): void {
    if (this.writesIn === room) this.writesIn = undefined
    this.refuse(verdict)
  }

  /**
   * Has the room holding this connection's queued writes apply them now, with
   * the writes that arrived before them. Writes of a connection closed for
   * another reason than a refused write (rate, a bad frame, shutdown) arrived
   * intact and are applied too.
   */
  commitWrites(): void {
    const room = this.writesIn
    if (!room) return
    this.writesIn = undefined
    room.applyWrites()
  }

  /** Closes the connection for a refused write; true when `verdict` refused it. */
  refuse(verdict: WriteResult): boolean {
    if (verdict === 'invalid') this.fail(CloseCode.INVALID_UPDATE, 'update failed validation')
    else if (verdict === 'forged')
      this.fail(CloseCode.FORGED_CLIENT, 'update under a foreign client id')
    else return false
    return true
  }

  /** Liveness check from the server's ping timer (PR-L5). */
  heartbeat(): void {
    if (!this.alive) {
      this.fail(CloseCode.IDLE_TIMEOUT, 'no pong')
      this.ws.terminate()
      return
    }
    this.alive = false
    this.ws.ping()
  }

  /** An unexpected exception while handling a frame: close this connection only (never the process). */
  protected crash(err: unknown): void {
    this.ctx.logger.warn('frame handling failed', { peer: this.id, error: String(err) })
    this.fail(CloseCode.BAD_FRAME, 'bad frame')
  }
}
