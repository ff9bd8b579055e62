import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { resolve, join } from 'node:path'
import { SkeinError, compactTimestamp, isSkeinError } from '@skein/core'
import { fsError, isNotFound } from '../fs-utils.js'
import { loadPathFilter } from '../ignore-rules.js'
import { scanLocal } from '../local-scan.js'
import { SyncManifest } from '../manifest.js'
import { runPool } from '../pool.js'
import { sleep } from '../retry.js'
import { SnapshotRepo, infoOf } from './repo.js'
import type { SnapshotFile, SnapshotInfo, SnapshotManifest, SnapshotStoreOptions } from './types.js'

/** Options of {@link backup}. */
export interface BackupOptions extends SnapshotStoreOptions {
  /** Folder to back up (required). */
  source: string
  /** Label stored with the snapshot (default: the source path). */
  label?: string
  /** Extra ignore patterns on top of the defaults and `.skeinignore`. */
  ignore?: string[]
  /** Locks older than this are ignored as left by a crash (default 24 h). */
  lockStaleMs?: number
}

/** What a backup did. */
export interface BackupResult {
  snapshot: SnapshotInfo
  /** Blobs uploaded (new content). */
  blobsUploaded: number
  bytesUploaded: number
  /** Files hashed (the rest came from the previous snapshot's size+mtime cache). */
  filesHashed: number
}

const LOCK_STALE_MS = 24 * 3600_000

/**
 * Creates a snapshot of `source`: uploads only content not already stored
 * (deduplicated across files and snapshots), then the manifest. Cost is
 * proportional to what changed since the previous snapshot.
 */
export async function backup(o: BackupOptions): Promise<BackupResult> {
  // a mistyped source must not become an empty "latest" snapshot
  const where = resolve(o.source)
  const kind = await stat(where).then(
    (s) => (s.isDirectory() ? 'folder' : 'not a folder'),
    (err: unknown) => {
      if (isNotFound(err)) return 'missing'
      throw fsError(err, 'read the backup source', where)
    },
  )
  if (kind !== 'folder')
    throw new SkeinError(
      'INVALID_INPUT',
      `Backup source ${where} ${kind === 'missing' ? 'does not exist' : 'is not a folder'}; give the folder to back up (nothing was written).`,
    )
  const repo = await SnapshotRepo.open(o, true)
  const lock = await lockForBackup(repo, o.lockStaleMs ?? LOCK_STALE_MS)
  try {
    const source = resolve(o.source)
    const prev = await newestSnapshot(repo)
    // The previous snapshot doubles as the re-hash cache (size + mtime) and as the set of stored blobs.
    const cache = SyncManifest.empty(join(source, '.skein', 'snapshot-cache.json'))
    const known = new Set<string>()
    for (const f of prev?.files ?? []) {
      known.add(f.sha256)
      cache.set(f.path, {
        localHash: f.sha256,
        remoteHash: f.sha256,
        localModified: f.mtime,
        remoteModified: f.mtime,
        size: f.size,
      })
    }
    const filter = await loadPathFilter(source, o.ignore)
    const scan = await scanLocal(source, filter, cache, {
      concurrency: o.concurrency ?? 8,
      signal: o.signal,
    })
    const files: SnapshotFile[] = [...scan.files.values()]
      .map((f) => ({ path: f.path, sha256: f.sha256, size: f.size, mtime: f.mtimeMs }))
      .sort((a, b) => (a.path < b.path ? -1 : 1))
    const todo = new Map<string, SnapshotFile>()
    for (const f of files) if (!known.has(f.sha256) && !todo.has(f.sha256)) todo.set(f.sha256, f)
    let blobsUploaded = 0
    let bytesUploaded = 0
    // Many new blobs (a first backup): one listing beats a HEAD per blob.
    const stored = todo.size > 1000 ? await repo.storedBlobKeys() : undefined
    await runPool(
      [...todo.values()],
      o.concurrency ?? 8,
      async (f) => {
        if (stored ? stored.has(repo.blobKey(f.sha256)) : await repo.hasBlob(f.sha256)) return
        await repo.putBlob(f.sha256, f.size, f.mtime, () =>
          createReadStream(join(source, scan.files.get(f.path)?.fsPath ?? f.path), {
            highWaterMark: 1 << 20,
          }),
        )
        blobsUploaded++
        bytesUploaded += f.size
      },
      o.signal,
    )
    await o.provider.flush?.({ signal: o.signal }) // blobs durable before the manifest names them
    const time = Date.now()
    const manifest: SnapshotManifest = {
      version: 1,
      id: `${compactTimestamp(time)}-${String(time % 1000).padStart(3, '0')}-${randomBytes(3).toString('hex')}`,
      time,
      label: o.label ?? source,
      ...(prev ? { previous: prev.id } : {}),
      files,
    }
    await repo.putManifest(manifest)
    // After the manifest, so the pointer never names a snapshot that does not exist yet.
    await repo.putLatest(manifest.id, time)
    return { snapshot: infoOf(manifest), blobsUploaded, bytesUploaded, filesHashed: scan.hashed }
  } finally {
    await repo.unlock(lock)
  }
}

/**
 * The newest snapshot: the newest listed, or the one `snapshots/LATEST` names when the
 * listing left that out (an incomplete listing must not break the predecessor chain
 * prune checks, nor lose the re-hash cache). Undefined in an empty repository.
 */
async function newestSnapshot(repo: SnapshotRepo): Promise<SnapshotManifest | undefined> {
  const ids = await repo.snapshotIds()
  const listed = ids[ids.length - 1]
  // A damaged pointer does not block backups: this backup writes it again.
  const latest = await repo.latestId().catch((e: unknown) => {
    if (isSkeinError(e, 'CORRUPT')) return undefined
    throw e
  })
  if (latest !== undefined && (listed === undefined || latest > listed)) {
    const m = await repo.findManifest(latest) // undefined: the pointer outlived its snapshot
    if (m) return m
  }
  return listed === undefined ? undefined : repo.readManifest(listed)
}

/** Takes a backup lock; waits (a few times) while a prune holds the repository. */
async function lockForBackup(repo: SnapshotRepo, staleMs: number): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    const key = await repo.lock('backup')
    const others = await repo.otherLocks(key, staleMs)
    const prune = others.find((l) => l.kind === 'prune')
    if (!prune) return key
    await repo.unlock(key)
    if (attempt >= 5)
      throw new SkeinError(
        'CONFLICT',
        `A prune is running on ${repo.provider.name} (lock ${prune.key}); retry the backup later, or delete that lock if no prune is running.`,
        { retryable: true },
      )
    await sleep(200 * 2 ** attempt, repo.signal)
  }
}
