import { describe, expect, it } from 'vitest'
import { WriteBatcher } from './write-batch.js'

/** A connection stand-in that records when its writes were flushed. */
function sink() {
  const at: number[] = []
  const s = {
    at,
    lastWrite: -Infinity,
    flushWrites: () => {
      s.lastWrite = performance.now()
      at.push(s.lastWrite)
    },
  }
  return s
}
const turn = () => new Promise((r) => setImmediate(r))
async function until(cond: () => boolean): Promise<void> {
  for (let waited = 0; !cond() && waited < 5000; waited += 5) {
    await new Promise((r) => setTimeout(r, 5))
  }
}

describe('WriteBatcher', () => {
  it('PR-L7 a lone write leaves at the end of its turn; writes within the interval leave together at the next tick', async () => {
    const batcher = new WriteBatcher(100)
    const a = sink()
    batcher.add(a)
    expect(a.at).toHaveLength(0) // not synchronously
    await turn()
    expect(a.at).toHaveLength(1)
    // inside a's interval: a waits for the rest of it, then leaves once
    batcher.add(a)
    await turn()
    expect(a.at).toHaveLength(1)
    await until(() => a.at.length >= 2)
    expect(a.at).toHaveLength(2)
    // never twice within half an interval (timers may fire ~1 ms early)
    expect(a.at[1]! - a.at[0]!).toBeGreaterThanOrEqual(48)
    batcher.close()
  })

  it('PR-L7 busy sockets leave together on the shared tick, whatever their phase', async () => {
    const every = 200
    const batcher = new WriteBatcher(every)
    const a = sink()
    const b = sink()
    // just after a tick, a and b are written 20 ms apart, both well before the next tick's half
    await until(() => performance.now() % every < 5)
    batcher.add(a)
    await turn()
    await new Promise((r) => setTimeout(r, 20))
    batcher.add(b)
    await turn()
    expect(b.at[0]! - a.at[0]!).toBeGreaterThanOrEqual(15)
    batcher.add(a)
    batcher.add(b)
    await until(() => a.at.length >= 2 && b.at.length >= 2)
    // one timer callback wrote both: per-socket intervals would part them by about 20 ms
    expect(Math.abs(a.at[1]! - b.at[1]!)).toBeLessThan(2)
    expect(a.at[1]! - a.at[0]!).toBeGreaterThanOrEqual(every / 2 - 2)
    batcher.close()
  })

  it("PR-U5 a task for the next tick runs before that tick's sockets are written; what it sends leaves in the same turn", async () => {
    const every = 100
    const batcher = new WriteBatcher(every)
    const order: string[] = []
    const a = sink()
    const b = sink()
    // just after a tick: a and b are written now, the next tick is about an interval away
    await until(() => performance.now() % every < 5)
    batcher.add(a)
    batcher.add(b)
    await turn()
    const flushB = b.flushWrites
    b.flushWrites = () => {
      order.push('flush b')
      flushB()
    }
    batcher.add(b) // busy: waits for the next tick
    let tickAt = 0
    batcher.beforeTick(() => {
      tickAt = performance.now()
      order.push('task')
      // a gets frames from the task (a room's update): its tick has come
      order.push(batcher.add(a) ? 'a this turn' : 'a later')
    })
    await until(() => a.at.length >= 2 && b.at.length >= 2)
    expect(order).toEqual(['task', 'a this turn', 'flush b'])
    expect(a.at[1]! - tickAt).toBeLessThan(5)
    expect(Math.abs(a.at[1]! - b.at[1]!)).toBeLessThan(5)
    batcher.close()
  })

  it('PR-L7 the interval is per socket: a quiet socket does not wait for a busy one', async () => {
    const batcher = new WriteBatcher(200)
    const busy = sink()
    const quiet = sink()
    batcher.add(busy)
    await turn()
    batcher.add(busy) // inside busy's interval: waits
    batcher.add(quiet) // never written: leaves at the end of this turn
    await turn()
    expect(quiet.at).toHaveLength(1)
    expect(busy.at).toHaveLength(1)
    await until(() => busy.at.length >= 2)
    expect(busy.at[1]! - busy.at[0]!).toBeGreaterThanOrEqual(99)
    batcher.close()
  })

  it('PR-L7 an expedited socket (large backlog) leaves at the end of the turn, inside its interval', async () => {
    const batcher = new WriteBatcher(10_000)
    const a = sink()
    batcher.add(a)
    await turn()
    batcher.add(a)
    batcher.expedite(a)
    await turn()
    expect(a.at).toHaveLength(2)
    batcher.close() // the interval's timer is cleared: the test ends at once
  })

  it('PR-L7 with interval 0 every turn flushes', async () => {
    const batcher = new WriteBatcher(0)
    const a = sink()
    for (let i = 0; i < 3; i++) {
      batcher.add(a)
      await turn()
    }
    expect(a.at).toHaveLength(3)
  })
})
