import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { fdatasync, openSync, closeSync } from 'node:fs'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { SkeinError, isSkeinError } from '@skein/core'

/** Node's error code of a failed fs call, if any. */
export function errnoCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined
}

/** True for ENOENT (and ENOTDIR: a path component is a file). */
export function isNotFound(err: unknown): boolean {
  const c = errnoCode(err)
  return c === 'ENOENT' || c === 'ENOTDIR'
}

const TRANSIENT_FS = new Set(['EAGAIN', 'EBUSY', 'EMFILE', 'ENFILE', 'ETIMEDOUT', 'EINTR'])

/** Maps a Node fs failure to a classified `SkeinError` naming the action and path. */
export function fsError(err: unknown, action: string, path: string): SkeinError {
  if (isSkeinError(err)) return err
  const c = errnoCode(err)
  const hint =
    c === 'ENOSPC'
      ? 'free some disk space and retry'
      : c === 'EACCES' || c === 'EPERM'
        ? 'check the permissions of that folder'
        : 'check the path and retry'
  return new SkeinError(
    c === 'EACCES' || c === 'EPERM' ? 'FORBIDDEN' : c && TRANSIENT_FS.has(c) ? 'TRANSIENT' : 'IO',
    `Could not ${action} ${JSON.stringify(path)} (${c ?? String(err)}); ${hint}.`,
    { cause: err, details: { path, errno: c } },
  )
}

/** A unique temp file name inside `dir`. */
export function tempName(dir: string, label = 'tmp'): string {
  return join(dir, `.${label}-${process.pid}-${randomBytes(6).toString('hex')}.tmp`)
}

/**
 * Writes `data` to `path` atomically: a temp file beside it, fsync, rename. A crash
 * leaves either the old file or the new one, never a mix.
 */
export async function atomicWriteFile(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempName(dirname(path), 'atomic')
  try {
    await mkdir(dirname(path), { recursive: true })
    const fh = await open(tmp, 'w')
    try {
      await fh.writeFile(data)
      await fh.sync()
    } finally {
      await fh.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw fsError(err, 'write', path)
  }
}

function fsyncPath(path: string): Promise<void> {
  return new Promise((resolve) => {
    let fd: number
    try {
      fd = openSync(path, 'r')
    } catch {
      return resolve() // gone since: nothing to make durable
    }
    fdatasync(fd, () => {
      closeSync(fd)
      resolve()
    })
  })
}

/** Up to this many files are flushed one by one; more, with one syncfs. */
const FSYNC_EACH_MAX = 128

/**
 * Makes recently written files durable before state that depends on them is
 * committed. Many files: on Linux one `sync -f` (syncfs) flushes the whole
 * filesystem, far cheaper than one fsync per file. A few files (an incremental
 * run): each file and its folder is fsynced, in parallel, so the run does not
 * wait for unrelated dirty data other programs left on the filesystem.
 */
export async function flushFilesystem(root: string, files: Iterable<string>): Promise<void> {
  const all = [...files]
  if (all.length === 0) return
  if (all.length > FSYNC_EACH_MAX) {
    const ok = await new Promise<boolean>((resolve) => {
      if (process.platform !== 'linux') return resolve(false)
      execFile('sync', ['-f', root], (err) => resolve(!err))
    })
    if (ok) return
  }
  // Folders too: a rename is durable only once its folder is.
  const paths = [...all, ...new Set(all.map((f) => dirname(f)))]
  for (let i = 0; i < paths.length; i += 64)
    await Promise.all(paths.slice(i, i + 64).map(fsyncPath))
}
