import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FolderProvider, SyncEngine, bytesStream } from '@skein/cloud'
import type { CloudSyncProvider } from '@skein/cloud'
import { FaultyProvider } from '@skein/cloud/testing'
import { S3Provider } from '@skein/cloud-s3'
import { sha256HexSync } from '@skein/core/node'
import { createRng, fuzzSeed } from '@skein/core/testing'
import { expectConverged } from './cloud-sync-check.js'
import { startS3rver } from './helpers/s3rver.js'
import type { S3rverHandle } from './helpers/s3rver.js'

const temps: string[] = []
const temp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'skein-faults-'))
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

async function seed(local: string, remote: CloudSyncProvider, seedN: number) {
  const rng = createRng(seedN)
  for (let i = 0; i < 60; i++) {
    const body = Buffer.from(`local ${i} ${'x'.repeat(rng.int(3000))}`)
    await mkdir(join(local, `l${i % 5}`), { recursive: true })
    await writeFile(join(local, `l${i % 5}/f${i}.md`), body)
  }
  for (let i = 0; i < 40; i++) {
    const body = Buffer.from(`remote ${i} ${'y'.repeat(rng.int(3000))}`)
    await remote.upload(`r/f${i}.md`, bytesStream(body), {
      size: body.length,
      sha256: sha256HexSync(body),
      mtime: Date.now(),
    })
  }
}

const providers: [string, () => Promise<CloudSyncProvider>][] = [
  ['FolderProvider', async () => new FolderProvider(await temp(), { fsync: 'none' })],
  [
    'S3Provider',
    async () =>
      new S3Provider({
        bucket: 'skein-test',
        prefix: `f${temps.length}/`,
        endpoint: server.endpoint,
        credentials: server.credentials,
      }),
  ],
]

describe.each(providers)('fault injection around %s', (_name, make) => {
  it('FI1 random 5xx, throttling, timeouts, truncated and corrupted downloads: the run still converges, verified', async () => {
    const s = fuzzSeed('cloud FI1')
    const inner = await make()
    const local = await temp()
    await seed(local, inner, s)
    const faulty = new FaultyProvider(inner, { rate: 0.3, seed: s, delayMs: 5 })
    const engine = new SyncEngine({
      local,
      provider: faulty,
      retry: { attempts: 12, baseDelayMs: 1, maxDelayMs: 5 },
    })
    const r = await engine.sync()
    expect(r.errors).toEqual([])
    expect(r.filesUploaded + r.filesDownloaded).toBe(100)
    const injected = Object.values(faulty.injected).reduce((a, b) => a + b, 0)
    expect(injected).toBeGreaterThan(10)
    expect(await expectConverged(local, inner)).toBe(100)
    // And a second run, still faulty, has nothing to do.
    const again = await engine.sync()
    expect(again.filesUploaded + again.filesDownloaded + again.filesDeleted).toBe(0)
  })

  it('FI2 a download that stays corrupt fails that file only: nothing written, nothing recorded; the next run fixes it', async () => {
    const inner = await make()
    const local = await temp()
    await seed(local, inner, 7)
    const faulty = new FaultyProvider(inner)
      .inject('download', 'corrupt', 3)
      .inject('download', 'truncate', 3)
    const retry = { attempts: 3, baseDelayMs: 1 }
    const r = await new SyncEngine({
      local,
      provider: faulty,
      retry,
      concurrency: 1,
      useRemoteIndex: false,
    }).sync()
    expect(r.errors.map((e) => e.code)).toEqual(['HASH_MISMATCH', 'HASH_MISMATCH'])
    expect(r.success).toBe(false)
    const bad = r.errors.map((e) => e.path)
    const after = await new SyncEngine({ local, provider: inner, retry }).sync()
    expect(after.errors).toEqual([])
    expect(after.filesDownloaded).toBe(2)
    expect(bad.length).toBe(2)
    await expectConverged(local, inner)
  })

  it('FI3 each fault kind is retried: 5xx, throttling, timeout on every operation type', async () => {
    const inner = await make()
    const local = await temp()
    await seed(local, inner, 3)
    const faulty = new FaultyProvider(inner, { delayMs: 5 })
    for (const op of ['list', 'head', 'download', 'upload', 'delete'] as const)
      faulty.inject(op, 'server-error').inject(op, 'throttle').inject(op, 'timeout')
    const r = await new SyncEngine({
      local,
      provider: faulty,
      retry: { attempts: 5, baseDelayMs: 1 },
      useRemoteIndex: false,
    }).sync()
    expect(r.errors).toEqual([])
    expect(faulty.injected['server-error']).toBeGreaterThanOrEqual(3)
    expect(faulty.injected.throttle).toBeGreaterThanOrEqual(3)
    await expectConverged(local, inner)
  })

  it('FI4 a listing that omits objects deletes nothing: missing entries are confirmed with HEAD first', async () => {
    const inner = await make()
    const local = await temp()
    for (let i = 0; i < 10; i++) await writeFile(join(local, `n${i}.md`), `note ${i}`)
    const first = await new SyncEngine({ local, provider: inner, useRemoteIndex: false }).sync()
    expect(first.filesUploaded).toBe(10)
    const faulty = new FaultyProvider(inner).hideFromListing(['n1.md', 'n2.md', 'n3.md'])
    const r = await new SyncEngine({ local, provider: faulty, useRemoteIndex: false }).sync()
    expect(r.errors).toEqual([])
    expect([r.filesDeleted, r.filesUploaded, r.filesDownloaded]).toEqual([0, 0, 0])
    expect(r.warnings.join('\n')).toMatch(/left out 3 object\(s\) that exist/)
    expect(await expectConverged(local, inner)).toBe(10)
  })
})
