import { compactTimestamp, splitExt, parentPath, baseName, joinPath } from '@skein/core'

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

/** True when a file name is a conflict copy made by some device (DESIGN §6). */
export function isConflictCopyName(name: string): boolean {
  return CONFLICT_RE.test(splitExt(name).stem)
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
  const { stem: rawStem, ext } = splitExt(baseName(path))
  const stem = rawStem.replace(CONFLICT_RE, '')
  const dir = parentPath(path)
  const base = `${stem}.conflict-${device}-${compactTimestamp(ms)}`
  let candidate = joinPath(dir, base + ext)
  for (let n = 2; taken(candidate); n++) candidate = joinPath(dir, `${base}-${n}${ext}`)
  return candidate
}
