/**
 * Coalesces socket writes (SPEC.md PR-L7). A connection holding frames joins
 * the batch and is flushed — all its frames in one write, one system call —
 * at the end of the event-loop turn (once the turn's I/O callbacks ran), unless
 * that socket was written less than `intervalMs` ago: then its frames wait for
 * the rest of the interval and leave together. A connection holding a large
 * backlog ({@link Flushable.urgent}) is flushed at the end of the turn anyway.
 *
 * The interval is per socket, so a quiet socket never waits for a busy one,
 * and a socket receiving a frame every now and then gets it at once. Only a
 * socket receiving frames faster than one per interval is batched: a document
 * with 50 typists sends each subscriber 490 frames/s, and a socket write costs
 * about as much CPU as applying the update (see the fan-out benchmark), so at
 * most one write per interval per socket is what bounds the server's work.
 */

/** Something holding frames to write. */
export interface Flushable {
  /** Writes the frames held since it joined the batch. */
  flushWrites(): void
  /** When its socket was last written (performance.now()), -Infinity if never. */
  readonly lastWrite: number
}

/** The write batch of one server. */
export class WriteBatcher {
  /** Flushed at the end of this turn. */
  private soon: Flushable[] = []
  private soonScheduled = false
  /** Waiting for their interval: flush time (whole ms) → connections. */
  private readonly later = new Map<number, Flushable[]>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private timerAt = Infinity

  /** `intervalMs`: least time between two writes to one socket (`SyncServerOptions.writeIntervalMs`). */
  constructor(private readonly intervalMs: number) {}

  private readonly flushSoon = (): void => {
    this.soonScheduled = false
    const pending = this.soon
    this.soon = []
    for (const f of pending) f.flushWrites()
  }

  private readonly flushLater = (): void => {
    this.timer = undefined
    this.timerAt = Infinity
    const now = performance.now()
    for (const [at, pending] of this.later) {
      if (at > now + 1) continue // timers may fire ~1 ms early
      this.later.delete(at)
      for (const f of pending) f.flushWrites()
    }
    this.arm()
  }

  /** Sets the timer for the earliest waiting flush. */
  private arm(): void {
    let next = Infinity
    for (const at of this.later.keys()) next = Math.min(next, at)
    if (next >= this.timerAt) return
    if (this.timer) clearTimeout(this.timer)
    this.timerAt = next
    this.timer = setTimeout(this.flushLater, Math.max(0, next - performance.now()))
  }

  /**
   * Calls `f.flushWrites()` at its next flush (call once each time `f` starts
   * holding frames); true when that is at the end of this turn.
   */
  add(f: Flushable): boolean {
    const due = f.lastWrite + this.intervalMs
    if (due <= performance.now()) {
      this.expedite(f)
      return true
    }
    const at = Math.ceil(due)
    const bucket = this.later.get(at)
    if (bucket) bucket.push(f)
    else {
      this.later.set(at, [f])
      this.arm()
    }
    return false
  }

  /**
   * Flushes `f` at the end of this turn, even inside its interval (a large
   * backlog: the system call is worth it). A flush still waiting for `f`
   * finds nothing held, or frames held since, and writes those early.
   */
  expedite(f: Flushable): void {
    this.soon.push(f)
    if (this.soonScheduled) return
    this.soonScheduled = true
    setImmediate(this.flushSoon)
  }

  /** Stops the timer (the server closed; connections flushed their frames when they closed). */
  close(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
    this.later.clear()
  }
}
