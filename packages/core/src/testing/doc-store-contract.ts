/**
 * The contract every {@link DocStore} runs (automerge-repo style): call
 * `runDocStoreContract('leveldb', setup)` from the adapter's test file.
 * Test titles carry the rule ids of the DocStore TSDoc (DS1…).
 */
import { afterEach, describe, expect, it } from 'vitest'
import { isSkeinError } from '../errors.js'
import type { DocStore } from '../store/doc-store.js'

/** What a contract run needs from an adapter. */
export interface DocStoreFixture {
  store: DocStore
  /** Closes `store` and opens the same storage again (for durability rules); omit if not durable. */
  reopen?: () => Promise<DocStore>
  /** Removes temp dirs etc.; the suite closes the current store itself. */
  teardown?: () => Promise<void>
}

const bytes = (...n: number[]) => new Uint8Array(n)

/** Registers the DocStore contract tests for one implementation. */
export function runDocStoreContract(name: string, setup: () => Promise<DocStoreFixture>): void {
  describe(`DocStore contract: ${name}`, () => {
    let fx: DocStoreFixture | undefined
    let store: DocStore
    const open = async () => {
      fx = await setup()
      store = fx.store
      return store
    }
    afterEach(async () => {
      await store?.close().catch(() => undefined)
      await fx?.teardown?.()
      fx = undefined
    })

    it('DS1 load of an unknown document is undefined', async () => {
      await open()
      expect(await store.load('ws/none')).toBeUndefined()
      expect(await store.changes('ws', 0)).toEqual({ head: 0, changes: [], more: false })
    })

    it('DS2 append returns strictly increasing sequences per workspace', async () => {
      await open()
      const a = await store.append('ws/a', bytes(1))
      const b = await store.append('ws/b', bytes(2))
      const c = await store.append('ws/a', bytes(3))
      expect(a).toBeGreaterThan(0)
      expect(b).toBeGreaterThan(a)
      expect(c).toBeGreaterThan(b)
      const other = await store.append('other', bytes(4))
      expect(other).toBeGreaterThan(0)
    })

    it('DS3 load returns updates in append order with the last sequence', async () => {
      await open()
      await store.append('ws/a', bytes(1))
      await store.append('ws/b', bytes(9))
      const last = await store.append('ws/a', bytes(2, 2))
      const got = await store.load('ws/a')
      expect(got?.updates.map((u) => [...u])).toEqual([[1], [2, 2]])
      expect(got?.seq).toBe(last)
    })

    it('DS4 compact replaces the updates and keeps the sequence', async () => {
      await open()
      await store.append('ws/a', bytes(1))
      const seq = await store.append('ws/a', bytes(2))
      await store.compact('ws/a', bytes(7, 7, 7))
      const got = await store.load('ws/a')
      expect(got?.updates.map((u) => [...u])).toEqual([[7, 7, 7]])
      expect(got?.seq).toBe(seq)
      await store.append('ws/a', bytes(3))
      expect((await store.load('ws/a'))?.updates.map((u) => [...u])).toEqual([[7, 7, 7], [3]])
    })

    it('DS5 list names documents, optionally per workspace', async () => {
      await open()
      await store.append('ws', bytes(1))
      await store.append('ws/x', bytes(1))
      await store.append('other/y', bytes(1))
      expect((await store.list()).sort()).toEqual(['other/y', 'ws', 'ws/x'])
      expect((await store.list('ws')).sort()).toEqual(['ws', 'ws/x'])
    })

    it('DS6 delete removes the document and its feed entry', async () => {
      await open()
      await store.append('ws/a', bytes(1))
      await store.append('ws/b', bytes(1))
      await store.delete('ws/a')
      await store.delete('ws/never')
      expect(await store.load('ws/a')).toBeUndefined()
      expect((await store.changes('ws', 0)).changes.map((c) => c.doc)).toEqual(['ws/b'])
      expect(await store.list('ws')).toEqual(['ws/b'])
    })

    it('DS7 changes lists documents changed after a sequence, ascending, paged', async () => {
      await open()
      const s1 = await store.append('ws/a', bytes(1))
      const s2 = await store.append('ws/b', bytes(1))
      const s3 = await store.append('ws/a', bytes(2))
      await store.append('other/z', bytes(1))
      const all = await store.changes('ws', 0)
      expect(all.changes).toEqual([
        { doc: 'ws/b', seq: s2 },
        { doc: 'ws/a', seq: s3 },
      ])
      expect(all.head).toBe(s3)
      expect((await store.changes('ws', s2)).changes).toEqual([{ doc: 'ws/a', seq: s3 }])
      expect((await store.changes('ws', s3)).changes).toEqual([])
      const page = await store.changes('ws', s1 - 1, 1)
      expect(page.changes).toEqual([{ doc: 'ws/b', seq: s2 }])
      expect(page.more).toBe(true)
    })

    it('DS8 concurrent appends to one document keep call order', async () => {
      await open()
      const seqs = await Promise.all(
        Array.from({ length: 50 }, (_, i) => store.append('ws/a', bytes(i))),
      )
      expect([...seqs].sort((a, b) => a - b)).toEqual(seqs)
      expect((await store.load('ws/a'))?.updates.map((u) => u[0])).toEqual(
        Array.from({ length: 50 }, (_, i) => i),
      )
    })

    it('DS9 updates, sequences and the feed survive close and reopen', async () => {
      await open()
      if (!fx?.reopen) return
      await store.append('ws/a', bytes(1))
      const s = await store.append('ws/b', bytes(2))
      await store.compact('ws/b', bytes(5))
      store = await fx.reopen()
      expect((await store.load('ws/a'))?.updates.map((u) => [...u])).toEqual([[1]])
      expect((await store.load('ws/b'))?.seq).toBe(s)
      const next = await store.append('ws/c', bytes(3))
      expect(next).toBeGreaterThan(s)
      const page = await store.changes('ws', 0)
      expect(page.head).toBe(next)
      expect(page.changes.map((c) => c.doc)).toEqual(['ws/a', 'ws/b', 'ws/c'])
    })

    it('DS10 a closed store refuses work with CLOSED', async () => {
      await open()
      await store.close()
      await expect(store.append('ws/a', bytes(1))).rejects.toSatisfy((e) =>
        isSkeinError(e, 'CLOSED'),
      )
    })
  })
}
