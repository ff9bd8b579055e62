import type { Outgoing } from './outgoing.js'
import type { Room, WriteResult } from './room.js'

/** What a room needs from a connection (either endpoint). */
export interface Peer {
  /** Unique per server process, for logs. */
  readonly id: number
  /** True when the connection's token grants only `read`. */
  readonly readOnly: boolean
  /**
   * Sends a y-protocols message about a document (built once for every peer it
   * goes to). `reply`: an answer to this peer (a sync step, awareness it asked
   * for), sent at the end of the turn; otherwise a broadcast, which may wait for
   * the socket's write interval (PR-L7).
   */
  send(out: Outgoing, reply?: boolean): void
  /** Tells the peer its first `count` writes to `doc` are durable at change-feed sequence `seq`. */
  ack(doc: string, count: number, seq: number): void
  /** Closes the connection with a close code (the peer misbehaved or the server is going away). */
  fail(code: number, why: string): void
}

/** A writable connection, whose writes a room may apply later (Room.enqueue, PR-U5). */
export interface Writer extends Peer {
  /** The room applied this connection's queued writes; a refusing `verdict` closes it. */
  settle(room: Room, verdict: WriteResult): void
}
