import {
  readdirSync,
  lstatSync,
  openSync,
  fstatSync,
  readSync,
  closeSync,
  constants,
} from 'node:fs'
import type { Dirent } from 'node:fs'
import { join } from 'node:path'
import { hashFile } from '@skein/core/node'
import { normalizeName } from '@skein/core'
import type { IgnoreMatcher } from './ignore-rules.js'
import { isTempName } from './names.js'
import { SYNC_HASH_LIMIT, hashBytes, toFileStat } from './file-hash.js'
import type { HashedStat } from './file-hash.js'

/** A scanned regular file. */
export interface ScannedFile extends HashedStat {
  /** Workspace-relative POSIX path as found on disk. */
  path: string
  /** True when the content was (re)hashed in this scan rather than taken from `previous`. */
  hashed: boolean
}

/** Something the scanner skipped and reports rather than guesses about. */
export interface ScanIssue {
  path: string
  kind: 'symlink' | 'unsyncable-name' | 'special' | 'io'
  message: string
}

/** The result of indexing a folder. */
export interface ScanResult {
  files: Map<string, ScannedFile>
  /** Folder paths (workspace-relative), parents before children. */
  folders: string[]
  issues: ScanIssue[]
  /** How many files were read and hashed. */
  hashedCount: number
  /** Files shaped like the agent's temp files (ignored, but candidates for a stale-temp sweep). */
  temps: string[]
}

/** Options of {@link scanFolder}. */
export interface ScanOptions {
  /** The one ignore matcher (also used by the watcher and for remote changes). */
  ignore: IgnoreMatcher
  /** The last known stat+hash of a path; when the stat still matches, the hash is reused. */
  previous: (path: string) => HashedStat | undefined
  /** Entries processed between yields to the event loop; default 2,000 (keeps the loop responsive). */
  batchSize: number
  /** Restrict the walk to this sub-folder (workspace-relative); default the whole root. */
  under: string
}

/** Defaults of {@link ScanOptions}. */
export const DEFAULT_SCAN_OPTIONS: Omit<ScanOptions, 'ignore'> = {
  previous: () => undefined,
  batchSize: 2000,
  under: '',
}

const PLAIN_NAME = /^[\x20-\x5b\x5d-\x7e]+$/

/** Why a disk name cannot be synced, or undefined when it can. */
export function unsyncableName(name: string): string | undefined {
  if (PLAIN_NAME.test(name) && name !== '.' && name !== '..') return undefined
  try {
    normalizeName(name)
    return undefined
  } catch (err) {
    return (err as Error).message
  }
}

const NOFOLLOW = constants.O_RDONLY | constants.O_NOFOLLOW
let shared = Buffer.allocUnsafe(64 * 1024)

/**
 * Stats a file and, unless `prev` still matches, hashes it: one open (never
 * through a symlink), fstat, read into a reused buffer, close. 'big' for files
 * over the sync limit (streamed later).
 */
function readSmallFile(
  abs: string,
  path: string,
  prev: HashedStat | undefined,
): ScannedFile | 'big' {
  if (prev) {
    const st = lstatSync(abs)
    if (
      st.isFile() &&
      st.size === prev.size &&
      st.mtimeMs === prev.mtimeMs &&
      st.ctimeMs === prev.ctimeMs &&
      st.ino === prev.ino
    )
      return {
        path,
        ino: st.ino,
        size: st.size,
        mtimeMs: st.mtimeMs,
        ctimeMs: st.ctimeMs,
        birthtimeMs: st.birthtimeMs,
        hash: prev.hash,
        hashed: false,
      }
  }
  const fd = openSync(abs, NOFOLLOW)
  try {
    const st = fstatSync(fd)
    if (st.size > SYNC_HASH_LIMIT) return 'big'
    if (st.size >= shared.length)
      shared = Buffer.allocUnsafe(Math.max(st.size + 1, shared.length * 2))
    let n = 0
    // Read until EOF: the file may have grown since fstat.
    for (let r = 1; r > 0 && n < shared.length; n += r)
      r = readSync(fd, shared, n, shared.length - n, n)
    if (n > SYNC_HASH_LIMIT || n === shared.length) return 'big'
    return {
      path,
      ino: st.ino,
      size: n,
      mtimeMs: st.mtimeMs,
      ctimeMs: st.ctimeMs,
      birthtimeMs: st.birthtimeMs,
      hash: hashBytes(shared.subarray(0, n)),
      hashed: true,
    }
  } finally {
    closeSync(fd)
  }
}

const yieldLoop = () => new Promise<void>((resolve) => setImmediate(resolve))

/**
 * Indexes a folder: walks it synchronously in batches (no promise per file),
 * never follows symlinks (they are reported and skipped), applies the ignore
 * rules, and hashes a file only when its size, mtime, ctime or inode differ from
 * `previous`. Files over 1 MiB are hashed by streaming after the walk.
 */
export async function scanFolder(
  root: string,
  options: Partial<ScanOptions> & Pick<ScanOptions, 'ignore'>,
): Promise<ScanResult> {
  const opts = { ...DEFAULT_SCAN_OPTIONS, ...options }
  const result: ScanResult = {
    files: new Map(),
    folders: [],
    issues: [],
    hashedCount: 0,
    temps: [],
  }
  const big: { path: string; abs: string }[] = []
  const stack: string[] = [opts.under]
  let work = 0
  while (stack.length > 0) {
    const rel = stack.pop() as string
    const absDir = rel === '' ? root : join(root, rel)
    let entries: Dirent[]
    try {
      entries = readdirSync(absDir, { withFileTypes: true })
    } catch (err) {
      result.issues.push({ path: rel, kind: 'io', message: (err as Error).message })
      continue
    }
    for (const ent of entries) {
      const name = ent.name
      const path = rel === '' ? name : rel + '/' + name
      const isDir = ent.isDirectory()
      if (opts.ignore.ignores(path, isDir)) {
        if (ent.isFile() && isTempName(name)) result.temps.push(path)
        continue
      }
      const bad = unsyncableName(name)
      if (bad !== undefined) {
        result.issues.push({ path, kind: 'unsyncable-name', message: bad })
        continue
      }
      if (ent.isSymbolicLink()) {
        result.issues.push({
          path,
          kind: 'symlink',
          message: `${path} is a symbolic link; links are never followed or synced.`,
        })
        continue
      }
      if (isDir) {
        result.folders.push(path)
        stack.push(path)
        continue
      }
      if (!ent.isFile()) {
        result.issues.push({ path, kind: 'special', message: `${path} is not a regular file.` })
        continue
      }
      const abs = absDir + '/' + name
      try {
        const prev = opts.previous(path)
        const file = readSmallFile(abs, path, prev)
        if (file === 'big') big.push({ path, abs })
        else {
          result.files.set(path, file)
          if (file.hashed) result.hashedCount++
        }
      } catch (err) {
        // Vanished between readdir and read: the watcher or the next scan will see it.
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ELOOP')
          result.issues.push({
            path,
            kind: 'symlink',
            message: `${path} became a symbolic link; skipped.`,
          })
        else if (code !== 'ENOENT')
          result.issues.push({ path, kind: 'io', message: (err as Error).message })
      }
      if (++work % opts.batchSize === 0) await yieldLoop()
    }
  }
  for (const { path, abs } of big) {
    try {
      const st = lstatSync(abs)
      const { hash, size } = await hashFile(abs)
      result.files.set(path, { ...toFileStat(st), size, path, hash, hashed: true })
      result.hashedCount++
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        result.issues.push({ path, kind: 'io', message: (err as Error).message })
    }
  }
  result.folders.sort()
  return result
}
