/**
 * Bad clients at the Yjs level (SPEC.md PR-U1…U3): undecodable updates, forged
 * client ids and thousands of seeded mutations never partially apply, never
 * crash the server, and never stop an honest pair from syncing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as Y from 'yjs'
import { createRng, fuzzIterations, fuzzSeed } from '@skein/core/testing'
import { CloseCode, FrameType, YSyncType } from '@skein/protocol'
import type { SyncServer } from '@skein/server'
import { HonestPair } from './helpers/server-honest.js'
import { startServer } from './helpers/server-helpers.js'
import type { RawSocket } from './helpers/server-helpers.js'
import { attacker, syncPayload, writeAndSettle } from './helpers/server-attacker.js'

const DOC = 'ws1/target'

/** Order-insensitive JSON (Yjs map key order is not part of the state). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) =>
            a < b ? -1 : a > b ? 1 : 0,
          ),
        )
      : v,
  )
}

/** A comparable snapshot of a document: JSON content plus state vector. */
function snapshot(update: Uint8Array | undefined): string {
  const d = new Y.Doc()
  if (update) Y.applyUpdate(d, update)
  return canonical([
    d.getText('t').toString(),
    d.getMap('m').toJSON(),
    [...Y.decodeStateVector(Y.encodeStateVector(d))],
  ])
}

describe('bad clients: updates', () => {
  let server: SyncServer
  let honest: HonestPair
  beforeAll(async () => {
    server = await startServer()
    honest = new HonestPair(server.url, DOC)
    await honest.start()
    await honest.roundTrip()
  })
  afterAll(async () => {
    honest.stop()
    await server.close()
  })

  it('PR-U1 an update that fails to decode closes with 4422 and changes nothing', async () => {
    const before = snapshot(server.inspect(DOC))
    const s = await attacker(server.url, DOC)
    expect(await writeAndSettle(s, DOC, new Uint8Array([1, 7, 200, 3, 9, 9, 9]))).toBe(
      CloseCode.INVALID_UPDATE,
    )
    expect(snapshot(server.inspect(DOC))).toBe(before)
    await honest.roundTrip()
  })

  it("PR-U2 an update forged under another live client's id is refused (4409)", async () => {
    const forger = new Y.Doc()
    Y.applyUpdate(forger, server.inspect(DOC)!)
    forger.clientID = honest.writerDoc.clientID
    forger.getText('t').insert(0, 'FORGED')
    const update = Y.encodeStateAsUpdate(forger, Y.encodeStateVector(honest.writerDoc))
    const s = await attacker(server.url, DOC)
    expect(await writeAndSettle(s, DOC, update)).toBe(CloseCode.FORGED_CLIENT)
    await honest.roundTrip()
    expect(honest.readerDoc.getText('t').toString()).not.toContain('FORGED')
  })

  it('PR-U4 a burst of writes ending in a forged one: the honest ones before it land, the socket is closed (4409)', async () => {
    const author = new Y.Doc()
    Y.applyUpdate(author, server.inspect(DOC)!)
    const updates: Uint8Array[] = []
    for (let i = 0; i < 20; i++) {
      const sv = Y.encodeStateVector(author)
      author.getText('t').insert(0, `b${i};`)
      updates.push(Y.encodeStateAsUpdate(author, sv))
    }
    const forger = new Y.Doc()
    Y.applyUpdate(forger, Y.encodeStateAsUpdate(author))
    forger.clientID = honest.writerDoc.clientID
    forger.getText('t').insert(0, 'FORGED')
    updates.push(Y.encodeStateAsUpdate(forger, Y.encodeStateVector(author)))
    const s = await attacker(server.url, DOC)
    // one socket write: the server reads the burst in one go and applies it as one run
    const socket = (s.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket
    socket.cork()
    for (const u of updates) {
      s.sendFrame({ type: FrameType.MESSAGE, doc: DOC, payload: syncPayload(YSyncType.UPDATE, u) })
    }
    socket.uncork()
    expect(await s.closed).toBe(CloseCode.FORGED_CLIENT)
    await honest.roundTrip()
    const text = honest.readerDoc.getText('t').toString()
    for (let i = 0; i < 20; i++) expect(text).toContain(`b${i};`)
    expect(text).not.toContain('FORGED')
  })

  it(
    'PR-U3 seeded single-byte mutations and truncations of valid updates: 0 crashes, 0 partial applies',
    { timeout: 60_000 },
    async () => {
      const seed = fuzzSeed('server mutated updates')
      const rng = createRng(seed)
      const n = fuzzIterations(500, 10_000) // 2,000 more run in-process: packages/server/src/room.test.ts
      let source = new Y.Doc()
      // a faithful replica: receives exactly the updates the server accepted
      const model = new Y.Doc()
      Y.applyUpdate(model, server.inspect(DOC)!)
      let s: RawSocket = await attacker(server.url, DOC)
      let rejected = 0
      for (let i = 0; i < n; i++) {
        const sv = Y.encodeStateVector(source)
        if (rng.chance(0.5))
          source.getText('t').insert(rng.int(source.getText('t').length + 1), `m${i}`)
        else source.getMap('m').set(`k${rng.int(20)}`, rng.chance(0.5) ? i : { nested: [i, 'x'] })
        if (rng.chance(0.2) && source.getText('t').length > 2) source.getText('t').delete(0, 1)
        const valid = Y.encodeStateAsUpdate(source, rng.chance(0.9) ? sv : undefined)
        const bad = valid.slice()
        let mutated: Uint8Array
        if (rng.chance(0.3)) mutated = bad.subarray(0, rng.int(bad.length))
        else {
          bad[rng.int(bad.length)] = rng.int(256)
          mutated = bad
        }
        const outcome = await writeAndSettle(s, DOC, mutated)
        if (outcome === 'applied-or-ignored') {
          try {
            Y.applyUpdate(model, mutated)
          } catch {
            throw new Error(
              `server accepted an update a replica cannot apply, iteration ${i} (seed ${seed})`,
            )
          }
        } else {
          expect([
            CloseCode.INVALID_UPDATE,
            CloseCode.FORGED_CLIENT,
            CloseCode.BAD_FRAME,
            CloseCode.INTERNAL,
          ]).toContain(outcome)
          rejected++
          s = await attacker(server.url, DOC)
          // continue from what the server has, so the next update is not rejected for a gap
          source = new Y.Doc()
          Y.applyUpdate(source, server.inspect(DOC)!)
        }
        if (outcome === 'applied-or-ignored' && i % 20 !== 0 && i !== n - 1) continue
        const want = snapshot(Y.encodeStateAsUpdate(model))
        const got = snapshot(server.inspect(DOC))
        if (got !== want) {
          throw new Error(
            `partial apply at iteration ${i} (seed ${seed}), outcome ${outcome}:\nserver ${got}\nmodel  ${want}`,
          )
        }
      }
      s.close()
      expect(rejected).toBeGreaterThan(0)
      await honest.roundTrip()
      expect(honest.readerDoc.getText('t').toString()).toBe(
        honest.writerDoc.getText('t').toString(),
      )
    },
  )
})
