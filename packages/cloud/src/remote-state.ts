import { randomUUID } from 'node:crypto'
import { SkeinError, normalizePath } from '@skein/core'
import { sha256HexSync } from '@skein/core/node'
import type { PathFilter } from './ignore-rules.js'
import type { CloudSyncProvider } from './provider.js'
import { withRetry } from './retry.js'
import type { RetryOptions } from './retry.js'
import { bytesStream, readAll } from './streams.js'

/** One remote file as the engine sees it. */
export interface RemoteFile {
  path: string
  size: number
  sha256?: string | undefined
  mtime?: number | undefined
  etag?: string | undefined
}

/** The remote side of a run: its files and where the view came from. */
export interface RemoteView {
  files: Map<string, RemoteFile>
  /** `index`: read from the remote index object (one request); `listing`: a full listing. */
  source: 'index' | 'listing'
  /** Generation of the index read (undefined when there was none). */
  generation: string | undefined
  /** Etag of the index object read (for a conditional rewrite). */
  indexEtag: string | undefined
  /** When the remote was last listed in full: this run, or the run that wrote the index. */
  listedAt: number
}

/** Key of the remote index object, under the sync prefix (ignored by sync itself via `.skein/`). */
export const REMOTE_INDEX_KEY = '.skein/index.json'

type IndexRow = [sha256: string | null, size: number, mtime: number, etag: string | null]
interface IndexFile {
  version: 1
  generation: string
  updated: number
  /** When the remote was last listed in full (absent in indexes of older versions). */
  listed?: number
  entries: Record<string, IndexRow>
}

interface Ctx {
  provider: CloudSyncProvider
  prefix: string
  filter: PathFilter
  retry: Partial<RetryOptions>
  signal?: AbortSignal | undefined
}

/** Maps a provider key to a sync path, or undefined when it is outside the sync set. */
export function keyToPath(key: string, prefix: string, filter: PathFilter): string | undefined {
  if (!key.startsWith(prefix)) return undefined
  const rel = key.slice(prefix.length)
  try {
    if (normalizePath(rel) !== rel) return undefined
  } catch {
    return undefined
  }
  return filter.ignores(rel) ? undefined : rel
}

/** Lists every remote file under the prefix (one paginated listing). */
export async function listRemote(ctx: Ctx): Promise<Map<string, RemoteFile>> {
  return withRetry(
    async () => {
      const files = new Map<string, RemoteFile>()
      for await (const o of ctx.provider.list(ctx.prefix, { signal: ctx.signal })) {
        const path = keyToPath(o.key, ctx.prefix, ctx.filter)
        if (path !== undefined)
          files.set(path, { path, size: o.size, sha256: o.sha256, mtime: o.mtime, etag: o.etag })
      }
      return files
    },
    { ...ctx.retry, signal: ctx.signal },
  )
}

/** Reads the remote index object, or undefined when there is none (or it is unreadable). */
export async function readRemoteIndex(ctx: Ctx): Promise<
  | {
      files: Map<string, RemoteFile>
      generation: string
      etag: string | undefined
      /** When the remote was last listed in full (ms since the epoch; 0 if the index does not say). */
      listed: number
    }
  | undefined
> {
  const got = await withRetry(
    async () => {
      const d = await ctx.provider.download(ctx.prefix + REMOTE_INDEX_KEY, { signal: ctx.signal })
      return d && { bytes: await readAll(d.body), etag: d.info.etag }
    },
    { ...ctx.retry, signal: ctx.signal },
  )
  if (!got) return undefined
  let data: IndexFile
  try {
    data = JSON.parse(got.bytes.toString('utf8')) as IndexFile
    if (data.version !== 1 || typeof data.entries !== 'object') return undefined
  } catch {
    return undefined // a damaged index is only a cache: fall back to a listing
  }
  const files = new Map<string, RemoteFile>()
  for (const [path, [sha256, size, mtime, etag]] of Object.entries(data.entries))
    if (!ctx.filter.ignores(path))
      files.set(path, { path, sha256: sha256 ?? undefined, size, mtime, etag: etag ?? undefined })
  const listed = typeof data.listed === 'number' ? data.listed : 0
  return { files, generation: data.generation, etag: got.etag, listed }
}

/**
 * Writes the remote index from `files`, noting when the remote was last listed in
 * full (`listed`). Returns the new generation, or undefined
 * when another writer replaced the index since `expected` was read (the caller
 * then rebuilds from a listing instead of writing a stale view).
 */
export async function writeRemoteIndex(
  ctx: Ctx,
  files: Map<string, RemoteFile>,
  expected: { generation: string | undefined; etag: string | undefined },
  listed: number,
): Promise<string | undefined> {
  const key = ctx.prefix + REMOTE_INDEX_KEY
  const current = await withRetry(() => ctx.provider.head(key, { signal: ctx.signal }), {
    ...ctx.retry,
    signal: ctx.signal,
  })
  if (current?.etag !== expected.etag) return undefined
  const entries: Record<string, IndexRow> = {}
  for (const [path, f] of files)
    entries[path] = [f.sha256 ?? null, f.size, f.mtime ?? 0, f.etag ?? null]
  const generation = randomUUID()
  const body = Buffer.from(
    JSON.stringify({
      version: 1,
      generation,
      updated: Date.now(),
      listed,
      entries,
    } satisfies IndexFile),
  )
  const meta = { size: body.length, sha256: sha256HexSync(body), mtime: Date.now() }
  const written = await withRetry(
    async () => {
      if (ctx.provider.uploadIf) {
        const cond =
          expected.etag === undefined ? ({ ifNoneMatch: '*' } as const) : { ifMatch: expected.etag }
        try {
          await ctx.provider.uploadIf(key, bytesStream(body), meta, cond, { signal: ctx.signal })
        } catch (err) {
          if (err instanceof SkeinError && err.code === 'PRECONDITION_FAILED') return false
          throw err
        }
      } else await ctx.provider.upload(key, bytesStream(body), meta, { signal: ctx.signal })
      return true
    },
    { ...ctx.retry, signal: ctx.signal },
  )
  return written ? generation : undefined
}
