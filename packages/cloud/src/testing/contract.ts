import { createHash } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isSkeinError } from '@skein/core'
import type { CloudSyncProvider, UploadMeta } from '../provider.js'
import { bytesStream, readAll } from '../streams.js'

/** What a contract-suite run needs from the provider under test. */
export interface ProviderContractSetup {
  /** A fresh, empty provider (a new folder, a new bucket or prefix). */
  create(): Promise<CloudSyncProvider>
  /** Cleans up after the suite. */
  destroy?(provider: CloudSyncProvider): Promise<void>
  /** Bytes of the "large object" case (default 12 MiB: past S3 multipart thresholds). */
  largeSize?: number
  /** Run the >1,000-key listing case (default true). */
  largeListing?: boolean
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex')
const metaOf = (b: Uint8Array, mtime = 1_700_000_000_000): UploadMeta => ({
  size: b.byteLength,
  sha256: sha(b),
  mtime,
})
const put = (p: CloudSyncProvider, key: string, text: string | Uint8Array, mtime?: number) => {
  const b = typeof text === 'string' ? Buffer.from(text) : text
  return p.upload(key, bytesStream(b), metaOf(b, mtime))
}
async function keys(p: CloudSyncProvider, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const o of p.list(prefix)) out.push(o.key)
  return out.sort()
}

/**
 * The contract every {@link CloudSyncProvider} must meet (rule ids PC1…). Call it
 * from a test file: `runProviderContractTests('FolderProvider', { create })`.
 */
export function runProviderContractTests(label: string, setup: ProviderContractSetup): void {
  describe(`CloudSyncProvider contract: ${label}`, () => {
    let p: CloudSyncProvider
    beforeAll(async () => {
      p = await setup.create()
    })
    afterAll(async () => {
      await setup.destroy?.(p)
      await p.close?.()
    })

    it('PC1 not-found is undefined for head and download; delete of a missing key succeeds', async () => {
      expect(await p.head('pc1/missing.md')).toBeUndefined()
      expect(await p.download('pc1/missing.md')).toBeUndefined()
      await p.delete('pc1/missing.md')
    })

    it('PC2 upload stores bytes, size, sha-256 and mtime; download returns them', async () => {
      const body = Buffer.from('hello, world\n')
      const info = await put(p, 'pc2/a.md', body, 1_650_000_000_123)
      expect(info.size).toBe(body.length)
      const h = await p.head('pc2/a.md')
      expect(h).toMatchObject({
        key: 'pc2/a.md',
        size: body.length,
        sha256: sha(body),
        mtime: 1_650_000_000_123,
      })
      const d = await p.download('pc2/a.md')
      expect(d?.info.sha256).toBe(sha(body))
      expect(Buffer.compare(await readAll(d!.body), body)).toBe(0)
    })

    it('PC3 an empty object round-trips', async () => {
      await put(p, 'pc3/empty', new Uint8Array(0))
      expect((await p.head('pc3/empty'))?.size).toBe(0)
      expect((await readAll((await p.download('pc3/empty'))!.body)).length).toBe(0)
    })

    it('PC4 a body that does not match its stated hash or size is refused and stores nothing', async () => {
      await put(p, 'pc4/x', 'original')
      const bad = Buffer.from('tampered')
      for (const meta of [
        { ...metaOf(bad), sha256: sha(Buffer.from('other')) },
        { ...metaOf(bad), size: 3 },
      ]) {
        const err = await p.upload('pc4/x', bytesStream(bad), meta).catch((e: unknown) => e)
        expect(isSkeinError(err, 'HASH_MISMATCH')).toBe(true)
      }
      const err = await p
        .upload('pc4/new', bytesStream(bad), { ...metaOf(bad), sha256: '0'.repeat(64) })
        .catch((e: unknown) => e)
      expect(isSkeinError(err, 'HASH_MISMATCH')).toBe(true)
      expect(await p.head('pc4/new')).toBeUndefined()
      expect((await readAll((await p.download('pc4/x'))!.body)).toString()).toBe('original')
    })

    it('PC5 overwrite replaces content and changes the etag', async () => {
      const a = await put(p, 'pc5/f', 'one')
      const b = await put(p, 'pc5/f', 'two!')
      const h = await p.head('pc5/f')
      expect(h?.sha256).toBe(sha(Buffer.from('two!')))
      expect(h?.etag).toBeDefined()
      expect(b.etag).not.toBe(a.etag)
      expect((await readAll((await p.download('pc5/f'))!.body)).toString()).toBe('two!')
    })

    it('PC6 delete removes the object', async () => {
      await put(p, 'pc6/d/e.md', 'x')
      await p.delete('pc6/d/e.md')
      expect(await p.head('pc6/d/e.md')).toBeUndefined()
      expect(await keys(p, 'pc6/')).toEqual([])
    })

    it('PC7 list returns exactly the keys under a prefix, nested and unicode included, with sizes', async () => {
      const names = [
        'pc7/a.md',
        'pc7/b/c.md',
        'pc7/b/d/e.txt',
        'pc7/ünï cødé 📝.md',
        'pc7x/outside.md',
      ]
      for (const n of names) await put(p, n, n)
      expect(await keys(p, 'pc7/')).toEqual(names.slice(0, 4).sort())
      expect(await keys(p, 'pc7/b/')).toEqual(['pc7/b/c.md', 'pc7/b/d/e.txt'])
      for await (const o of p.list('pc7/b/d')) expect(o.size).toBe(Buffer.byteLength(o.key))
      expect(await keys(p, 'nothing-here/')).toEqual([])
    })

    it('PC8 a large object streams through intact', async () => {
      const size = setup.largeSize ?? 12 * 1024 * 1024
      const big = Buffer.alloc(size)
      for (let i = 0; i < size; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i)
      async function* chunks() {
        for (let i = 0; i < size; i += 1 << 20) yield big.subarray(i, Math.min(size, i + (1 << 20)))
      }
      await p.upload('pc8/big.bin', chunks(), metaOf(big))
      expect((await p.head('pc8/big.bin'))?.sha256).toBe(sha(big))
      expect(sha(await readAll((await p.download('pc8/big.bin'))!.body))).toBe(sha(big))
    })

    it('PC9 optional copy duplicates content server-side', async () => {
      if (!p.copy) return
      await put(p, 'pc9/src', 'copy me')
      expect(await p.copy('pc9/missing', 'pc9/x')).toBeUndefined()
      const c = await p.copy('pc9/src', 'pc9/dst')
      expect(c?.sha256).toBe(sha(Buffer.from('copy me')))
      expect((await readAll((await p.download('pc9/dst'))!.body)).toString()).toBe('copy me')
    })

    it('PC10 optional conditional write refuses to overwrite when told so', async () => {
      if (!p.uploadIf) return
      const b = Buffer.from('first')
      await p.uploadIf('pc10/c', bytesStream(b), metaOf(b), { ifNoneMatch: '*' })
      const err = await p
        .uploadIf('pc10/c', bytesStream(b), metaOf(b), { ifNoneMatch: '*' })
        .catch((e: unknown) => e)
      expect(isSkeinError(err, 'PRECONDITION_FAILED')).toBe(true)
    })

    it('PC11 listing more than 1,000 keys returns every key once', async () => {
      if (setup.largeListing === false) return
      const n = 1_100
      const all = Array.from({ length: n }, (_, i) => `pc11/k${String(i).padStart(5, '0')}`)
      for (let i = 0; i < n; i += 50)
        await Promise.all(all.slice(i, i + 50).map((k) => put(p, k, k)))
      expect(await keys(p, 'pc11/')).toEqual(all)
    }, 120_000)
  })
}
