import { mkdir, rename, readFile, rm, stat, writeFile, utimes } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { SkeinError } from '@skein/core'
import { sha256HexSync } from '@skein/core/node'
import { isText, merge3 } from '@skein/merge'
import { conflictCopyPath, isConflictCopyOf, pickWinner } from './conflict-names.js'
import type { Side } from './conflict-names.js'
import type { ExecContext } from './exec-context.js'
import { fsError, tempName } from './fs-utils.js'
import type { LocalFile } from './local-scan.js'
import { remoteHash } from './plan.js'
import type { RemoteFile } from './remote-state.js'
import { withRetry } from './retry.js'
import { bytesStream, readAll } from './streams.js'
import type { ConflictInfo } from './sync-types.js'
import { assertLocalUnchanged, downloadFile, entryOf, uploadFile } from './transfer.js'
import type { Effect } from './wal.js'

const sideOf = (f: { size: number; sha256?: string | undefined }, mtime: number | undefined) => ({
  hash: f.sha256,
  size: f.size,
  mtime: mtime ?? 0,
})

/** An existing conflict copy of `path` for `side` with content `hash` (so a resumed run does not duplicate it). */
function existingCopy(
  ctx: ExecContext,
  path: string,
  side: Side,
  hash: string | undefined,
): string | undefined {
  if (hash === undefined) return undefined
  for (const [p, f] of ctx.local) if (f.sha256 === hash && isConflictCopyOf(p, path, side)) return p
  return undefined
}

/**
 * Resolves a path changed on both sides: identical content is recorded; text is
 * merged with merge3 when enabled and a base is known; otherwise the `keep` mode
 * picks the winner and the loser is kept as a conflict copy on both sides.
 * The loser is always saved before the winner overwrites anything.
 */
export async function resolveConflict(
  ctx: ExecContext,
  path: string,
  kind: 'modify-modify' | 'create-create',
): Promise<{ effects: Effect[]; info: ConflictInfo; uploaded: number; downloaded: number }> {
  const l = ctx.local.get(path) as LocalFile
  let r = ctx.remote.get(path) as RemoteFile
  const m = ctx.manifest.get(path)
  if (remoteHash(r, m) === undefined) {
    const h = await withRetry(() => ctx.provider.head(ctx.prefix + path, { signal: ctx.signal }), {
      ...ctx.retry,
      signal: ctx.signal,
    })
    if (h) r = { ...r, sha256: h.sha256, mtime: h.mtime ?? r.mtime, etag: h.etag }
  }
  const info: ConflictInfo = {
    path,
    kind,
    local: sideOf(l, l.mtimeMs),
    remote: sideOf(r, r.mtime),
    resolution: 'identical',
  }
  if (remoteHash(r, m) === l.sha256) {
    ctx.remote.set(path, r)
    return {
      effects: [[path, entryOf(l, { ...r, sha256: l.sha256 })]],
      info,
      uploaded: 0,
      downloaded: 0,
    }
  }
  if (ctx.bases && m) {
    const merged = await tryMerge(ctx, path, l, m.localHash)
    if (merged) return { ...merged, info: { ...info, resolution: 'merged' } }
  }
  const winner = pickWinner(ctx.options.keep, l, r)
  const effects: Effect[] = []
  let uploaded = 0
  let downloaded = 0
  if (winner === 'local') {
    // Keep the remote version as a copy (downloaded, then uploaded), then overwrite the remote.
    let copy = existingCopy(ctx, path, 'remote', r.sha256)
    if (!copy) {
      copy = conflictCopyPath(path, 'remote', ctx.now)
      const got = await downloadFile(ctx, path, { toPath: copy, expectLocal: undefined })
      downloaded++
      effects.push([copy, await uploadFile(ctx, copy, got.local)])
      uploaded++
    }
    effects.push([path, await uploadFile(ctx, path, l)])
    uploaded++
    return {
      effects,
      info: { ...info, resolution: 'kept-local', copyPath: copy },
      uploaded,
      downloaded,
    }
  }
  // Remote wins: the local version moves aside (a rename, so nothing is lost), then the remote comes down.
  let copy = existingCopy(ctx, path, 'local', l.sha256)
  if (!copy) {
    copy = conflictCopyPath(path, 'local', ctx.now)
    await assertLocalUnchanged(ctx, l.fsPath, l)
    const dest = join(ctx.root, dirname(l.fsPath), copy.slice(copy.lastIndexOf('/') + 1))
    try {
      await rename(join(ctx.root, l.fsPath), dest)
    } catch (err) {
      throw fsError(err, 'keep the conflicting local version as', dest)
    }
    const moved: LocalFile = { ...l, path: copy, fsPath: dest.slice(ctx.root.length + 1) }
    ctx.local.set(copy, moved)
    ctx.local.delete(path)
    effects.push([copy, await uploadFile(ctx, copy, moved)])
    uploaded++
  } else {
    // A previous, interrupted run already kept this exact version aside.
    await assertLocalUnchanged(ctx, l.fsPath, l)
    ctx.local.delete(path)
    await rm(join(ctx.root, l.fsPath), { force: true })
  }
  const got = await downloadFile(ctx, path, { expectLocal: undefined })
  downloaded++
  effects.push([path, got.entry])
  return {
    effects,
    info: { ...info, resolution: 'kept-remote', copyPath: copy },
    uploaded,
    downloaded,
  }
}

/** merge3 over the stored base; writes the merged text to both sides when clean. */
async function tryMerge(
  ctx: ExecContext,
  path: string,
  l: LocalFile,
  baseHash: string,
): Promise<{ effects: Effect[]; uploaded: number; downloaded: number } | undefined> {
  const bases = ctx.bases
  if (!bases || l.size > bases.maxBytes) return undefined
  const base = await bases.get(baseHash)
  if (!base) return undefined
  const ours = await readFile(join(ctx.root, l.fsPath))
  const d = await withRetry(
    async () => {
      const got = await ctx.provider.download(ctx.prefix + path, { signal: ctx.signal })
      if (!got || got.info.size > bases.maxBytes) return undefined
      const bytes = await readAll(got.body)
      if (got.info.sha256 !== undefined && sha256HexSync(bytes) !== got.info.sha256)
        throw new SkeinError(
          'HASH_MISMATCH',
          `Download of ${JSON.stringify(path)} for merging is damaged; retrying.`,
          { retryable: true },
        )
      return { bytes, etag: got.info.etag }
    },
    { ...ctx.retry, signal: ctx.signal },
  )
  if (!d || !isText(base) || !isText(ours) || !isText(d.bytes)) return undefined
  const result = merge3(base.toString('utf8'), ours.toString('utf8'), d.bytes.toString('utf8'))
  if (!result.clean) return undefined
  const merged = Buffer.from(result.text, 'utf8')
  // Write the merged text locally (temp + rename, only if the file is still ours), then upload it.
  const abs = join(ctx.root, l.fsPath)
  await mkdir(ctx.tmpDir, { recursive: true })
  const tmp = tempName(ctx.tmpDir, 'merge')
  await writeFile(tmp, merged)
  const now = new Date(ctx.now)
  await utimes(tmp, now, now)
  await assertLocalUnchanged(ctx, l.fsPath, l)
  await rename(tmp, abs)
  const st = await stat(abs)
  const local: LocalFile = {
    ...l,
    size: merged.length,
    mtimeMs: st.mtimeMs,
    ino: st.ino,
    sha256: sha256HexSync(merged),
  }
  ctx.local.set(path, local)
  const info = await withRetry(
    () =>
      ctx.provider.upload(
        ctx.prefix + path,
        bytesStream(merged),
        { size: merged.length, sha256: local.sha256, mtime: Math.round(st.mtimeMs) },
        { signal: ctx.signal },
      ),
    { ...ctx.retry, signal: ctx.signal },
  )
  const remote: RemoteFile = {
    path,
    size: merged.length,
    sha256: local.sha256,
    mtime: Math.round(st.mtimeMs),
    etag: info.etag,
  }
  ctx.remote.set(path, remote)
  return { effects: [[path, entryOf(local, remote)]], uploaded: 1, downloaded: 1 }
}
