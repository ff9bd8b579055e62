import { createHash } from 'node:crypto'
import { lstatSync, readFileSync } from 'node:fs'
import { readFile, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { normalizePath } from '@skein/core'
import { hashFile } from '@skein/core/node'
import { fsError, isNotFound } from './fs-utils.js'
import type { PathFilter } from './ignore-rules.js'
import type { SyncManifest } from './manifest.js'
import { runPool } from './pool.js'

/** Files up to this size are read whole (one call) rather than streamed. */
export const SMALL_FILE = 4 * 1024 * 1024

/** One local file as found by a scan. */
export interface LocalFile {
  /** Normalized (NFC) relative path: the sync key. */
  path: string
  /** The on-disk relative path (may differ from `path` in Unicode normalization). */
  fsPath: string
  size: number
  mtimeMs: number
  ino: number
  /** sha-256 hex; `''` while deferred to the upload (see `deferHash`). */
  sha256: string
}

/** What a scan found, plus paths it had to skip. */
export interface LocalScan {
  files: Map<string, LocalFile>
  skipped: { path: string; reason: string }[]
  /** How many files were hashed (the rest came from the manifest cache). */
  hashed: number
}

/**
 * Walks `root` (skipping ignored paths and symlinks) and returns every file with
 * its sha-256. A file whose size, mtime and inode match the manifest is not
 * re-hashed, so an unchanged tree costs one stat per file.
 */
export async function scanLocal(
  root: string,
  filter: PathFilter,
  manifest: SyncManifest,
  options: {
    concurrency: number
    onFile?: (n: number) => void
    signal?: AbortSignal | undefined
    /** Called after the walk; paths it accepts are not hashed now (`sha256: ''`, hashed at upload). */
    deferHash?: () => Promise<(path: string) => boolean>
  },
): Promise<LocalScan> {
  const found: Omit<LocalFile, 'sha256'>[] = []
  const skipped: LocalScan['skipped'] = []
  const dirs = ['']
  while (dirs.length) {
    const batch = dirs.splice(0, dirs.length)
    await runPool(
      batch,
      options.concurrency,
      async (rel) => {
        let entries
        try {
          entries = await readdir(join(root, rel), { withFileTypes: true })
        } catch (err) {
          if (isNotFound(err)) return
          throw fsError(err, 'list the folder', join(root, rel))
        }
        const files: string[] = []
        for (const d of entries) {
          const fsPath = rel ? `${rel}/${d.name}` : d.name
          if (d.isDirectory()) {
            if (!filter.ignores(fsPath, true)) dirs.push(fsPath)
          } else if (d.isFile() && !filter.ignores(fsPath)) files.push(fsPath)
        }
        for (const fsPath of files) {
          let path: string
          try {
            path = normalizePath(fsPath)
          } catch (err) {
            skipped.push({ path: fsPath, reason: (err as Error).message })
            continue
          }
          // Synchronous lstat: for thousands of metadata calls it is several times
          // faster than a round trip through the libuv pool each.
          try {
            const st = lstatSync(join(root, fsPath))
            if (st.isFile())
              found.push({ path, fsPath, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino })
          } catch (err) {
            if (!isNotFound(err)) throw fsError(err, 'stat', join(root, fsPath))
          }
        }
        options.onFile?.(found.length)
      },
      options.signal,
    )
  }
  const files = new Map<string, LocalFile>()
  const toHash: Omit<LocalFile, 'sha256'>[] = []
  for (const f of found) {
    const e = manifest.get(f.path)
    if (
      e &&
      e.size === f.size &&
      e.localModified === f.mtimeMs &&
      (e.inode === undefined || e.inode === f.ino)
    )
      files.set(f.path, { ...f, sha256: e.localHash })
    else toHash.push(f)
  }
  // Hashes nobody needs yet (new files with no remote counterpart) are left to
  // the upload, which reads the file anyway: one read instead of two.
  const defer = options.deferHash ? await options.deferHash() : () => false
  const now = toHash.filter((f) => {
    if (!defer(f.path)) return true
    files.set(f.path, { ...f, sha256: '' })
    return false
  })
  await runPool(
    now,
    options.concurrency,
    async (f) => {
      const abs = join(root, f.fsPath)
      try {
        if (f.size <= 256 * 1024) {
          const bytes = readFileSync(abs) // small: one synchronous read beats three pool trips
          files.set(f.path, {
            ...f,
            size: bytes.length,
            sha256: createHash('sha256').update(bytes).digest('hex'),
          })
        } else if (f.size <= SMALL_FILE) {
          const bytes = await readFile(abs)
          files.set(f.path, {
            ...f,
            size: bytes.length,
            sha256: createHash('sha256').update(bytes).digest('hex'),
          })
        } else {
          const { hash, size } = await hashFile(abs)
          files.set(f.path, { ...f, size, sha256: hash })
        }
      } catch (err) {
        if (!isNotFound(err)) throw fsError(err, 'read', abs)
      }
    },
    options.signal,
  )
  return { files, skipped, hashed: now.length }
}
