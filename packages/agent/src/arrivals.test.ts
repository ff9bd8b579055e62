import { describe, expect, it } from 'vitest'
import { arrivals } from './arrivals.js'
import type { DocSession } from './sync-transport.js'

/** A session whose sync the test resolves by hand. */
function session(): DocSession & { sync: () => void } {
  let sync!: () => void
  const p = new Promise<void>((r) => (sync = r))
  return {
    sync,
    synced: () => p,
    flushed: () => p,
    settled: () => false,
    close: () => {},
  }
}

/** Lets the generator reach its wait (documents sync later than they are opened). */
const settle = () => new Promise((r) => setImmediate(r))

/**
 * `arrivals` over items 0…n−1, each with a hand-resolved session; never stalls
 * (60 s); records every `open` call.
 */
function watched(n: number, opts: { max: number; window: number; gatherMs?: number }) {
  const s = Array.from({ length: n }, () => session())
  const opened: number[][] = []
  const it = arrivals(
    Array.from({ length: n }, (_, i) => i),
    {
      open: async (items) => void opened.push(items),
      session: (i) => s[i],
      renew: (i) => s[i],
      alive: () => true,
      stallMs: 60_000,
      ...opts,
    },
  )
  return { s, opened, it }
}

describe('arrivals', () => {
  it('yields items in the order their documents sync, in batches of at most `max`', async () => {
    const { s, it } = watched(4, { max: 2, window: 10 })
    const first = it.next()
    await settle()
    s[2]!.sync()
    s[0]!.sync()
    s[3]!.sync()
    expect((await first).value).toEqual([2, 0])
    expect((await it.next()).value).toEqual([3])
    s[1]!.sync()
    expect((await it.next()).value).toEqual([1])
    expect((await it.next()).done).toBe(true)
  })

  it('renews the waiting subscriptions at a stall; two stalls in a row give up on them', async () => {
    const first = [session(), session(), session()]
    const renewed: number[] = []
    const second = [session(), session(), session()]
    const it = arrivals([0, 1, 2], {
      open: async () => {},
      alive: () => true,
      window: 10,
      session: (i) => first[i],
      renew: (i) => {
        renewed.push(i)
        if (i === 1) queueMicrotask(() => second[1]!.sync())
        return second[i]
      },
      stallMs: 5,
      max: 10,
    })
    const next = it.next()
    await settle()
    first[0]!.sync()
    expect((await next).value).toEqual([0])
    // 1 and 2 never sync: a stall renews both; 1 then arrives, 2 does not — it is
    // renewed at the next stall, and after a second stall in a row given up.
    expect((await it.next()).value).toEqual([1])
    expect((await it.next()).done).toBe(true)
    expect(renewed).toEqual([1, 2, 2])
  })
  it('keeps at most `window` documents opened and not yet yielded', async () => {
    const { s, opened, it } = watched(5, { max: 1, window: 2 })
    const first = it.next()
    await settle()
    s[1]!.sync()
    expect((await first).value).toEqual([1])
    expect(opened).toEqual([[0, 1]])
    const second = it.next()
    await settle()
    s[2]!.sync()
    s[0]!.sync()
    expect((await second).value).toEqual([2])
    expect(opened).toEqual([[0, 1], [2]])
    for (const x of s) x.sync()
    const rest: number[] = []
    for await (const batch of it) rest.push(...batch)
    expect(rest).toEqual([0, 3, 4])
    expect(opened.flat()).toEqual([0, 1, 2, 3, 4])
  })
})

describe('arrivals with a streaming server', () => {
  it('gathers trickling arrivals into one batch (up to gatherMs) and tops up the window in runs', async () => {
    const { s, opened, it } = watched(8, { max: 3, window: 4, gatherMs: 200 })
    const first = it.next()
    await settle()
    // one at a time, a turn apart: without gathering each would be its own batch
    s[1]!.sync()
    await settle()
    s[0]!.sync()
    await settle()
    s[3]!.sync()
    expect((await first).value).toEqual([1, 0, 3])
    expect(opened).toEqual([[0, 1, 2, 3]])
    // a lone arrival is yielded once gatherMs has passed since it arrived
    const second = it.next()
    await settle()
    const t0 = Date.now()
    s[2]!.sync()
    expect((await second).value).toEqual([2])
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150)
    // room 3 after the first batch (a whole run of max): opened 4, 5, 6 together
    expect(opened).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6],
    ])
    for (const x of s) x.sync()
    const rest: number[] = []
    for await (const batch of it) rest.push(...batch)
    expect(rest).toEqual([4, 5, 6, 7])
  })
})
