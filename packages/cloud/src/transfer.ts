import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs'
import type { Stats } from 'node:fs'
import { mkdir, readFile, rename, rm, rmdir, stat, utimes } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { SkeinError } from '@skein/core'
import { hashFile, sha256HexSync } from '@skein/core/node'
import type { ExecContext } from './exec-context.js'
import { fsError, isNotFound, tempName } from './fs-utils.js'
import type { LocalFile } from './local-scan.js'
import type { ManifestEntry } from './manifest.js'
import type { ByteStream } from './provider.js'
import type { RemoteFile } from './remote-state.js'
import { withRetry } from './retry.js'
import { SMALL_FILE } from './local-scan.js'
import { bytesStream, hashTap, throttle } from './streams.js'

async function* counted(ctx: ExecContext, path: string, s: ByteStream): AsyncGenerator<Uint8Array> {
  for await (const c of ctx.bucket ? throttle(s, ctx.bucket) : s) {
    ctx.onBytes(path, c.byteLength)
    yield c
  }
}

/** Files up to this size are read and checked with synchronous calls. */
const SYNC_IO_MAX = 256 * 1024

function statOrUndefined(abs: string): Stats | undefined {
  try {
    return statSync(abs)
  } catch (err) {
    if (!isNotFound(err)) throw fsError(err, 'stat', abs)
    return undefined
  }
}

function assertSame(
  ctx: ExecContext,
  fsPath: string,
  expected: LocalFile | undefined,
  st: Stats | undefined,
): void {
  const same = expected
    ? st !== undefined &&
      st.size === expected.size &&
      st.mtimeMs === expected.mtimeMs &&
      st.ino === expected.ino
    : st === undefined
  if (!same)
    throw new SkeinError(
      'CONFLICT',
      `Local file ${JSON.stringify(fsPath)} changed while syncing; left untouched, it will be synced on the next run.`,
      { retryable: false },
    )
}

/** Fails with `CONFLICT` unless the local file still is what the scan saw (`undefined`: absent). */
export async function assertLocalUnchanged(
  ctx: ExecContext,
  fsPath: string,
  expected: LocalFile | undefined,
): Promise<void> {
  let st: Stats | undefined
  try {
    st = await stat(join(ctx.root, fsPath))
  } catch (err) {
    if (!isNotFound(err)) throw fsError(err, 'stat', join(ctx.root, fsPath))
  }
  assertSame(ctx, fsPath, expected, st)
}

/** The manifest entry for a path both sides now hold as `l` / `r`. */
export function entryOf(l: LocalFile, r: RemoteFile): ManifestEntry {
  return {
    localHash: l.sha256,
    remoteHash: r.sha256 ?? l.sha256,
    localModified: l.mtimeMs,
    remoteModified: r.mtime ?? Math.round(l.mtimeMs),
    etag: r.etag,
    size: l.size,
    inode: l.ino,
  }
}

const metaOf = (l: LocalFile) => ({ size: l.size, sha256: l.sha256, mtime: Math.round(l.mtimeMs) })

/** Uploads local file `l` to remote `path`, verified by the provider against the scanned hash. */
export async function uploadFile(
  ctx: ExecContext,
  path: string,
  scanned: LocalFile,
): Promise<ManifestEntry> {
  let l = scanned
  const resume = ctx.uploads?.storeFor(path)
  const send = (body: ByteStream) =>
    ctx.provider.upload(ctx.prefix + path, counted(ctx, path, body), metaOf(l), {
      signal: ctx.signal,
      resume,
    })
  const info = await withRetry(
    async () => {
      const abs = join(ctx.root, l.fsPath)
      if (l.size <= SMALL_FILE) {
        // Small files: one read; up to SYNC_IO_MAX synchronous (stat + read), far
        // cheaper than thread-pool trips. Hashed here when the scan deferred it.
        if (l.size <= SYNC_IO_MAX) assertSame(ctx, l.fsPath, l, statOrUndefined(abs))
        else await assertLocalUnchanged(ctx, l.fsPath, l)
        const bytes = l.size <= SYNC_IO_MAX ? readFileSync(abs) : await readFile(abs)
        if (l.sha256 === '' && bytes.length === l.size) l = { ...l, sha256: sha256HexSync(bytes) }
        return send(bytesStream(bytes))
      }
      await assertLocalUnchanged(ctx, l.fsPath, l)
      // Hashed before the upload, so the provider can state (and check) the whole
      // body's hash up front, and a resumed upload can prove it is the same file.
      if (l.sha256 === '') l = { ...l, sha256: (await hashFile(abs)).hash }
      const body = createReadStream(abs, { highWaterMark: 1 << 20 })
      try {
        return await send(body)
      } finally {
        body.destroy()
      }
    },
    { ...ctx.retry, signal: ctx.signal },
  )
  await ctx.uploads?.settle(path)
  ctx.local.set(l.path, l)
  const r: RemoteFile = {
    path,
    size: l.size,
    sha256: l.sha256,
    mtime: Math.round(l.mtimeMs),
    etag: info.etag,
  }
  ctx.remote.set(path, r)
  return entryOf(l, r)
}

/**
 * Downloads remote `path` into a temp file, verifies size and sha-256, then
 * renames it to local `toPath` (default `path`) if the local file there is still
 * `expectLocal`. Never leaves a partial file at `toPath`.
 */
export async function downloadFile(
  ctx: ExecContext,
  path: string,
  opts: { toPath?: string; expectLocal: LocalFile | undefined },
): Promise<{ entry: ManifestEntry; local: LocalFile; remote: RemoteFile }> {
  const toPath = opts.toPath ?? path
  const fsPath = opts.expectLocal?.fsPath ?? toPath
  const view = ctx.remote.get(path)
  const got = await withRetry(
    async () => {
      const d = await ctx.provider.download(ctx.prefix + path, { signal: ctx.signal })
      if (!d)
        throw new SkeinError(
          'CONFLICT',
          `Remote file ${JSON.stringify(path)} vanished from ${ctx.provider.name} during the sync; it will be reconsidered on the next run.`,
          { retryable: false },
        )
      const expected =
        d.info.sha256 ?? (view && d.info.etag === view.etag ? view.sha256 : undefined)
      await mkdir(ctx.tmpDir, { recursive: true })
      const tmp = tempName(ctx.tmpDir, 'download')
      try {
        const tap = hashTap(counted(ctx, path, d.body))
        await pipeline(tap.stream, createWriteStream(tmp), { signal: ctx.signal })
        const { sha256, size } = tap.result()
        if (size !== d.info.size || (expected !== undefined && sha256 !== expected))
          throw new SkeinError(
            'HASH_MISMATCH',
            `Download of ${JSON.stringify(path)} from ${ctx.provider.name} is damaged (got ${size} of ${d.info.size} bytes, sha-256 ${sha256.slice(0, 12)}…, expected ${expected?.slice(0, 12) ?? 'unknown'}…); retrying.`,
            { retryable: true },
          )
        return {
          tmp,
          sha256,
          size,
          mtime: d.info.mtime ?? view?.mtime ?? Date.now(),
          etag: d.info.etag,
        }
      } catch (err) {
        await rm(tmp, { force: true })
        throw err
      }
    },
    { ...ctx.retry, signal: ctx.signal },
  )
  const dest = join(ctx.root, fsPath)
  try {
    const t = new Date(got.mtime)
    await utimes(got.tmp, t, t)
    await assertLocalUnchanged(ctx, fsPath, opts.expectLocal)
    await mkdir(dirname(dest), { recursive: true })
    await rename(got.tmp, dest)
    ctx.written.add(dest)
  } catch (err) {
    await rm(got.tmp, { force: true })
    throw fsError(err, 'save the download to', dest)
  }
  const st = await stat(dest)
  const local: LocalFile = {
    path: toPath,
    fsPath,
    size: got.size,
    mtimeMs: st.mtimeMs,
    ino: st.ino,
    sha256: got.sha256,
  }
  const remote: RemoteFile = {
    path,
    size: got.size,
    sha256: got.sha256,
    mtime: got.mtime,
    etag: got.etag,
  }
  ctx.local.set(toPath, local)
  if (toPath === path) ctx.remote.set(path, remote)
  return { entry: entryOf(local, remote), local, remote }
}

/** Deletes local file `l` if it is still what the scan saw, and prunes emptied folders. */
export async function deleteLocalFile(ctx: ExecContext, l: LocalFile): Promise<void> {
  await assertLocalUnchanged(ctx, l.fsPath, l)
  const abs = join(ctx.root, l.fsPath)
  try {
    await rm(abs, { force: true })
  } catch (err) {
    throw fsError(err, 'delete', abs)
  }
  ctx.local.delete(l.path)
  for (let dir = dirname(abs); dir.startsWith(ctx.root + '/'); dir = dirname(dir)) {
    try {
      await rmdir(dir)
    } catch {
      break
    }
  }
}

/** Deletes remote `path`. */
export async function deleteRemoteFile(ctx: ExecContext, path: string): Promise<void> {
  await withRetry(() => ctx.provider.delete(ctx.prefix + path, { signal: ctx.signal }), {
    ...ctx.retry,
    signal: ctx.signal,
  })
  ctx.remote.delete(path)
}
