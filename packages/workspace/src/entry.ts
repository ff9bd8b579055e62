import * as Y from 'yjs'
import { isContentHash, normalizeName, type DeviceId, type FileId } from '@skein/core'
import { FILE_KINDS, type FileEntry, type FileKind } from './schema.js'

/** How many replaced hashes a binary entry keeps (WS15). */
export const MAX_REPLACED = 8

const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d)
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined)

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
  const hash = m.get('hash')
  const blob = m.get('blob')
  const replaced = m.get('replaced')
  return {
    valid: true,
    entry: {
      id,
      name,
      parent,
      kind: kind as FileKind,
      hash: isContentHash(hash) ? hash : undefined,
      size: num(m.get('size')),
      mtime: num(m.get('mtime')),
      blob: isContentHash(blob) ? blob : undefined,
      deleted: m.get('deleted') === true,
      deletedAt: typeof m.get('deletedAt') === 'number' ? num(m.get('deletedAt')) : undefined,
      deletedBy: str(m.get('deletedBy')) as DeviceId | undefined,
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
