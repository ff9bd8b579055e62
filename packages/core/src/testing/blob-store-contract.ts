/**
 * The contract every {@link BlobStore} runs: `runBlobStoreContract(name, setup)`.
 * Test titles carry rule ids BS1…
 */
import { afterEach, describe, expect, it } from 'vitest'
import { isSkeinError } from '../errors.js'
import { sha256Hex } from '../hash.js'
import type { BlobStore } from '../store/blob-store.js'

/** What a contract run needs from an adapter. */
export interface BlobStoreFixture {
  store: BlobStore
  teardown?: () => Promise<void>
}

async function* chunks(data: Uint8Array, size = 1000): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size)
}

async function readAll(body: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = []
  for await (const c of body) parts.push(c)
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.length
  }
  return out
}

/** Registers the BlobStore contract tests for one implementation. */
export function runBlobStoreContract(name: string, setup: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let fx: BlobStoreFixture | undefined
    afterEach(async () => {
      await fx?.teardown?.()
      fx = undefined
    })
    const data = new Uint8Array(10_000).map((_, i) => (i * 31) & 255)

    it('BS1 put verifies the hash, then head and get return the bytes', async () => {
      fx = await setup()
      const hash = await sha256Hex(data)
      expect(await fx.store.head('ws', hash)).toBeUndefined()
      expect(await fx.store.get('ws', hash)).toBeUndefined()
      expect(await fx.store.put('ws', hash, chunks(data))).toEqual({ size: data.length })
      expect(await fx.store.head('ws', hash)).toEqual({ size: data.length })
      const got = await fx.store.get('ws', hash)
      expect(got?.size).toBe(data.length)
      expect(await readAll(got!.body)).toEqual(data)
      expect(await fx.store.head('other', hash)).toBeUndefined()
    })

    it('BS2 a hash mismatch rejects with HASH_MISMATCH and stores nothing', async () => {
      fx = await setup()
      const wrong = await sha256Hex('something else')
      await expect(fx.store.put('ws', wrong, chunks(data))).rejects.toSatisfy((e) =>
        isSkeinError(e, 'HASH_MISMATCH'),
      )
      expect(await fx.store.head('ws', wrong)).toBeUndefined()
    })

    it('BS3 putting an existing blob again is harmless; delete removes it', async () => {
      fx = await setup()
      const hash = await sha256Hex(data)
      await fx.store.put('ws', hash, chunks(data))
      await fx.store.put('ws', hash, chunks(data, 77))
      expect(await fx.store.head('ws', hash)).toEqual({ size: data.length })
      expect(await fx.store.delete('ws', hash)).toBe(true)
      expect(await fx.store.delete('ws', hash)).toBe(false)
      expect(await fx.store.head('ws', hash)).toBeUndefined()
    })

    it('BS4 an empty blob round-trips', async () => {
      fx = await setup()
      const hash = await sha256Hex(new Uint8Array(0))
      await fx.store.put('ws', hash, chunks(new Uint8Array(0)))
      expect(await fx.store.head('ws', hash)).toEqual({ size: 0 })
      expect((await readAll((await fx.store.get('ws', hash))!.body)).length).toBe(0)
    })
  })
}
