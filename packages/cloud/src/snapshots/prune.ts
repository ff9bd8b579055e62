import { SkeinError } from '@skein/core'
import { runPool } from '../pool.js'
import { SnapshotRepo, infoOf } from './repo.js'
import type { SnapshotInfo, SnapshotManifest, SnapshotStoreOptions } from './types.js'

/** Retention policy and options of {@link prune}. */
export interface PruneOptions extends SnapshotStoreOptions {
  /** Keep the newest N snapshots. */
  keepLast?: number
  /** Keep the newest snapshot of each of the last N days that have one (UTC). */
  keepDaily?: number
  /** Keep the newest snapshot of each of the last N ISO weeks that have one (UTC). */
  keepWeekly?: number
  /** Report only (default false). */
  dryRun?: boolean
  /** Locks older than this are ignored as left by a crash (default 24 h). */
  lockStaleMs?: number
}

/** What a prune removed. */
export interface PruneResult {
  kept: SnapshotInfo[]
  removed: string[]
  blobsDeleted: number
}

const day = (t: number) => new Date(t).toISOString().slice(0, 10)
function isoWeek(t: number): string {
  const d = new Date(t)
  d.setUTCDate(d.getUTCDate() + 4 - (d.getUTCDay() || 7))
  const y = d.getUTCFullYear()
  return `${y}-W${Math.ceil(((d.getTime() - Date.UTC(y, 0, 1)) / 86_400_000 + 1) / 7)}`
}

/** The ids a policy keeps, from snapshots sorted oldest first. The newest is always kept. */
export function selectKept(
  snaps: readonly { id: string; time: number }[],
  o: Pick<PruneOptions, 'keepLast' | 'keepDaily' | 'keepWeekly'>,
): Set<string> {
  const newestFirst = [...snaps].sort((a, b) => b.time - a.time)
  const keep = new Set<string>(newestFirst.slice(0, Math.max(1, o.keepLast ?? 0)).map((s) => s.id))
  for (const [n, bucket] of [
    [o.keepDaily ?? 0, day],
    [o.keepWeekly ?? 0, isoWeek],
  ] as const) {
    const seen = new Set<string>()
    for (const s of newestFirst) {
      if (seen.size >= n) break
      const b = bucket(s.time)
      if (!seen.has(b)) {
        seen.add(b)
        keep.add(s.id)
      }
    }
  }
  return keep
}

/**
 * Snapshots that exist but the listing left out: the one `snapshots/LATEST` names and the
 * predecessor each listed snapshot names, when a read by key (HEAD) finds them. Those named
 * but gone (pruned before, or a pointer from before a manual delete) are fine.
 *
 * Why these: the listing is the only source of "every snapshot", and a listing can leave
 * out objects. The pointer covers the newest snapshot (the one a listing is most likely to
 * miss right after a backup); the predecessor links cover older ones, since each backup
 * names the snapshot before it (found through the pointer when its own listing missed it).
 * A hidden run of snapshots is caught through its newest member. Not caught: a hidden
 * snapshot nothing names, e.g. one of two backups that ran at the same time (both name the
 * same predecessor, and the pointer names only the newer).
 *
 * Not chosen: a grace period (keep blobs newer than the newest listed manifest). The
 * provider interface has no upload time (an object's `mtime` is its source file's), and
 * blobs are deduplicated, so an old blob can be the only copy a new snapshot uses.
 */
async function unlistedSnapshots(
  repo: SnapshotRepo,
  manifests: readonly SnapshotManifest[],
  concurrency: number,
): Promise<string[]> {
  const listed = new Set(manifests.map((m) => m.id))
  const named = new Set<string>()
  const latest = await repo.latestId()
  if (latest !== undefined) named.add(latest)
  for (const m of manifests) if (m.previous !== undefined) named.add(m.previous)
  const unlisted: string[] = []
  await runPool(
    [...named].filter((id) => !listed.has(id)),
    concurrency,
    async (id) => {
      if (await repo.hasManifest(id)) unlisted.push(id)
    },
    repo.signal,
  )
  return unlisted.sort()
}

/**
 * Deletes snapshots the policy does not keep, then blobs no kept snapshot
 * references. Holds an exclusive lock: refuses while a backup runs (a backup
 * may rely on blobs that no manifest references yet). Refuses (`SAFETY_GUARD`,
 * deleting nothing) when the listing is found incomplete: see {@link unlistedSnapshots}.
 */
export async function prune(o: PruneOptions): Promise<PruneResult> {
  if (!o.keepLast && !o.keepDaily && !o.keepWeekly)
    throw new SkeinError(
      'INVALID_INPUT',
      'prune needs a retention policy (keepLast, keepDaily or keepWeekly); refusing to guess.',
    )
  const repo = await SnapshotRepo.open(o, false)
  const lock = await repo.lock('prune')
  try {
    const others = await repo.otherLocks(lock, o.lockStaleMs ?? 24 * 3600_000)
    if (others.length)
      throw new SkeinError(
        'CONFLICT',
        `Prune refused: ${others.map((l) => l.kind).join(', ')} in progress on ${repo.provider.name} (${others[0]?.key}); retry later, or delete the lock if nothing is running.`,
        { retryable: true },
      )
    const manifests = await Promise.all(
      (await repo.snapshotIds()).map((id) => repo.readManifest(id)),
    )
    // Everything below trusts the listing: a blob no listed snapshot uses is deleted. Check
    // it first against what is read by key, and refuse (deleting nothing) if it is short.
    const unlisted = await unlistedSnapshots(repo, manifests, o.concurrency ?? 8)
    if (unlisted.length)
      throw new SkeinError(
        'SAFETY_GUARD',
        `Prune refused: the listing of ${repo.provider.name} leaves out ${unlisted.length > 1 ? 'snapshots' : 'snapshot'} ${unlisted.join(', ')}, which ${unlisted.length > 1 ? 'exist' : 'exists'} when read by key (${repo.prefix}snapshots/${unlisted[0]}.json). The listing is incomplete (eventually consistent or faulty), and pruning by it could delete content ${unlisted.length > 1 ? 'those snapshots need' : 'that snapshot needs'}. Nothing was deleted; retry the prune later, when the listing shows every snapshot.`,
        { retryable: true, details: { unlisted } },
      )
    const keep = selectKept(manifests, o)
    const kept = manifests.filter((m) => keep.has(m.id))
    const removed = manifests.filter((m) => !keep.has(m.id)).map((m) => m.id)
    if (o.dryRun) return { kept: kept.map(infoOf), removed, blobsDeleted: 0 }
    // Manifests first: a crash then leaves orphan blobs (cleaned next time), never a dangling manifest.
    await runPool(removed, o.concurrency ?? 8, (id) => repo.deleteManifest(id), o.signal)
    const live = new Set<string>()
    for (const m of kept) for (const f of m.files) live.add(repo.blobKey(f.sha256))
    const dead: string[] = []
    for (const k of await repo.blobKeys()) if (!live.has(k)) dead.push(k)
    await runPool(dead, o.concurrency ?? 8, (k) => repo.deleteKey(k), o.signal)
    return { kept: kept.map(infoOf), removed, blobsDeleted: dead.length }
  } finally {
    await repo.unlock(lock)
  }
}
