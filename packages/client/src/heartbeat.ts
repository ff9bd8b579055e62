/**
 * Client-side liveness check (SPEC.md PR-R5). A half-open TCP connection (a NAT
 * entry dropped, a peer gone without FIN or RST) delivers nothing and reports no
 * error, and a browser never sees the server's WebSocket pings, so the client
 * watches what it receives: after `intervalMs` without any frame it sends a probe
 * the server always answers, and if nothing at all arrives within `timeoutMs`
 * after that the connection is declared dead.
 */

/** What {@link Heartbeat} watches with and reports to. */
export interface HeartbeatOptions {
  /** Silence that triggers a probe; 0 disables the heartbeat. */
  intervalMs: number
  /** How long a probe may go unanswered (by any frame) before the link counts as dead. */
  timeoutMs: number
  /** Sends the probe. */
  probe: () => void
  /** Called once per dead link, with how long nothing arrived. */
  dead: (silentMs: number) => void
}

// monotonic: a wall-clock jump must not postpone the next probe by hours
const now = () => performance.now()

/** One connection's liveness timer: `start()` once connected, `heard()` per frame, `stop()` on close. */
export class Heartbeat {
  private timer: ReturnType<typeof setTimeout> | undefined
  private lastHeard = 0
  /** A probe is out and nothing has arrived since. */
  private probing = false

  constructor(private readonly o: HeartbeatOptions) {}

  /** Starts watching (a no-op when the heartbeat is disabled). */
  start(): void {
    this.stop()
    if (this.o.intervalMs <= 0) return
    this.lastHeard = now()
    this.arm(this.o.intervalMs)
  }

  /** A frame arrived from the server. Cheap: only the first frame after a probe touches the timer. */
  heard(): void {
    this.lastHeard = now()
    if (!this.probing) return
    // answered: count silence from here again rather than waiting out the probe timeout
    this.probing = false
    if (this.timer) clearTimeout(this.timer)
    this.arm(this.o.intervalMs)
  }

  /** Stops watching and clears the timer. */
  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    this.probing = false
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.tick, ms)
  }

  private readonly tick = (): void => {
    this.timer = undefined
    if (this.probing) {
      // no frame since the probe (heard() would have ended the probe)
      this.probing = false
      return this.o.dead(now() - this.lastHeard)
    }
    const idle = now() - this.lastHeard
    if (idle < this.o.intervalMs) return this.arm(this.o.intervalMs - idle)
    this.probing = true
    this.o.probe()
    this.arm(this.o.timeoutMs)
  }
}
