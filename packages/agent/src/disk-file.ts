import { lstatSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { SkeinError } from '@skein/core'
import type { ContentHash } from '@skein/core'
import { sha256HexSync } from '@skein/core/node'
import { isText } from '@skein/merge'
import { hashBytes, toFileStat } from './file-hash.js'
import type { FileStat } from './file-hash.js'

/** The hash of no bytes (empty files; folders' base records). */
export const EMPTY_HASH: ContentHash = sha256HexSync('')

/** A file read from disk: stat, bytes, hash, and its text when it is text. */
export interface DiskFile extends FileStat {
  path: string
  hash: ContentHash
  bytes: Uint8Array
  /** The content as text, when `isText` says it is (and it is within the text size limit). */
  text: string | undefined
}

/** Reads a regular file (never through a symlink); undefined when missing or not a regular file. */
export function readDiskFile(
  root: string,
  path: string,
  maxTextBytes: number,
): DiskFile | undefined {
  const abs = join(root, path)
  try {
    const st = lstatSync(abs)
    if (!st.isFile()) return undefined
    const bytes = readFileSync(abs)
    const text = isText(bytes, { maxBytes: maxTextBytes }) ? bytes.toString('utf8') : undefined
    return { ...toFileStat(st), size: bytes.length, path, hash: hashBytes(bytes), bytes, text }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return undefined
    const fix = code === 'EACCES' || code === 'EPERM' ? '; check its permissions' : ''
    throw new SkeinError(
      'IO',
      `Cannot read ${path}: ${(err as Error).message}. It is left as it is (not treated as deleted) and synced once it can be read${fix}.`,
      { cause: err },
    )
  }
}

/** The hash of a string's UTF-8 bytes. */
export function textHash(text: string): ContentHash {
  return sha256HexSync(text)
}

/** The UTF-8 size of a string in bytes. */
export function textSize(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}
