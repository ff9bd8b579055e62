import type { DocSession } from './sync-transport.js'

/** How {@link arrivals} opens, finds and renews the subscriptions it waits on. */
export interface ArrivalOptions<T> {
  /** Opens (subscribes) the documents of some items. */
  open: (items: T[]) => Promise<void>
  /** The session of an opened item's document. */
  session: (item: T) => DocSession | undefined
  /** Subscribes an item's document again (after a stall); returns the new session. */
  renew: (item: T) => DocSession | undefined
  /** False stops the wait (e.g. the connection dropped); the rest is left to the caller. */
  alive: () => boolean
  /** Nothing arriving for this long is a stall. */
  stallMs: number
  /** Largest batch yielded. */
  max: number
  /** Most documents opened and not yet yielded at a time (memory, server rooms). */
  window: number
  /**
   * How long a batch smaller than `max` may wait, from its first arrival, for
   * more (default 0: yield at once). A server that streams its answers then
   * still feeds the caller batches, not a write per network read.
   */
  gatherMs?: number
}

/**
 * Opens the items' documents a window at a time and yields the items in
 * batches as their documents sync, in arrival order — not in list order with
 * a timeout per item, which under load mistakes a long queue at the server
 * for dead subscriptions and renews thousands of them. When nothing arrives
 * for `stallMs`, the waiting subscriptions are renewed; after a second stall
 * in a row they are given up on (left to the caller) and the rest goes on.
 */
export async function* arrivals<T>(
  items: readonly T[],
  opts: ArrivalOptions<T>,
): AsyncGenerator<T[]> {
  const arrived: T[] = []
  const waiting = new Set<T>()
  let next = 0
  let wake: (() => void) | undefined
  const watch = (item: T, session: DocSession | undefined) =>
    void session?.synced().then(() => {
      if (!waiting.delete(item)) return
      arrived.push(item)
      wake?.()
    })
  let stalled = false
  /** When the batch now gathering got its first item. */
  let gathering: number | undefined
  const gatherMs = opts.gatherMs ?? 0
  while (opts.alive()) {
    // Top up in runs (a batch's worth, or all that is left), not an item per
    // arrival: every run is a subscribe message and a store read at the server.
    const room = opts.window - waiting.size - arrived.length
    const run = Math.min(opts.max, opts.window, items.length - next)
    if (run > 0 && room >= run) {
      const fresh = items.slice(next, next + room)
      next += fresh.length
      for (const item of fresh) waiting.add(item)
      await opts.open(fresh)
      for (const item of fresh) watch(item, opts.session(item))
    }
    if (arrived.length > 0) {
      stalled = false
      gathering ??= Date.now()
      const full = arrived.length >= opts.max || waiting.size === 0
      if (full || Date.now() - gathering >= gatherMs) {
        gathering = undefined
        yield arrived.splice(0, opts.max)
        continue
      }
    }
    if (waiting.size === 0) {
      if (next >= items.length) return
      continue
    }
    let timer: NodeJS.Timeout | undefined
    const wait = gathering === undefined ? opts.stallMs : gathering + gatherMs - Date.now()
    const progressed = await new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, wait))
      wake = () => resolve(true)
    })
    clearTimeout(timer)
    wake = undefined
    if (gathering !== undefined) continue
    if (progressed) continue
    if (stalled) {
      waiting.clear()
      stalled = false
      continue
    }
    stalled = true
    for (const item of waiting) watch(item, opts.renew(item))
  }
}
