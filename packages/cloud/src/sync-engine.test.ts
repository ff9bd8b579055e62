import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FolderProvider } from './folder-provider.js'
import { createPathFilter } from './ignore-rules.js'
import { scanLocal } from './local-scan.js'
import { SyncManifest } from './manifest.js'
import { SyncEngine } from './sync-engine.js'
import type { SyncProgress } from './sync-types.js'

const temps: string[] = []
const temp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'skein-engine-'))
  temps.push(d)
  return d
}
afterAll(
  async () => void (await Promise.all(temps.map((d) => rm(d, { recursive: true, force: true })))),
)
async function setup(n = 20) {
  const local = await temp()
  for (let i = 0; i < n; i++) {
    await mkdir(join(local, `d${i % 3}`), { recursive: true })
    await writeFile(join(local, `d${i % 3}/f${i}.md`), `file ${i}\n`.repeat(100))
  }
  return { local, provider: new FolderProvider(await temp(), { fsync: 'none' }) }
}

describe('SyncEngine', () => {
  it('SE1 progress goes detectingLocal → … → complete with monotonic counts and byte totals', async () => {
    const { local, provider } = await setup()
    const seen: SyncProgress[] = []
    const r = await new SyncEngine({ local, provider }).sync({
      onProgress: (p) => seen.push({ ...p }),
    })
    const stages = [...new Set(seen.map((p) => p.stage))]
    expect(stages).toEqual([
      'detectingLocal',
      'detectingRemote',
      'planning',
      'uploading',
      'complete',
    ])
    const up = seen.filter((p) => p.stage === 'uploading')
    for (let i = 1; i < up.length; i++)
      expect(up[i]!.bytes).toBeGreaterThanOrEqual(up[i - 1]!.bytes)
    const last = seen[seen.length - 1]!
    expect([last.current, last.total, last.bytes, last.totalBytes]).toEqual([
      20,
      20,
      r.bytes,
      r.bytes,
    ])
  })

  it('SE2 dry run reports the plan and changes nothing', async () => {
    const { local, provider } = await setup(5)
    const r = await new SyncEngine({ local, provider }).sync({ dryRun: true })
    expect(r).toMatchObject({ dryRun: true, filesUploaded: 5 })
    expect(r.operations).toHaveLength(5)
    const listed: string[] = []
    for await (const o of provider.list('')) listed.push(o.key)
    expect(listed).toEqual([])
  })

  it('SE3 an aborted run throws CLOSED, keeps what completed, and the next run finishes', async () => {
    const { local, provider } = await setup(40)
    const ac = new AbortController()
    let n = 0
    const engine = new SyncEngine({ local, provider, concurrency: 2 })
    const err = await engine
      .sync({
        signal: ac.signal,
        onProgress: (p) => p.stage === 'uploading' && ++n === 10 && ac.abort(),
      })
      .catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'CLOSED' })
    const manifest = await SyncManifest.load(join(local, '.skein/cloud/manifest.json'))
    expect(manifest.size).toBeGreaterThan(0)
    expect(manifest.size).toBeLessThan(40)
    const r = await engine.sync()
    expect(r.filesUploaded).toBe(40 - manifest.size)
  })

  it('SE4 two runs on one folder at once: the second is refused, not interleaved', async () => {
    const { local, provider } = await setup(30)
    const engine = new SyncEngine({ local, provider })
    const [a, b] = await Promise.allSettled([engine.sync(), engine.sync()])
    const outcomes = [a.status, b.status].sort()
    expect(outcomes).toEqual(['fulfilled', 'rejected'])
    const rejected = (a.status === 'rejected' ? a : b) as PromiseRejectedResult
    expect(rejected.reason).toMatchObject({ code: 'CONFLICT', retryable: true })
  })

  it('SE5 unchanged files are not re-hashed (size + mtime + inode cache)', async () => {
    const { local, provider } = await setup(30)
    await new SyncEngine({ local, provider }).sync()
    const manifest = await SyncManifest.load(join(local, '.skein/cloud/manifest.json'))
    await writeFile(join(local, 'd0/f0.md'), 'changed')
    const scan = await scanLocal(local, createPathFilter(), manifest, { concurrency: 4 })
    expect(scan.hashed).toBe(1)
    expect(scan.files.size).toBe(30)
  })

  it('SE6 bandwidth limit and concurrency 1 still converge; the manifest is valid JSON', async () => {
    const { local, provider } = await setup(4)
    const r = await new SyncEngine({
      local,
      provider,
      concurrency: 1,
      bandwidthLimit: 1_000_000,
    }).sync()
    expect(r.filesUploaded).toBe(4)
    expect(
      Object.keys(
        (
          JSON.parse(await readFile(join(local, '.skein/cloud/manifest.json'), 'utf8')) as {
            entries: object
          }
        ).entries,
      ),
    ).toHaveLength(4)
  })

  it('SE9 a file deleted on the remote behind its index is found by a listing: at once with remoteIndexMaxAgeMs 0, else once the index is older than the bound', async () => {
    const { local, provider } = await setup(3)
    // mirror: the remote is made identical to the local folder, so a file found missing is uploaded again
    const engine = (o: { remoteIndexMaxAgeMs?: number; clock?: { now(): number } } = {}) =>
      new SyncEngine({ local, provider, mode: 'mirror', ...o })
    await engine().sync()
    await rm(join(provider.root, 'd0/f0.md')) // by hand, not through Skein: the index still lists it
    expect((await engine().sync()).filesUploaded).toBe(0)
    expect(await provider.head('d0/f0.md')).toBeUndefined()
    expect((await engine({ remoteIndexMaxAgeMs: 0 }).sync()).filesUploaded).toBe(1)
    expect(await provider.head('d0/f0.md')).toBeDefined()
    // the same, found by age: a clock a day and a second ahead of the index's time
    await rm(join(provider.root, 'd1/f1.md'))
    const later = { now: () => Date.now() + 24 * 3600_000 + 1000 }
    expect((await engine({ clock: later }).sync()).filesUploaded).toBe(1)
    expect(await readFile(join(provider.root, 'd1/f1.md'), 'utf8')).toBe('file 1\n'.repeat(100))
    expect(() => engine({ remoteIndexMaxAgeMs: -1 })).toThrow(
      /remoteIndexMaxAgeMs is -1; use milliseconds of at least 0/,
    )
  })

  it("SE11 the age that counts is the last full listing's: a busy remote, its index rewritten every run, is still listed once a day", async () => {
    const { local, provider } = await setup(3)
    const at = (offsetMs: number) => ({ now: () => Date.now() + offsetMs })
    const engine = (clock: { now(): number }) =>
      new SyncEngine({ local, provider, mode: 'mirror', clock })
    await engine(at(-23 * 3600_000)).sync() // listed 23 h ago
    await writeFile(join(local, 'd0/new.md'), 'busy')
    expect((await engine(at(0)).sync()).filesUploaded).toBe(1) // rewrites the index now
    await rm(join(provider.root, 'd2/f2.md')) // behind the index's back
    expect((await engine(at(0)).sync()).filesUploaded).toBe(0) // trusted: listed 23 h ago
    expect((await engine(at(2 * 3600_000)).sync()).filesUploaded).toBe(1) // 25 h: listed, found
    expect(await provider.head('d2/f2.md')).toBeDefined()
  })

  it('SE10 two-way: a file deleted on the remote by hand is deleted here once a listing finds it (both sides agree)', async () => {
    const { local, provider } = await setup(3)
    await new SyncEngine({ local, provider }).sync()
    await rm(join(provider.root, 'd2/f2.md'))
    const r = await new SyncEngine({ local, provider, remoteIndexMaxAgeMs: 0 }).sync()
    expect(r.filesDeleted).toBe(1)
    await expect(readFile(join(local, 'd2/f2.md'))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('SE7 the max-delete guard refuses before changing anything; force overrides', async () => {
    const { local, provider } = await setup(4)
    await new SyncEngine({ local, provider }).sync()
    for (const p of ['d0/f0.md', 'd1/f1.md', 'd2/f2.md']) await rm(join(local, p))
    await expect(new SyncEngine({ local, provider }).sync()).rejects.toMatchObject({
      code: 'SAFETY_GUARD',
      message: expect.stringMatching(/3 of 4 remote files/),
    })
    expect(await provider.head('d0/f0.md')).toBeDefined()
    expect((await new SyncEngine({ local, provider, force: true }).sync()).filesDeleted).toBe(3)
  })

  it('SE8 bad options are refused up front, naming the option and the fix; undefined means the default', () => {
    const provider = new FolderProvider('/tmp/unused-skein-se8')
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ mode: 'sideways' }, /option mode is "sideways"; use one of copy, mirror/],
      [{ compare: [] }, /option compare .* non-empty list/],
      [{ keep: 'mine' }, /option keep is "mine"/],
      [{ concurrency: 0 }, /option concurrency is 0; use a whole number of at least 1/],
      [{ maxDeletePercent: 150 }, /option maxDeletePercent is 150/],
      [{ bandwidthLimit: -1 }, /option bandwidthLimit is -1/],
      [{ provider: {} }, /option provider .* lacks list\(\)/],
      [{ local: '' }, /option local is ""/],
    ]
    for (const [bad, message] of cases)
      expect(
        () => new SyncEngine({ local: '/tmp/x', provider, ...bad }),
        JSON.stringify(bad),
      ).toThrow(
        expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringMatching(message) }),
      )
    const e = new SyncEngine({ local: '/tmp/x', provider, mode: undefined, concurrency: undefined })
    expect([e.options.mode, e.options.concurrency]).toEqual(['two-way', 8])
  })
})
