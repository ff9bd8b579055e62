import {
  MAX_SEGMENT_BYTES,
  compactTimestamp,
  splitExt,
  parentPath,
  baseName,
  joinPath,
} from '@skein/core'

/** Prefix of the agent's temp files; together with the `.tmp` suffix the ignore rules skip them. */
export const TEMP_PREFIX = '.skein-'
/** Suffix of the agent's temp files (matched by the default `*.tmp` rule). */
export const TEMP_SUFFIX = '.tmp'
const TEMP_RE = /^\.skein-[0-9a-f]{16}\.tmp$/

/** A fresh temp-file name for an atomic write next to the target (same folder, same filesystem). */
export function tempName(): string {
  const bytes = new Uint8Array(8)
  globalThis.crypto.getRandomValues(bytes)
  let hex = ''
  for (const b of bytes) hex += b.toString(16).padStart(2, '0')
  return `${TEMP_PREFIX}${hex}${TEMP_SUFFIX}`
}

/** True when a name has the exact shape of one of the agent's temp files. */
export function isTempName(name: string): boolean {
  return TEMP_RE.test(name)
}

// `.conflict-<device>-<YYYYMMDD-HHMMSS>` optionally followed by `-<n>` for uniqueness.
const CONFLICT_RE = /\.conflict-[A-Za-z0-9][A-Za-z0-9._-]{0,63}?-\d{8}-\d{6}(?:-\d+)?$/

/**
 * Stem and extension of a name, where an extensionless conflict copy
 * (`README.conflict-pc-20260102-030405`) is all stem — its `.conflict-…` tail
 * is not an extension.
 */
function copyParts(name: string): { stem: string; ext: string } {
  return CONFLICT_RE.test(name) ? { stem: name, ext: '' } : splitExt(name)
}

/** True when a file name is a conflict copy made by some device (DESIGN §6). */
export function isConflictCopyName(name: string): boolean {
  return CONFLICT_RE.test(copyParts(baseName(name)).stem)
}

/**
 * The path of a conflict copy for `path`:
 * `<stem>.conflict-<device>-<YYYYMMDD-HHMMSS><ext>` in the same folder.
 * The stem of an existing conflict copy is stripped first (never a conflict of a
 * conflict), and `-2`, `-3`, … is appended while `taken(path)` says the name is used.
 */
export function conflictCopyPath(
  path: string,
  device: string,
  ms: number,
  taken: (candidate: string) => boolean,
): string {
  const parts = copyParts(baseName(path))
  // An "extension" too long to keep whole is part of the stem (and shortened with it).
  const ext = utf8Bytes(parts.ext) > 32 ? '' : parts.ext
  const stem = (ext ? parts.stem : parts.stem + parts.ext).replace(CONFLICT_RE, '')
  const dir = parentPath(path)
  const tail = `.conflict-${device}-${compactTimestamp(ms)}`
  // The copy's name stays a valid segment: the stem is shortened, leaving room for `-<n>`.
  const base = `${fitBytes(stem, MAX_SEGMENT_BYTES - utf8Bytes(`${tail}-999${ext}`))}${tail}`
  let candidate = joinPath(dir, base + ext)
  for (let n = 2; taken(candidate); n++) candidate = joinPath(dir, `${base}-${n}${ext}`)
  return candidate
}

const utf8Bytes = (s: string) => Buffer.byteLength(s, 'utf8')

/** The longest prefix of `s` (whole code points) that fits in `max` UTF-8 bytes. */
function fitBytes(s: string, max: number): string {
  if (utf8Bytes(s) <= max) return s
  let out = ''
  for (const cp of s) {
    if (utf8Bytes(out + cp) > max) break
    out += cp
  }
  return out
}

/** True when `candidate` is a conflict copy of the file named `name` (same stem and extension). */
export function isConflictCopyOf(candidate: string, name: string): boolean {
  const c = copyParts(baseName(candidate))
  if (!CONFLICT_RE.test(c.stem)) return false
  const n = copyParts(baseName(name))
  return c.stem.replace(CONFLICT_RE, '') === n.stem.replace(CONFLICT_RE, '') && c.ext === n.ext
}
