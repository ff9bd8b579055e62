/**
 * Coalesces socket writes. A connection holding frames to send joins the
 * batch; one timer per server flushes every connection of the batch: at the end
 * of the event-loop turn (once the turn's I/O callbacks ran), but not sooner
 * than `intervalMs` after the previous flush. Frames a turn sends to one socket
 * — broadcasts of several incoming updates, acks — then leave in one write (one
 * system call), and the broadcast of one update costs one callback, not one
 * microtask per recipient. A lone frame leaves at the end of its turn; under a
 * stream of updates (a busy document) each socket gets at most one write per
 * interval, so a frame waits at most `intervalMs`.
 */

/** Something holding frames to write. */
export interface Flushable {
  /** Writes the frames held since it joined the batch. */
  flushWrites(): void
}

/** The write batch of one server. */
export class WriteBatcher {
  private batch: Flushable[] = []
  private scheduled = false
  private last = -Infinity

  /** `intervalMs`: least time between two flushes (`SyncServerOptions.writeIntervalMs`). */
  constructor(private readonly intervalMs: number) {}

  private readonly flush = (): void => {
    this.scheduled = false
    this.last = performance.now()
    const pending = this.batch
    this.batch = []
    for (const f of pending) f.flushWrites()
  }

  /** Calls `f.flushWrites()` at the next flush (once per call). */
  add(f: Flushable): void {
    this.batch.push(f)
    if (this.scheduled) return
    this.scheduled = true
    const wait = this.last + this.intervalMs - performance.now()
    if (wait > 0) setTimeout(this.flush, wait)
    else setImmediate(this.flush)
  }
}
