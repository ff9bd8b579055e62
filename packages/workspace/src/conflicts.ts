import type * as Y from 'yjs'
import { isFileId, newFileId, type DeviceId } from '@skein/core'
import { CONFLICTS_KEY, type ConflictRecord } from './schema.js'

const KINDS = new Set(['edit', 'delete', 'name', 'join', 'binary'])

/** The `conflicts` map of a workspace: id → immutable record (plain values), read defensively. */
export class ConflictLog {
  private readonly map: Y.Map<unknown>

  constructor(doc: Y.Doc) {
    this.map = doc.getMap(CONFLICTS_KEY)
  }

  /**
   * Adds a record under a fresh id, or under `id` when given — a conflict
   * found by several devices at once then stays one record, and an existing
   * record (perhaps already resolved) is left as it is. `resolved`: a record of
   * a conflict the policy settled (nothing left to do; kept as history).
   */
  add(
    record: Omit<ConflictRecord, 'id' | 'resolved'>,
    id: string = newFileId(),
    resolved = false,
  ): string {
    if (this.map.has(id)) return id
    this.map.set(id, {
      file: record.file,
      kind: record.kind,
      device: record.device,
      time: record.time,
      path: record.path,
      ...(record.copy ? { copy: record.copy } : {}),
      resolved,
    })
    return id
  }

  resolve(id: string): void {
    const v = this.map.get(id)
    if (v && typeof v === 'object') this.map.set(id, { ...v, resolved: true })
  }

  all(): ConflictRecord[] {
    const out: ConflictRecord[] = []
    this.map.forEach((value, id) => {
      if (!value || typeof value !== 'object') return
      const v = value as Record<string, unknown>
      if (!isFileId(v.file) || typeof v.kind !== 'string' || !KINDS.has(v.kind)) return
      out.push({
        id,
        file: v.file,
        kind: v.kind as ConflictRecord['kind'],
        device: (typeof v.device === 'string' ? v.device : '') as DeviceId,
        time: typeof v.time === 'number' ? v.time : 0,
        copy: isFileId(v.copy) ? v.copy : undefined,
        path: typeof v.path === 'string' ? v.path : '',
        resolved: v.resolved === true,
      })
    })
    return out.sort((a, b) => a.time - b.time || (a.id < b.id ? -1 : 1))
  }
}
