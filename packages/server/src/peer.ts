/** What a room needs from a connection (either endpoint). */
export interface Peer {
  /** Unique per server process, for logs. */
  readonly id: number
  /** True when the connection's token grants only `read`. */
  readonly readOnly: boolean
  /** Sends a y-protocols message about document `doc`. `frame` is the same message already wrapped for the multiplexed endpoint. */
  send(doc: string, message: Uint8Array, frame?: () => Uint8Array): void
  /** Tells the peer its first `count` writes to `doc` are durable at change-feed sequence `seq`. */
  ack(doc: string, count: number, seq: number): void
  /** Closes the connection with a close code (the peer misbehaved or the server is going away). */
  fail(code: number, why: string): void
}
