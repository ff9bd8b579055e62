import { describe, expect, it } from 'vitest'
import { WriteBatcher } from './write-batch.js'

/** A connection stand-in that records when its writes were flushed. */
function sink() {
  const at: number[] = []
  return { at, flushWrites: () => void at.push(performance.now()) }
}
const turn = () => new Promise((r) => setImmediate(r))

describe('WriteBatcher', () => {
  it('PR-L7 a lone write leaves at the end of its turn; writes within the interval leave together after it', async () => {
    const batcher = new WriteBatcher(100)
    const a = sink()
    const b = sink()
    batcher.add(a)
    expect(a.at).toHaveLength(0) // not synchronously
    await turn()
    expect(a.at).toHaveLength(1)
    // inside the interval: both wait for the same flush, 100 ms after the first
    batcher.add(a)
    batcher.add(b)
    for (let waited = 0; a.at.length < 2 && waited < 5000; waited += 10) {
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(a.at).toHaveLength(2)
    expect(b.at).toHaveLength(1)
    expect(Math.abs(b.at[0]! - a.at[1]!)).toBeLessThan(5) // the same flush
    expect(a.at[1]! - a.at[0]!).toBeGreaterThanOrEqual(90) // timers may fire ~1 ms early; a turn is < 5 ms
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
