/**
 * Provider faults of the chaos catalogue (issue 9): snapshots of a chaos
 * world's folder to a real S3-compatible server (s3rver) through a provider
 * that injects 5xx, throttling and timeouts, truncated downloads, and listings
 * that leave objects out. Each backup or restore either completes correctly or
 * fails with a clear, classified error; a later run completes; and every
 * snapshot restores byte-identical to the folder at the time it was taken.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listSnapshots, prune } from '@skein/cloud'
import type { CloudSyncProvider } from '@skein/cloud'
import { FaultyProvider } from '@skein/cloud/testing'
import type { FaultPlan } from '@skein/cloud/testing'
import { S3Provider } from '@skein/cloud-s3'
import { isSkeinError } from '@skein/core'
import type { Rng } from '@skein/core/testing'
import { startS3rver } from '../helpers/s3rver.js'
import type { S3rverHandle } from '../helpers/s3rver.js'
import { checkRestore, snapshotOf, type Checkpoint } from './oracle.js'
import { runScenario, summary } from './run.js'
import { fileOps, settle } from './scenario-helpers.js'
import type { ChaosWorld } from './world.js'

let s3rver: S3rverHandle
let bucketPrefix = 0
const providers: S3Provider[] = []
beforeAll(async () => {
  s3rver = await startS3rver()
})
afterAll(async () => {
  await Promise.all(providers.map((p) => p.close()))
  await s3rver.stop()
})

/** A real S3 provider on its own prefix of the test bucket. */
function s3(): S3Provider {
  const p = new S3Provider({
    bucket: 'skein-test',
    prefix: `chaos-${process.pid}-${++bucketPrefix}/`,
    endpoint: s3rver.endpoint,
    credentials: s3rver.credentials,
    requestTimeoutMs: 5000,
  })
  providers.push(p)
  return p
}

/** Faults seen by one scenario: every failed run's error, and what the wrappers injected. */
class Faults {
  readonly failures: string[] = []
  readonly wrappers: FaultyProvider[] = []
  constructor(
    private readonly world: ChaosWorld,
    private readonly rng: Rng,
  ) {}

  /**
   * A fresh fault-injecting wrapper around `inner` (it does not own it: closing it is a
   * no-op), its draws seeded from the scenario's seed so a replay injects the same faults.
   */
  wrap(inner: CloudSyncProvider, plan: Partial<FaultPlan>): FaultyProvider {
    const p = new FaultyProvider(unclosable(inner), { seed: this.rng.int(2 ** 31), ...plan })
    this.wrappers.push(p)
    return p
  }

  get injected(): number {
    return this.wrappers.reduce(
      (n, w) => n + Object.values(w.injected).reduce((a, b) => a + b, 0),
      0,
    )
  }

  /**
   * Runs `op` until a run completes (at most `attempts`). A failed run must be a
   * classified SkeinError whose message says what failed — never a bare
   * SyntaxError or TypeError from bytes the provider damaged.
   */
  async untilDone<T>(
    what: string,
    attempts: number,
    op: (attempt: number) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op(attempt)
      } catch (e) {
        const line = `${what} run ${attempt}: ${e instanceof Error ? `${e.name} ${(e as { code?: string }).code ?? ''} ${e.message}` : String(e)}`
        this.world.note(line)
        this.failures.push(line)
        expect(isSkeinError(e), `${what}: an unclassified error\n${line}`).toBe(true)
        expect((e as Error).message.length, line).toBeGreaterThan(30)
        if (attempt >= attempts) throw e
      }
    }
  }
}

/** `inner` with a no-op close (the wrappers share one real provider). */
function unclosable(inner: CloudSyncProvider): CloudSyncProvider {
  return {
    name: inner.name,
    list: (prefix, o) => inner.list(prefix, o),
    head: (key, o) => inner.head(key, o),
    download: (key, o) => inner.download(key, o),
    upload: (key, body, meta, o) => inner.upload(key, body, meta, o),
    delete: (key, o) => inner.delete(key, o),
  }
}

const root = (world: ChaosWorld) => world.devices[0]?.root ?? ''

describe('chaos: provider faults during backup and restore (s3rver)', () => {
  it('S3 5xx, throttling and timeouts: every run completes or fails clearly, every snapshot restores byte-identical', async () => {
    let faults: Faults | undefined
    const r = await runScenario(
      'S3 5xx, throttling and timeouts',
      { devices: 2 },
      async ({ world, history, rng }) => {
        const f = (faults = new Faults(world, rng))
        const store = s3()
        // The first run of each operation gets a storm (it may well fail), later runs a drizzle.
        const faulty = (attempt: number) =>
          f.wrap(store, {
            rate: attempt === 1 ? 0.6 : 0.15,
            kinds: ['server-error', 'throttle', 'timeout'],
            delayMs: 10,
          })
        const checkpoints: Checkpoint[] = []
        for (let round = 1; round <= 2; round++) {
          await fileOps(history, rng, 12)
          await settle(world, `before backup ${round}`)
          checkpoints.push(
            await f.untilDone(`backup ${round}`, 6, (a) =>
              snapshotOf(world, root(world), { provider: faulty(a) }),
            ),
          )
        }
        for (const [i, cp] of checkpoints.entries())
          expect(
            await f.untilDone(`restore ${i + 1}`, 6, (a) =>
              checkRestore(world, cp, { provider: faulty(a) }),
            ),
          ).toEqual([])
        expect(f.injected, 'no fault was injected: the test proves nothing').toBeGreaterThan(10)
      },
    )
    console.log(summary(r), `faults injected: ${faults?.injected}`)
    if (faults?.failures.length) console.log(`[chaos] failed runs:\n${faults.failures.join('\n')}`)
    expect(r.violations, `${summary(r)}\n${r.violations.join('\n')}`).toEqual([])
  }, 120_000)

  it('truncated and corrupted downloads: backups and restores complete or fail clearly, and restore byte-identical', async () => {
    let faults: Faults | undefined
    const r = await runScenario(
      'truncated downloads',
      { devices: 2 },
      async ({ world, history, rng }) => {
        const f = (faults = new Faults(world, rng))
        const store = s3()
        const checkpoints: Checkpoint[] = []
        await fileOps(history, rng, 12)
        await settle(world, 'before backup 1')
        checkpoints.push(await snapshotOf(world, root(world), { provider: store }))
        await fileOps(history, rng, 10)
        await settle(world, 'before backup 2')
        // A backup reads the repository's config, the previous manifest and other locks:
        // its first downloads come back cut short, then some at random.
        checkpoints.push(
          await f.untilDone('backup 2', 6, (a) => {
            const p = f.wrap(store, { rate: a === 1 ? 0 : 0.3, kinds: ['truncate', 'corrupt'] })
            if (a === 1) p.inject('download', 'truncate', 2)
            return snapshotOf(world, root(world), { provider: p })
          }),
        )
        for (const [i, cp] of checkpoints.entries())
          expect(
            await f.untilDone(`restore ${i + 1}`, 8, (a) => {
              const p = f.wrap(store, { rate: a === 1 ? 0.5 : 0.1, kinds: ['truncate', 'corrupt'] })
              if (a === 1) p.inject('download', 'truncate', 1)
              return checkRestore(world, cp, { provider: p })
            }),
          ).toEqual([])
        expect(f.injected, 'no fault was injected: the test proves nothing').toBeGreaterThan(2)
      },
    )
    console.log(summary(r), `faults injected: ${faults?.injected}`)
    if (faults?.failures.length) console.log(`[chaos] failed runs:\n${faults.failures.join('\n')}`)
    expect(r.violations, `${summary(r)}\n${r.violations.join('\n')}`).toEqual([])
  }, 120_000)

  it('a listing that omits objects: backups still complete and every snapshot restores byte-identical', async () => {
    const r = await runScenario(
      'a listing that omits objects',
      { devices: 2 },
      async ({ world, history, rng }) => {
        const f = new Faults(world, rng)
        const store = s3()
        const checkpoints: Checkpoint[] = []
        for (let round = 1; round <= 2; round++) {
          await fileOps(history, rng, 10)
          await settle(world, `before backup ${round}`)
          checkpoints.push(await snapshotOf(world, root(world), { provider: store }))
        }
        // The listing now leaves out the newest manifest, half the blobs and every lock.
        const all: string[] = []
        for await (const o of store.list('')) all.push(o.key)
        const hidden = all.filter(
          (k, i) =>
            k === `snapshots/${checkpoints[1]?.snapshot}.json` ||
            k.startsWith('locks/') ||
            (k.startsWith('blobs/') && i % 2 === 0),
        )
        world.note(`-- listing hides ${hidden.length} of ${all.length} objects`)
        const omitting = f.wrap(store, {}).hideFromListing(hidden)
        await fileOps(history, rng, 10)
        await settle(world, 'before backup 3')
        checkpoints.push(await snapshotOf(world, root(world), { provider: omitting }))
        for (const cp of checkpoints)
          expect(await checkRestore(world, cp, { provider: omitting })).toEqual([])
        const listed = (await listSnapshots({ provider: omitting })).map((s) => s.id)
        world.note(`-- listed snapshots: ${listed.join(', ')}`)
        expect(listed).toContain(checkpoints[2]?.snapshot)
        expect(listed, 'the listing fault was not active').not.toContain(checkpoints[1]?.snapshot)
      },
    )
    console.log(summary(r))
    expect(r.violations, `${summary(r)}\n${r.violations.join('\n')}`).toEqual([])
  }, 120_000)

  // Seed 1222137072 (test/artifacts/chaos-1222137072.log) once showed prune trusting such a
  // listing and deleting the blobs only the unseen newest snapshot used. Prune now checks the
  // listing against snapshots/LATEST and each manifest's predecessor, read by key (SN8).
  it('a listing that omits the newest manifest during a prune: every kept snapshot still restores', async () => {
    const r = await runScenario(
      'prune under a listing that omits objects',
      { devices: 2 },
      async ({ world, history, rng }) => {
        const f = new Faults(world, rng)
        const store = s3()
        const checkpoints: Checkpoint[] = []
        for (let round = 1; round <= 3; round++) {
          await fileOps(history, rng, 8)
          await history.one('binary', 0) // new content in every snapshot
          await settle(world, `before backup ${round}`)
          checkpoints.push(await snapshotOf(world, root(world), { provider: store }))
        }
        const newest = checkpoints[2]
        const omitting = f
          .wrap(store, {})
          .hideFromListing([`snapshots/${newest?.snapshot ?? '?'}.json`])
        const res = await f
          .untilDone('prune', 1, () => prune({ provider: omitting, keepLast: 2 }))
          .catch((e: unknown) => e)
        world.note(`-- prune: ${res instanceof Error ? res.message : JSON.stringify(res)}`)
        // Whatever the prune decided, the newest snapshot (which it never saw) must restore.
        if (newest) expect(await checkRestore(world, newest, { provider: store })).toEqual([])
      },
    )
    console.log(summary(r))
    expect(r.violations, `${summary(r)}\n${r.violations.join('\n')}`).toEqual([])
  }, 120_000)
})
