import * as Y from 'yjs'
import {
  isContentHash,
  normalizeName,
  type ContentHash,
  type DeviceId,
  type FileId,
} from '@skein/core'
import { FILE_KINDS, type FileEntry, type FileKind } from './schema.js'

/** How many replaced hashes a binary entry keeps (WS15). */
export const MAX_REPLACED = 8

const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

/** The stored shape of an entry's `content` value (WS16). */
export interface StoredContent {
  kind: 'text' | 'binary'
  hash?: string
  blob?: string
  size: number
  mtime: number
  replaced?: string[]
}

/** Reads a `content` value a peer wrote; anything malformed is ignored (the loose keys are used). */
function readContent(v: unknown): StoredContent | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined
  const c = v as Record<string, unknown>
  if (c.kind !== 'text' && c.kind !== 'binary') return undefined
  return {
    kind: c.kind,
    hash: str(c.hash),
    blob: str(c.blob),
    size: num(c.size),
    mtime: num(c.mtime),
    replaced: Array.isArray(c.replaced)
      ? (c.replaced as unknown[]).filter(isContentHash)
      : undefined,
  }
}

/** The result of reading one stored entry; `valid: false` entries never enter the path view. */
export type ReadEntry =
  { valid: true; entry: FileEntry } | { valid: false; id: FileId; reason: string }

/**
 * Reads a nested entry map defensively: remote peers may write anything (WS9).
 * A name that fails the path rules, an unknown kind or a non-string parent makes
 * the entry invalid; optional fields of the wrong type fall back to defaults.
 */
export function readEntry(id: FileId, value: unknown): ReadEntry {
  if (!(value instanceof Y.Map)) return { valid: false, id, reason: 'entry is not a map' }
  const m = value as Y.Map<unknown>
  const rawName = m.get('name')
  let name: string
  try {
    name = normalizeName(rawName)
  } catch {
    return {
      valid: false,
      id,
      reason: `invalid name ${JSON.stringify(String(rawName)).slice(0, 80)}`,
    }
  }
  const kind = m.get('kind')
  if (typeof kind !== 'string' || !FILE_KINDS.has(kind))
    return { valid: false, id, reason: `unknown kind ${String(kind)}` }
  const parent = m.get('parent')
  if (typeof parent !== 'string') return { valid: false, id, reason: 'parent is not a string' }
  // WS16: a file's content is one value (`content`), so concurrent writes keep one
  // writer's kind, hash and blob together; entries written before it use the loose keys.
  const c = kind === 'folder' ? undefined : readContent(m.get('content'))
  const hash = c ? c.hash : m.get('hash')
  const blob = c ? c.blob : m.get('blob')
  const replaced = c ? c.replaced : m.get('replaced')
  return {
    valid: true,
    entry: {
      id,
      name,
      parent,
      kind: c ? c.kind : (kind as FileKind),
      hash: isContentHash(hash) ? hash : undefined,
      size: num(c ? c.size : m.get('size')),
      mtime: num(c ? c.mtime : m.get('mtime')),
      blob: isContentHash(blob) ? blob : undefined,
      deleted: m.get('deleted') === true,
      deletedAt: typeof m.get('deletedAt') === 'number' ? num(m.get('deletedAt')) : undefined,
      deletedBy: str(m.get('deletedBy')) as DeviceId | undefined,
      ...(isContentHash(m.get('deletedHash'))
        ? { deletedHash: m.get('deletedHash') as ContentHash }
        : {}),
      createdAt: num(m.get('createdAt')),
      createdBy: str(m.get('createdBy')) as DeviceId | undefined,
      updatedBy: str(m.get('updatedBy')) as DeviceId | undefined,
      gen: num(m.get('gen'), 1),
      ...(Array.isArray(replaced)
        ? { replaced: replaced.filter(isContentHash).slice(0, MAX_REPLACED) }
        : {}),
    },
  }
}
