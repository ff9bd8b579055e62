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
  it('PR-L7 a lone write leaves at the end of its turn; writes within the interval leave together after it', async () => {
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
    expect(a.at[1]! - a.at[0]!).toBeGreaterThanOrEqual(90) // timers may fire ~1 ms early
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
    expect(busy.at[1]! - busy.at[0]!).toBeGreaterThanOrEqual(190)
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
