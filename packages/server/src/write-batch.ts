/**
 * Coalesces socket writes per event-loop turn. A connection that corks its
 * socket joins the batch; one `setImmediate` for the whole server flushes every
 * connection of the batch once the turn's I/O callbacks ran. Frames a turn
 * sends to one socket — broadcasts of several incoming updates, acks — then
 * leave in one write (one syscall), and the broadcast of one update costs one
 * callback, not one microtask per recipient. A frame waits at most for the
 * rest of the turn.
 */

/** Something holding corked writes. */
export interface Flushable {
  /** Uncorks: the writes held since it joined the batch go out. */
  flushWrites(): void
}

let batch: Flushable[] = []
let scheduled = false

function flush(): void {
  scheduled = false
  const pending = batch
  batch = []
  for (const f of pending) f.flushWrites()
}

/** Calls `f.flushWrites()` at the end of this event-loop turn (once per call). */
export function flushAtTurnEnd(f: Flushable): void {
  batch.push(f)
  if (!scheduled) {
    scheduled = true
    setImmediate(flush)
  }
}
