import { SkeinError } from './errors.js'

/** Longest path segment, in UTF-8 bytes (ext4, APFS, NTFS all stop at 255). */
export const MAX_SEGMENT_BYTES = 255
/** Longest whole path, in UTF-8 bytes (Linux PATH_MAX). */
export const MAX_PATH_BYTES = 4096

const encoder = new TextEncoder()
// C0 controls, DEL and C1 controls: invisible, break terminals and some filesystems.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
const DRIVE = /^[A-Za-z]:$/

function invalid(input: unknown, why: string, fix: string): SkeinError {
  const shown =
    typeof input === 'string'
      ? JSON.stringify(input.length > 120 ? input.slice(0, 120) + '…' : input)
      : String(input)
  return new SkeinError('INVALID_PATH', `Invalid path ${shown}: ${why}; ${fix}.`, {
    details: { reason: why },
  })
}

/**
 * Canonical workspace-relative POSIX path (NFC, `/`-separated, no `.`/`..`
 * segments, no leading `/`), or throws `SkeinError('INVALID_PATH')`.
 * Rules PR1–PR9 in packages/core/SPEC.md.
 */
export function normalizePath(input: unknown): string {
  if (typeof input !== 'string')
    throw invalid(
      input,
      'a path must be a string',
      'pass a workspace-relative path such as "notes/todo.md"',
    )
  if (input.length === 0)
    throw invalid(input, 'the path is empty', 'name a file or folder inside the workspace')
  if (input.includes('\\'))
    throw invalid(
      input,
      'it contains a backslash',
      'use "/" as the separator (backslashes are not guessed at)',
    )
  if (CONTROL.test(input))
    throw invalid(
      input,
      'it contains a NUL or control character',
      'rename the file without control characters',
    )
  if (LONE_SURROGATE.test(input))
    throw invalid(
      input,
      'it contains an unpaired UTF-16 surrogate (not valid Unicode)',
      'use a valid Unicode name',
    )
  if (input.startsWith('/'))
    throw invalid(input, 'it is absolute', 'give the path relative to the workspace root')
  const segments = input.split('/')
  if (DRIVE.test(segments[0] ?? ''))
    throw invalid(
      input,
      'it starts with a drive letter (absolute)',
      'give the path relative to the workspace root',
    )
  const out: string[] = []
  for (const raw of segments) {
    if (raw === '')
      throw invalid(
        input,
        'it has an empty segment ("//" or a trailing "/")',
        'remove the extra "/"',
      )
    if (raw === '.') continue
    if (raw === '..') {
      if (out.length === 0)
        throw invalid(
          input,
          'its ".." escapes the workspace root',
          'keep the path inside the workspace',
        )
      out.pop()
      continue
    }
    const seg = raw.normalize('NFC')
    if (encoder.encode(seg).length > MAX_SEGMENT_BYTES) {
      throw invalid(
        input,
        `a segment is longer than ${MAX_SEGMENT_BYTES} UTF-8 bytes`,
        'shorten that file or folder name',
      )
    }
    out.push(seg)
  }
  if (out.length === 0)
    throw invalid(
      input,
      'it refers to the workspace root itself',
      'name a file or folder inside the workspace',
    )
  const path = out.join('/')
  if (encoder.encode(path).length > MAX_PATH_BYTES)
    throw invalid(
      input,
      `it is longer than ${MAX_PATH_BYTES} UTF-8 bytes`,
      'use a shallower or shorter path',
    )
  return path
}

/** Validates one path segment (a file or folder name) and returns it in NFC. */
export function normalizeName(input: unknown): string {
  const path = normalizePath(input)
  if (path.includes('/') || input === '.' || input === '..') {
    throw invalid(input, 'a name is one path segment', 'pass a name without "/", "." or ".."')
  }
  return path
}

/** The collision key of a path or name: NFC plus case folding (`Note.md` ≡ `note.md`). */
export function pathKey(path: string): string {
  return path.normalize('NFC').toUpperCase().toLowerCase().normalize('NFC')
}

/** The parent path of a normalized path (`""` for a top-level entry). */
export function parentPath(path: string): string {
  const i = path.lastIndexOf('/')
  return i < 0 ? '' : path.slice(0, i)
}

/** The last segment of a normalized path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1)
}

/** Splits a name into stem and extension (`a.tar.gz` → `a.tar` + `.gz`; `.env` has no extension). */
export function splitExt(name: string): { stem: string; ext: string } {
  const i = name.lastIndexOf('.')
  if (i <= 0) return { stem: name, ext: '' }
  return { stem: name.slice(0, i), ext: name.slice(i) }
}

/** Joins normalized paths/segments, skipping empty ones. */
export function joinPath(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/')
}
