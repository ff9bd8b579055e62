import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runBlobStoreContract } from '@skein/core/testing'
import { sha256Hex } from '@skein/core'
import { FsBlobStore } from './fs-blob-store.js'

runBlobStoreContract('filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skein-blobs-'))
  return { store: new FsBlobStore(dir), teardown: () => rm(dir, { recursive: true, force: true }) }
})

describe('FsBlobStore', () => {
  it('PR-B3 a failed upload leaves no temp file behind', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'skein-blobs-'))
    const store = new FsBlobStore(dir)
    const hash = await sha256Hex('x')
    async function* body() {
      yield new Uint8Array([1])
      throw new Error('client went away')
    }
    await expect(store.put('ws', hash, body())).rejects.toThrow(/went away/)
    expect(await readdir(join(dir, 'ws', hash.slice(0, 2)))).toEqual([])
    await rm(dir, { recursive: true, force: true })
  })
})
