/**
 * @skein/cloud vs rclone on the same data and targets: 10,000 files / ~110 MB,
 * full sync then incremental syncs with 10 files changed, to a local folder and
 * to s3rver; plus snapshot backup of the same tree with 10 files changed.
 * Ours is timed in-process (no process start-up); rclone as a process (its
 * start-up, ~50 ms, is included in its figures). Our default FolderProvider
 * flushes the filesystem (syncfs) before committing the manifest; rclone never
 * fsyncs, so the like-for-like figure is the "fsync none" one. Full syncs run
 * interleaved (ours, rclone, rclone best; each round into fresh destinations) and
 * the load average is noted, since the bench machine is shared.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { FolderProvider, SyncEngine, backup } from '@skein/cloud'
import type { CloudSyncProvider } from '@skein/cloud'
import { S3Provider } from '@skein/cloud-s3'
import { createRng } from '@skein/core/testing'
import { startS3rver } from '../src/helpers/s3rver.js'
import { defineScenarios } from './harness.js'
import type { BenchContext, Metric } from './harness.js'

const FILES = 10_000
const CHANGED = 10
const INCREMENTAL_RUNS = 3
/** Full syncs per side, interleaved (a full sync to s3rver takes ~20 s). */
const FULL_RUNS = process.env.SKEIN_BENCH_FULL === '1' ? 3 : 2

/** 10,000 files in 100 folders, 1–21 KB each (~110 MB). */
async function makeTree(dir: string): Promise<string[]> {
  const rng = createRng(42)
  const paths: string[] = []
  for (let d = 0; d < 100; d++) {
    await mkdir(join(dir, `dir${d}`), { recursive: true })
    const batch: Promise<void>[] = []
    for (let f = 0; f < FILES / 100; f++) {
      const p = `dir${d}/note${f}.md`
      paths.push(p)
      batch.push(writeFile(join(dir, p), randomBytes(1024 + rng.int(20 * 1024))))
    }
    await Promise.all(batch)
  }
  return paths
}

async function changeSome(dir: string, paths: string[], round: number): Promise<void> {
  for (let i = 0; i < CHANGED; i++)
    await writeFile(
      join(dir, paths[(round * 997 + i * 613) % paths.length]!),
      randomBytes(8 * 1024),
    )
}

/** Installs rclone with apt when missing; returns false if that is impossible. */
function ensureRclone(ctx: BenchContext): boolean {
  if (spawnSync('rclone', ['version']).status === 0) return true
  ctx.log('installing rclone (apt-get)')
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'ignore' })
  spawnSync('apt-get', ['install', '-y', '-qq', 'rclone'], { stdio: 'ignore' })
  return spawnSync('rclone', ['version']).status === 0
}

function rclone(args: string[], env: Record<string, string> = {}): number {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env }
  delete e.AWS_CA_BUNDLE
  const t0 = performance.now()
  const r = spawnSync('rclone', args, { env: e, encoding: 'utf8' })
  const ms = performance.now() - t0
  if (r.status !== 0) throw new Error(`rclone ${args.join(' ')} failed: ${r.stderr}`)
  return ms
}

async function timeSync(engine: SyncEngine): Promise<number> {
  const t0 = performance.now()
  const r = await engine.sync()
  const ms = performance.now() - t0
  if (!r.success) throw new Error(`sync failed: ${JSON.stringify(r.errors.slice(0, 3))}`)
  return ms
}

/** One round's destinations: fresh and empty, so every full sync starts from nothing. */
interface Destinations {
  ours: CloudSyncProvider
  oursNoFsync?: CloudSyncProvider
  rcloneDefault: string
  rcloneBest: string
}

interface Target {
  label: string
  /** Fresh destinations for round `round`. */
  dest(round: number): Destinations
  env: Record<string, string>
  stop?: () => Promise<void>
}

const load = () => loadavg()[0]!.toFixed(2)

async function compare(ctx: BenchContext, makeTarget: (tmp: string) => Promise<Target>) {
  const tmp = await ctx.tmpDir()
  const src = join(tmp, 'src')
  ctx.log(`generating ${FILES} files`)
  const paths = await makeTree(src)
  const t = await makeTarget(tmp)
  const haveRclone = ensureRclone(ctx)
  const notes = [`load average (1 min) at start: ${load()}`]
  const engineFor = (provider: CloudSyncProvider, state: string, mode: 'mirror' | 'two-way') =>
    new SyncEngine({
      local: src,
      provider,
      mode,
      manifest: join(tmp, state, 'manifest.json'),
      concurrency: 16,
    })
  const metric = (name: string, peers = true): Metric => ({
    name,
    unit: 'ms',
    samples: [],
    ...(peers ? { peers: {} } : {}),
  })
  const full = metric(`${t.label} full sync (${FILES} files)`)
  const fullNoFsync = metric(`${t.label} full sync, fsync none (${FILES} files)`)
  const inc = metric(`${t.label} incremental, ${CHANGED} changed`)
  const incTwo = metric(`${t.label} incremental two-way, ${CHANGED} changed`, false)
  const DEFAULT = 'rclone'
  const BEST = 'rclone --checksum --fast-list'
  // Full syncs interleaved, ours then rclone's, each round into fresh destinations,
  // so a change in machine load hits both sides alike.
  let last: Destinations | undefined
  let lastRound = 0
  for (let round = 0; round < FULL_RUNS; round++) {
    const d = t.dest(round)
    last = d
    lastRound = round
    ctx.log(`round ${round + 1}/${FULL_RUNS}: ours, full sync to ${t.label} (load ${load()})`)
    full.samples.push(await timeSync(engineFor(d.ours, `state-${round}`, 'mirror')))
    if (d.oursNoFsync)
      fullNoFsync.samples.push(
        await timeSync(engineFor(d.oursNoFsync, `state-nofsync-${round}`, 'mirror')),
      )
    if (haveRclone) {
      ctx.log(`round ${round + 1}/${FULL_RUNS}: rclone full sync (defaults, then best)`)
      ;(full.peers![DEFAULT] ??= []).push(rclone(['sync', src, d.rcloneDefault], t.env))
      ;(full.peers![BEST] ??= []).push(
        rclone(['sync', '--checksum', '--fast-list', src, d.rcloneBest], t.env),
      )
    }
  }
  fullNoFsync.peers = full.peers
  notes.push(`load average (1 min) after the full syncs: ${load()}`)
  const engine = engineFor(last!.ours, `state-${lastRound}`, 'mirror')
  const two = engineFor(last!.ours, `state-${lastRound}`, 'two-way')
  for (let round = 0; round < INCREMENTAL_RUNS; round++) {
    await changeSome(src, paths, round)
    inc.samples.push(await timeSync(engine))
    if (haveRclone) {
      ;(inc.peers![DEFAULT] ??= []).push(rclone(['sync', src, last!.rcloneDefault], t.env))
      ;(inc.peers![BEST] ??= []).push(
        rclone(['sync', '--checksum', '--fast-list', src, last!.rcloneBest], t.env),
      )
    }
  }
  for (let round = 0; round < INCREMENTAL_RUNS; round++) {
    await changeSome(src, paths, round + 10)
    incTwo.samples.push(await timeSync(two))
  }
  await t.stop?.()
  notes.push(`load average (1 min) at end: ${load()}`)
  if (!haveRclone) notes.push('rclone unavailable: peer figures missing')
  return {
    metrics: fullNoFsync.samples.length ? [full, fullNoFsync, inc, incTwo] : [full, inc, incTwo],
    notes,
  }
}

export default defineScenarios(
  {
    name: 'cloud-sync-folder',
    description: `SyncEngine (mirror) vs rclone sync: ${FILES} files ~110 MB to a local folder, then ${CHANGED} changed`,
    run: (ctx) =>
      compare(ctx, async (tmp) => ({
        label: 'folder',
        dest: (r) => ({
          ours: new FolderProvider(join(tmp, `dst-ours-${r}`)),
          oursNoFsync: new FolderProvider(join(tmp, `dst-ours-nofsync-${r}`), { fsync: 'none' }),
          rcloneDefault: join(tmp, `dst-rclone-${r}`),
          rcloneBest: join(tmp, `dst-rclone-best-${r}`),
        }),
        env: {},
      })),
  },
  {
    name: 'cloud-sync-s3',
    description: `SyncEngine (mirror) vs rclone sync: ${FILES} files ~110 MB to s3rver, then ${CHANGED} changed`,
    run: (ctx) =>
      compare(ctx, async () => {
        const s3 = await startS3rver({
          buckets: ['bench-ours', 'bench-rclone', 'bench-rclone-best'],
        })
        const ours: S3Provider[] = []
        return {
          label: 's3rver',
          dest: (r) => {
            const p = new S3Provider({
              bucket: 'bench-ours',
              prefix: `r${r}/`,
              endpoint: s3.endpoint,
              credentials: s3.credentials,
            })
            ours.push(p)
            return {
              ours: p,
              rcloneDefault: `s3r:bench-rclone/r${r}`,
              rcloneBest: `s3r:bench-rclone-best/r${r}`,
            }
          },
          env: {
            RCLONE_CONFIG_S3R_TYPE: 's3',
            RCLONE_CONFIG_S3R_PROVIDER: 'Other',
            RCLONE_CONFIG_S3R_ENDPOINT: s3.endpoint,
            RCLONE_CONFIG_S3R_ACCESS_KEY_ID: s3.credentials.accessKeyId,
            RCLONE_CONFIG_S3R_SECRET_ACCESS_KEY: s3.credentials.secretAccessKey,
            RCLONE_CONFIG_S3R_FORCE_PATH_STYLE: 'true',
            RCLONE_S3_NO_CHECK_BUCKET: 'true',
          },
          stop: async () => {
            await Promise.all(ours.map((p) => p.close()))
            await s3.stop()
          },
        }
      }),
  },
  {
    name: 'cloud-snapshot-backup',
    description: `snapshot backup of ${FILES} files ~110 MB (full), then with ${CHANGED} changed; folder and s3rver stores`,
    run: async (ctx) => {
      const tmp = await ctx.tmpDir()
      const src = join(tmp, 'src')
      const paths = await makeTree(src)
      const s3 = await startS3rver({ buckets: ['bench-snap'] })
      const metrics: Metric[] = []
      const notes = [`load average (1 min) at start: ${load()}`]
      try {
        for (const [label, provider] of [
          ['folder', new FolderProvider(join(tmp, 'repo'))],
          [
            's3rver',
            new S3Provider({
              bucket: 'bench-snap',
              endpoint: s3.endpoint,
              credentials: s3.credentials,
            }),
          ],
        ] as const) {
          const full: Metric = { name: `${label} backup, full`, unit: 'ms', samples: [] }
          const inc: Metric = {
            name: `${label} backup, ${CHANGED} changed`,
            unit: 'ms',
            samples: [],
          }
          let t0 = performance.now()
          await backup({ source: src, provider, concurrency: 16 })
          full.samples.push(performance.now() - t0)
          for (let round = 0; round < INCREMENTAL_RUNS; round++) {
            await changeSome(src, paths, round + (label === 'folder' ? 0 : 20))
            t0 = performance.now()
            const r = await backup({ source: src, provider, concurrency: 16 })
            inc.samples.push(performance.now() - t0)
            if (r.blobsUploaded !== CHANGED)
              throw new Error(`expected ${CHANGED} new blobs, got ${r.blobsUploaded}`)
          }
          metrics.push(full, inc)
        }
      } finally {
        await s3.stop()
      }
      notes.push(`load average (1 min) at end: ${load()}`)
      return { metrics, notes }
    },
  },
)
