/**
 * @skein/cloud vs rclone on the same data and targets: 10,000 files / ~110 MB,
 * full sync then incremental syncs with 10 files changed, to a local folder and
 * to s3rver; plus snapshot backup of the same tree with 10 files changed.
 * Ours is timed in-process (no process start-up); rclone as a process (its
 * start-up, ~50 ms, is included in its figures). Our default FolderProvider
 * flushes the filesystem (syncfs) before committing the manifest; rclone never
 * fsyncs, so the like-for-like figure is the "fsync none" one.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
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

interface Target {
  label: string
  ours: CloudSyncProvider
  oursNoFsync?: CloudSyncProvider
  rcloneDefault: string
  rcloneBest: string
  env: Record<string, string>
}

async function compare(
  ctx: BenchContext,
  makeTarget: (tmp: string) => Promise<Target & { stop?: () => Promise<void> }>,
) {
  const tmp = await ctx.tmpDir()
  const src = join(tmp, 'src')
  ctx.log(`generating ${FILES} files`)
  const paths = await makeTree(src)
  const t = await makeTarget(tmp)
  const haveRclone = ensureRclone(ctx)
  const engine = new SyncEngine({
    local: src,
    provider: t.ours,
    mode: 'mirror',
    manifest: join(tmp, 'state', 'manifest.json'),
    concurrency: 16,
  })
  const two = new SyncEngine({
    local: src,
    provider: t.ours,
    mode: 'two-way',
    manifest: join(tmp, 'state', 'manifest.json'),
    concurrency: 16,
  })
  const full: Metric = {
    name: `${t.label} full sync (${FILES} files)`,
    unit: 'ms',
    samples: [],
    peers: {},
  }
  const inc: Metric = {
    name: `${t.label} incremental, ${CHANGED} changed`,
    unit: 'ms',
    samples: [],
    peers: {},
  }
  const incTwo: Metric = {
    name: `${t.label} incremental two-way, ${CHANGED} changed`,
    unit: 'ms',
    samples: [],
  }
  ctx.log(`ours: full sync to ${t.label}`)
  full.samples.push(await timeSync(engine))
  let fullNoFsync: Metric | undefined
  if (t.oursNoFsync) {
    // Like for like with rclone, which never fsyncs: same engine, no durability flush.
    fullNoFsync = {
      name: `${t.label} full sync, fsync none (${FILES} files)`,
      unit: 'ms',
      samples: [],
      peers: {},
    }
    const e = new SyncEngine({
      local: src,
      provider: t.oursNoFsync,
      mode: 'mirror',
      manifest: join(tmp, 'state-nofsync', 'manifest.json'),
      concurrency: 16,
    })
    fullNoFsync.samples.push(await timeSync(e))
  }
  if (haveRclone) {
    ctx.log('rclone: full sync (defaults, then --checksum --fast-list)')
    full.peers!.rclone = [rclone(['sync', src, t.rcloneDefault], t.env)]
    full.peers!['rclone --checksum --fast-list'] = [
      rclone(['sync', '--checksum', '--fast-list', src, t.rcloneBest], t.env),
    ]
    if (fullNoFsync) fullNoFsync.peers = { ...full.peers }
    inc.peers!.rclone = []
    inc.peers!['rclone --checksum --fast-list'] = []
  }
  for (let round = 0; round < INCREMENTAL_RUNS; round++) {
    await changeSome(src, paths, round)
    inc.samples.push(await timeSync(engine))
    if (haveRclone) {
      inc.peers!.rclone!.push(rclone(['sync', src, t.rcloneDefault], t.env))
      inc.peers!['rclone --checksum --fast-list']!.push(
        rclone(['sync', '--checksum', '--fast-list', src, t.rcloneBest], t.env),
      )
    }
  }
  for (let round = 0; round < INCREMENTAL_RUNS; round++) {
    await changeSome(src, paths, round + 10)
    incTwo.samples.push(await timeSync(two))
  }
  await t.stop?.()
  return {
    metrics: fullNoFsync ? [full, fullNoFsync, inc, incTwo] : [full, inc, incTwo],
    notes: haveRclone ? [] : ['rclone unavailable: peer figures missing'],
  }
}

export default defineScenarios(
  {
    name: 'cloud-sync-folder',
    description: `SyncEngine (mirror) vs rclone sync: ${FILES} files ~110 MB to a local folder, then ${CHANGED} changed`,
    run: (ctx) =>
      compare(ctx, async (tmp) => ({
        label: 'folder',
        ours: new FolderProvider(join(tmp, 'dst-ours')),
        oursNoFsync: new FolderProvider(join(tmp, 'dst-ours-nofsync'), { fsync: 'none' }),
        rcloneDefault: join(tmp, 'dst-rclone'),
        rcloneBest: join(tmp, 'dst-rclone-best'),
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
        const ours = new S3Provider({
          bucket: 'bench-ours',
          endpoint: s3.endpoint,
          credentials: s3.credentials,
        })
        return {
          label: 's3rver',
          ours,
          rcloneDefault: 's3r:bench-rclone',
          rcloneBest: 's3r:bench-rclone-best',
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
            await ours.close()
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
      return { metrics }
    },
  },
)
