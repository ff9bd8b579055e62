import type { PathFilter } from './ignore-rules.js'
import type { SyncManifest } from './manifest.js'
import type { CloudSyncProvider } from './provider.js'
import { listRemote, readRemoteIndex } from './remote-state.js'
import type { RemoteView } from './remote-state.js'
import type { RetryOptions } from './retry.js'
import { withRetry } from './retry.js'
import { runPool } from './pool.js'
import { remoteHash } from './plan.js'

/**
 * Fetches the sha-256 (one HEAD each) of remote files whose content is unknown
 * (a plain listing after a change) but which may equal their local counterpart:
 * present on both sides with the same size. Cheap: only changed paths qualify.
 */
export async function fillRemoteHashes(
  input: DetectRemoteInput,
  view: RemoteView,
  local: Map<string, { size: number }>,
): Promise<void> {
  const todo = [...view.files.values()].filter((r) => {
    const l = local.get(r.path)
    return l && l.size === r.size && remoteHash(r, input.manifest.get(r.path)) === undefined
  })
  await runPool(
    todo,
    input.concurrency,
    async (r) => {
      const h = await withRetry(
        () => input.provider.head(input.prefix + r.path, { signal: input.signal }),
        { ...input.retry, signal: input.signal },
      )
      if (h && h.etag === r.etag)
        view.files.set(r.path, { ...r, sha256: h.sha256, mtime: h.mtime ?? r.mtime })
    },
    input.signal,
  )
}

/** Inputs of {@link detectRemote}. */
export interface DetectRemoteInput {
  provider: CloudSyncProvider
  prefix: string
  filter: PathFilter
  retry: Partial<RetryOptions>
  signal?: AbortSignal | undefined
  manifest: SyncManifest
  useIndex: boolean
  /** An index older than this is not trusted: the remote is listed (see SyncEngineOptions.remoteIndexMaxAgeMs). */
  indexMaxAgeMs: number
  /** The current time (ms since the epoch). */
  now: number
  concurrency: number
}

/**
 * The remote side of a run. With the remote index, one download replaces the
 * listing. Either way, a path the manifest knows but the view lacks is confirmed
 * with a HEAD before it counts as deleted, so neither a lagging index nor a
 * listing that omits objects can ever cause a local delete. Returns whether the
 * index needs rewriting, and the paths the view had wrongly left out.
 */
export async function detectRemote(
  input: DetectRemoteInput,
): Promise<{ view: RemoteView; stale: boolean; omitted: string[] }> {
  const ctx = {
    provider: input.provider,
    prefix: input.prefix,
    filter: input.filter,
    retry: input.retry,
    signal: input.signal,
  }
  const read = input.useIndex ? await readRemoteIndex(ctx) : undefined
  // Objects changed behind the index's back (by hand, by another tool) show only
  // in a listing: an index older than the bound is read past, and rewritten.
  // The age is the last full listing's, not the last write's: a busy remote's index is
  // rewritten every run and would otherwise never be checked.
  const idx = read && input.now - read.listed <= input.indexMaxAgeMs ? read : undefined
  const view: RemoteView = idx
    ? {
        files: idx.files,
        source: 'index',
        generation: idx.generation,
        indexEtag: idx.etag,
        listedAt: idx.listed,
      }
    : {
        files: await listRemote(ctx),
        source: 'listing',
        generation: undefined,
        indexEtag: undefined,
        listedAt: input.now,
      }
  // An empty view deletes nothing anyway (the planner's empty-side rule).
  if (view.files.size === 0) return { view, stale: !idx, omitted: [] }
  const missing = [...input.manifest.paths()].filter(
    (p) => !view.files.has(p) && !input.filter.ignores(p),
  )
  const omitted: string[] = []
  await runPool(
    missing,
    input.concurrency,
    async (path) => {
      const h = await withRetry(
        () => input.provider.head(input.prefix + path, { signal: input.signal }),
        { ...input.retry, signal: input.signal },
      )
      if (h) {
        view.files.set(path, { path, size: h.size, sha256: h.sha256, mtime: h.mtime, etag: h.etag })
        omitted.push(path)
      }
    },
    input.signal,
  )
  return { view, stale: !idx || omitted.length > 0, omitted }
}
