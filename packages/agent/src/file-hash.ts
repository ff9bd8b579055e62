import { readFileSync, lstatSync } from 'node:fs'
import type { Stats } from 'node:fs'
import { createHash } from 'node:crypto'
import { hashFile } from '@skein/core/node'
import type { ContentHash } from '@skein/core'

/** Files up to this size are read and hashed synchronously (fast path, no promise per file). */
export const SYNC_HASH_LIMIT = 1 << 20

/** The identity and change-detection fields of a file on disk. */
export interface FileStat {
  ino: number
  size: number
  mtimeMs: number
  ctimeMs: number
  /**
   * Creation time, 0 where the filesystem does not keep one. A rename keeps it;
   * a new file that reuses a deleted file's inode (ext4 does so at once) does not.
   */
  birthtimeMs?: number
}

/** A FileStat with its content hash. */
export interface HashedStat extends FileStat {
  hash: ContentHash
}

/** The FileStat part of a `fs.Stats`. */
export function toFileStat(st: Stats): FileStat {
  return {
    ino: st.ino,
    size: st.size,
    mtimeMs: st.mtimeMs,
    ctimeMs: st.ctimeMs,
    birthtimeMs: st.birthtimeMs,
  }
}

/**
 * True when the stat fields equal: then the content is taken as unchanged. Any
 * difference (size, mtime, ctime or inode) means hash again; ctime catches an
 * edit that kept size and restored mtime.
 */
export function sameStat(a: FileStat, b: FileStat): boolean {
  return a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino
}

/** sha-256 of bytes. */
export function hashBytes(bytes: Uint8Array): ContentHash {
  return createHash('sha256').update(bytes).digest('hex') as ContentHash
}

/** Reads a file and hashes it; big files stream. Undefined when it vanished or is not a file. */
export async function readHashed(
  abs: string,
): Promise<(HashedStat & { bytes?: Uint8Array }) | undefined> {
  let st: Stats
  try {
    st = lstatSync(abs)
  } catch {
    return undefined
  }
  if (!st.isFile()) return undefined
  if (st.size <= SYNC_HASH_LIMIT) {
    try {
      const bytes = readFileSync(abs)
      return { ...toFileStat(st), size: bytes.length, hash: hashBytes(bytes), bytes }
    } catch {
      return undefined
    }
  }
  try {
    const { hash, size } = await hashFile(abs)
    return { ...toFileStat(st), size, hash }
  } catch {
    return undefined
  }
}
