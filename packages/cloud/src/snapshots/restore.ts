import { createWriteStream } from 'node:fs'
import { mkdir, readdir, rename, rm, utimes } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { SkeinError } from '@skein/core'
import { fsError, isNotFound } from '../fs-utils.js'
import { runPool } from '../pool.js'
import { hashTap } from '../streams.js'
import { SnapshotRepo } from './repo.js'
import type { SnapshotFile, SnapshotStoreOptions } from './types.js'

/** Options of {@link restore}. */
export interface RestoreOptions extends SnapshotStoreOptions {
  /** Snapshot id (required; see `listSnapshots`). */
  snapshot: string
  /** Folder to restore into: must not exist or be empty (required). */
  target: string
  /** Only these files or folders (default: everything). */
  paths?: string[]
}

/** What a restore wrote. */
export interface RestoreResult {
  files: number
  bytes: number
}

/** Downloads of one blob before a hash mismatch is taken for a damaged store. */
const BLOB_ATTEMPTS = 3

/**
 * Restores a snapshot into an empty or new folder, verifying every file's
 * sha-256 before it is moved into place. Never writes over existing files. A
 * file whose stored content is missing or damaged is not written; every other
 * file still is, and the restore then fails naming each such file (SN3).
 */
export async function restore(o: RestoreOptions): Promise<RestoreResult> {
  const target = resolve(o.target)
  try {
    const existing = await readdir(target)
    if (existing.length)
      throw new SkeinError(
        'SAFETY_GUARD',
        `Restore target ${target} is not empty (${existing.length} entries); restore into a new or empty folder.`,
      )
  } catch (err) {
    if (!isNotFound(err))
      throw err instanceof SkeinError ? err : fsError(err, 'read the restore target', target)
  }
  const repo = await SnapshotRepo.open(o, false)
  const manifest = await repo.readManifest(o.snapshot)
  const wanted = o.paths?.map((p) => p.replace(/\/+$/, ''))
  const files = wanted
    ? manifest.files.filter((f) => wanted.some((w) => f.path === w || f.path.startsWith(w + '/')))
    : manifest.files
  if (wanted && files.length === 0)
    throw new SkeinError(
      'NOT_FOUND',
      `None of ${JSON.stringify(o.paths)} is in snapshot ${o.snapshot}; check the paths.`,
    )
  const staging = join(target, '.skein-restore')
  await mkdir(staging, { recursive: true })
  let bytes = 0
  /** Files whose stored content is missing or keeps failing its hash: not written, reported at the end. */
  const damaged: { path: string; code: 'CORRUPT' | 'HASH_MISMATCH'; why: string }[] = []
  try {
    await runPool(
      files,
      o.concurrency ?? 8,
      async (f: SnapshotFile, i) => {
        const tmp = join(staging, String(i))
        // A download cut short or damaged on the way is fetched again; only bytes that
        // keep failing their hash mean a damaged store.
        for (let attempt = 1; ; attempt++) {
          const body = await repo.getBlob(f.sha256)
          if (!body) {
            damaged.push({
              path: f.path,
              code: 'CORRUPT',
              why: `blob ${f.sha256.slice(0, 12)}… is missing`,
            })
            return
          }
          const tap = hashTap(body)
          await pipeline(tap.stream, createWriteStream(tmp), { signal: o.signal })
          const got = tap.result()
          if (got.sha256 === f.sha256 && got.size === f.size) break
          if (attempt < BLOB_ATTEMPTS) continue
          await rm(tmp, { force: true })
          damaged.push({
            path: f.path,
            code: 'HASH_MISMATCH',
            why: `got sha-256 ${got.sha256.slice(0, 12)}… instead of ${f.sha256.slice(0, 12)}… in ${BLOB_ATTEMPTS} downloads`,
          })
          return
        }
        const t = new Date(f.mtime)
        await utimes(tmp, t, t)
        const dest = join(target, f.path)
        await mkdir(dirname(dest), { recursive: true })
        await rename(tmp, dest)
        bytes += f.size
      },
      o.signal,
    )
  } finally {
    await rm(staging, { recursive: true, force: true })
  }
  if (damaged.length > 0) {
    damaged.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))
    const shown = damaged.slice(0, 5).map((d) => `${JSON.stringify(d.path)} (${d.why})`)
    if (damaged.length > shown.length) shown.push(`and ${damaged.length - shown.length} more`)
    throw new SkeinError(
      damaged.some((d) => d.code === 'HASH_MISMATCH') ? 'HASH_MISMATCH' : 'CORRUPT',
      `Restored ${files.length - damaged.length} of ${files.length} files of snapshot ${o.snapshot} into ${target}; ` +
        `${damaged.length} could not be, their stored content is missing or damaged (a damaged download is retried ${BLOB_ATTEMPTS} times): ${shown.join(', ')}. ` +
        'Nothing partial was written. Restore those paths from another snapshot (list them with `skein snapshots`; restore with --snapshot ID --path P into another folder).',
      { details: { paths: damaged.map((d) => d.path) } },
    )
  }
  return { files: files.length, bytes }
}
