import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FolderProvider, REMOTE_INDEX_KEY, SyncEngine } from '@skein/cloud'
import type { CloudSyncProvider } from '@skein/cloud'
import { S3Provider } from '@skein/cloud-s3'
import { startS3rver } from './helpers/s3rver.js'
import type { S3rverHandle } from './helpers/s3rver.js'

const temps: string[] = []
const temp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'skein-devices-'))
  temps.push(d)
  return d
}
let server: S3rverHandle
beforeAll(async () => {
  server = await startS3rver()
})
afterAll(async () => {
  await server.stop()
  await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))
})

/** Counts provider calls, to check that an incremental run makes no per-object requests. */
class Counting implements CloudSyncProvider {
  calls: Record<string, number> = {}
  constructor(readonly inner: CloudSyncProvider) {}
  get name() {
    return this.inner.name
  }
  private n(op: string) {
    this.calls[op] = (this.calls[op] ?? 0) + 1
  }
  list: CloudSyncProvider['list'] = (p, o) => (this.n('list'), this.inner.list(p, o))
  head: CloudSyncProvider['head'] = (k, o) => (this.n('head'), this.inner.head(k, o))
  download: CloudSyncProvider['download'] = (k, o) => (
    this.n('download'),
    this.inner.download(k, o)
  )
  upload: CloudSyncProvider['upload'] = (k, b, m, o) => (
    this.n('upload'),
    this.inner.upload(k, b, m, o)
  )
  delete: CloudSyncProvider['delete'] = (k, o) => (this.n('delete'), this.inner.delete(k, o))
}

const makers: [string, () => Promise<CloudSyncProvider>][] = [
  ['FolderProvider', async () => new FolderProvider(await temp(), { fsync: 'none' })],
  [
    'S3Provider',
    async () =>
      new S3Provider({
        bucket: 'skein-test',
        prefix: `dev${temps.length}/`,
        endpoint: server.endpoint,
        credentials: server.credentials,
      }),
  ],
]

describe.each(makers)('two devices through the remote index: %s', (_n, make) => {
  it('DV1 changes flow both ways; an incremental run costs O(changes) requests, no listing', async () => {
    const provider = new Counting(await make())
    const [a, b] = [await temp(), await temp()]
    for (let i = 0; i < 50; i++) await writeFile(join(a, `n${i}.md`), `note ${i}`)
    await new SyncEngine({ local: a, provider }).sync()
    const rb = await new SyncEngine({ local: b, provider }).sync()
    expect(rb.filesDownloaded).toBe(50)
    await writeFile(join(b, 'n1.md'), 'edited on b')
    await rm(join(b, 'n2.md'))
    provider.calls = {}
    const r2 = await new SyncEngine({ local: b, provider }).sync()
    expect([r2.filesUploaded, r2.filesDeleted]).toEqual([1, 1])
    expect(provider.calls.list).toBeUndefined()
    expect((provider.calls.head ?? 0) + (provider.calls.download ?? 0)).toBeLessThanOrEqual(3)
    const r3 = await new SyncEngine({ local: a, provider }).sync()
    expect([r3.filesDownloaded, r3.filesDeleted]).toEqual([1, 1])
    expect(await readFile(join(a, 'n1.md'), 'utf8')).toBe('edited on b')
  })

  it('DV2 a stale index never deletes local files: missing entries are confirmed with HEAD first', async () => {
    const provider = await make()
    const a = await temp()
    for (let i = 0; i < 10; i++) await writeFile(join(a, `n${i}.md`), `note ${i}`)
    await new SyncEngine({ local: a, provider }).sync()
    // Another writer replaces the index with one that lacks everything but n0.md.
    const d = await provider.download(REMOTE_INDEX_KEY)
    const idx = JSON.parse(
      (await import('@skein/cloud').then((m) => m.readAll(d!.body))).toString(),
    ) as { entries: Record<string, unknown> }
    idx.entries = { 'n0.md': idx.entries['n0.md'] }
    const { bytesStream } = await import('@skein/cloud')
    const { sha256HexSync } = await import('@skein/core/node')
    const body = Buffer.from(JSON.stringify(idx))
    await provider.upload(REMOTE_INDEX_KEY, bytesStream(body), {
      size: body.length,
      sha256: sha256HexSync(body),
      mtime: 1,
    })
    const r = await new SyncEngine({ local: a, provider }).sync()
    expect(r.filesDeleted).toBe(0)
    expect(r.errors).toEqual([])
    // The index was repaired: the next run trusts it and does nothing.
    const r2 = await new SyncEngine({ local: a, provider }).sync()
    expect(r2.operations).toEqual([])
  })
})
