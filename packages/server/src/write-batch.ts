/**
 * Coalesces socket writes (SPEC.md PR-L7) and keeps the server's write clock
 * (PR-U5). A connection holding frames joins the batch and is flushed — all
 * its frames in one write, one system call — at the end of the event-loop turn
 * (once the turn's I/O callbacks ran), unless that socket was written less
 * than `intervalMs` ago: then its frames wait for the next tick of a clock
 * shared by the whole server (on multiples of `intervalMs`) and leave with
 * every other busy socket's. A socket written less than half an interval
 * before a tick waits for the one after, so a busy socket is written about
 * once per interval and never twice within half of one. A connection holding
 * a large backlog is expedited: flushed at the end of the turn anyway.
 *
 * The interval is per socket, so a quiet socket never waits for a busy one,
 * and a socket receiving a frame every now and then gets it at once. Only a
 * socket receiving frames faster than one per interval is batched: a document
 * with 50 typists sends each subscriber 490 frames/s, and a socket write costs
 * about as much CPU as applying the update (see the fan-out benchmark), so at
 * most one write per interval per socket is what bounds the server's work.
 *
 * Busy rooms apply their writes on the same clock ({@link beforeTick}), just
 * before the tick's sockets are written: the update a tick applies leaves in
 * the writes its subscribers' sockets were waiting for anyway.
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
  /**
   * Waiting for their tick: tick time (a multiple of the interval) → the tasks
   * to run then, and the connections to flush after them.
   */
  private readonly ticks = new Map<number, { tasks: (() => void)[]; flushes: Flushable[] }>()
  private timer: ReturnType<typeof setTimeout> | undefined
  private timerAt = Infinity

  /** `intervalMs`: the tick of busy sockets and rooms (`SyncServerOptions.writeIntervalMs`). */
  constructor(readonly intervalMs: number) {}

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
    for (const [at, tick] of this.ticks) {
      if (at > now + 1) continue // timers may fire ~1 ms early
      this.ticks.delete(at)
      for (const task of tick.tasks) task()
      // sockets the tasks sent to (their tick has come) leave now, not a loop phase later
      if (tick.tasks.length > 0 && this.soon.length > 0) this.flushSoon()
      for (const f of tick.flushes) f.flushWrites()
    }
    this.arm()
  }

  /** The tick at `at`, created (and the timer set for it) if new. */
  private tick(at: number): { tasks: (() => void)[]; flushes: Flushable[] } {
    let tick = this.ticks.get(at)
    if (!tick) {
      tick = { tasks: [], flushes: [] }
      this.ticks.set(at, tick)
      this.arm()
    }
    return tick
  }

  /** Sets the timer for the earliest waiting tick. */
  private arm(): void {
    let next = Infinity
    for (const at of this.ticks.keys()) next = Math.min(next, at)
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
    const now = performance.now()
    const every = this.intervalMs
    // quiet (not written for an interval): now; busy: the first tick half an interval after its last write
    const at =
      f.lastWrite + every <= now ? now : Math.ceil((f.lastWrite + every / 2) / every) * every
    if (at <= now + 1) {
      // quiet, or its tick has come (frames a tick's task just sent; timers may fire ~1 ms early): end of this turn
      this.expedite(f)
      return true
    }
    this.tick(at).flushes.push(f)
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

  /** Runs `task` at the next tick, before the connections waiting for that tick are flushed. */
  beforeTick(task: () => void): void {
    const every = this.intervalMs
    if (!(every > 0)) return queueMicrotask(task) // no clock: at once
    this.tick((Math.floor(performance.now() / every) + 1) * every).tasks.push(task)
  }

  /**
   * Stops the timer (the server closed: connections committed their writes and
   * flushed their frames as they closed).
   */
  close(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Infinity
    this.ticks.clear()
  }
}
