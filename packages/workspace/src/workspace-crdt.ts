import * as Y from 'yjs'
import {
  SkeinError,
  isContentHash,
  newFileId,
  normalizeName,
  normalizePath,
  systemClock,
  type Clock,
  type ContentHash,
  type DeviceId,
  type FileId,
} from '@skein/core'
import { MAX_REPLACED, readEntry } from './entry.js'
import { derivedFolderId } from './folder-id.js'
import type { WorkspaceEvent, WorkspaceListener } from './events.js'
import { toWorkspaceOrigin, type WorkspaceOrigin } from './origin.js'
import { PathView } from './view.js'
import { ConflictLog } from './conflicts.js'
import {
  FILES_KEY,
  LOST_AND_FOUND_ID,
  MIGRATIONS,
  SCHEMA_KEY,
  SCHEMA_VERSION,
  type ConflictRecord,
  type FileEntry,
  type FileKind,
} from './schema.js'

export interface WorkspaceCrdtOptions {
  /** This replica's device id, recorded as createdBy/updatedBy/deletedBy. Required. */
  device: DeviceId
  /** Time source for createdAt/deletedAt; default the wall clock (tests skew it). */
  clock: Clock
}

/** Content metadata written by createFile/updateContent. */
export interface ContentMeta {
  hash: ContentHash | undefined
  size: number
  mtime: number
  /** Binary files: the content hash in the blob store. */
  blob?: ContentHash
  device?: DeviceId
  /** A new kind when the content changed kind (a text file that became binary); folders keep theirs. */
  kind?: Exclude<FileKind, 'folder'>
}

export interface CreateFileMeta extends ContentMeta {
  kind: Exclude<FileKind, 'folder'>
}

/** A shown entry: the stored fields plus its derived path. */
export interface ListedEntry extends FileEntry {
  path: string | undefined
}

type Origin = WorkspaceOrigin | undefined

/** The `content` value of a file entry (WS16): a plain object, undefined fields left out. */
function contentValue(c: {
  kind: 'text' | 'binary'
  hash?: ContentHash
  blob?: ContentHash
  size: number
  mtime: number
  replaced?: readonly ContentHash[]
}): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: c.kind, size: c.size, mtime: c.mtime }
  if (c.hash !== undefined) out.hash = c.hash
  if (c.kind === 'binary' && c.blob !== undefined) out.blob = c.blob
  if (c.replaced && c.replaced.length > 0) out.replaced = [...c.replaced]
  return out
}

function checkContent(meta: ContentMeta, where: string): void {
  const bad = (what: string) =>
    new SkeinError('INVALID_INPUT', `Invalid content metadata for "${where}": ${what}.`)
  if (meta.hash !== undefined && !isContentHash(meta.hash))
    throw bad('hash must be 64 lower-case hex digits (sha-256)')
  if (meta.blob !== undefined && !isContentHash(meta.blob))
    throw bad('blob must be a sha-256 hex hash')
  if (!Number.isSafeInteger(meta.size) || meta.size < 0)
    throw bad(`size must be a non-negative integer, got ${String(meta.size)}`)
  if (!Number.isFinite(meta.mtime))
    throw bad(`mtime must be a number of milliseconds, got ${String(meta.mtime)}`)
}

/**
 * The WorkspaceCrdt (DESIGN.md §2, rules in SPEC.md): the file tree of a
 * workspace as a Y.Doc. Entries are keyed by immutable FileId with one nested
 * Y.Map per entry (per-field merge); paths are derived, never stored; repairs
 * are view-level only, so every replica derives the same tree without writes.
 */
export class WorkspaceCrdt {
  readonly doc: Y.Doc
  readonly files: Y.Map<Y.Map<unknown>>
  private readonly device: DeviceId
  private readonly clock: Clock
  private readonly view = new PathView()
  private readonly invalid = new Map<FileId, string>()
  private readonly listeners = new Set<WorkspaceListener>()
  private readonly conflictLog: ConflictLog
  private readonly onDeep: (events: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction) => void

  constructor(
    doc: Y.Doc,
    options: Partial<WorkspaceCrdtOptions> & Pick<WorkspaceCrdtOptions, 'device'>,
  ) {
    if (!(doc instanceof Y.Doc))
      throw new SkeinError(
        'INVALID_INPUT',
        'WorkspaceCrdt needs a Y.Doc; pass the workspace document.',
      )
    this.doc = doc
    this.device = options.device
    this.clock = options.clock ?? systemClock
    this.files = doc.getMap(FILES_KEY)
    this.conflictLog = new ConflictLog(doc)
    const all = new Map<FileId, FileEntry | undefined>()
    this.files.forEach((v, k) => all.set(k as FileId, this.read(k as FileId, v)))
    this.view.apply(all)
    this.onDeep = (events, tr) => this.handle(events, tr)
    this.files.observeDeep(this.onDeep)
  }

  /** Stops observing the document (the document itself is left alone). */
  destroy(): void {
    this.files.unobserveDeep(this.onDeep)
    this.listeners.clear()
  }

  // ---- reading -----------------------------------------------------------

  /** The stored fields of an entry (deleted ones included), or undefined. */
  get(id: FileId): FileEntry | undefined {
    return this.view.entries.get(id)
  }

  /** The derived path of a live entry, or undefined (deleted, invalid, unknown). O(depth). */
  getPath(id: FileId): string | undefined {
    return this.view.pathOf(id)
  }

  /** The live entry shown at `path`, or undefined. O(depth). Throws INVALID_PATH for a bad path. */
  findByPath(path: string): FileId | undefined {
    const id = this.view.find(normalizePath(path).split('/'))
    return id === undefined || id === LOST_AND_FOUND_ID ? undefined : (id as FileId)
  }

  /** Shown children of a folder (`""` = root). Excludes the virtual lost+found folder. */
  children(id: FileId | ''): FileId[] {
    return this.view.childrenOf(id).filter((c) => c !== LOST_AND_FOUND_ID) as FileId[]
  }

  /** Every entry with its derived path; deleted ones only with `includeDeleted`. */
  list(options: { includeDeleted?: boolean } = {}): ListedEntry[] {
    const paths = this.view.allPaths()
    const out: ListedEntry[] = []
    for (const e of this.view.entries.values()) {
      if (e.deleted && !options.includeDeleted) continue
      out.push({ ...e, path: paths.get(e.id) })
    }
    return out
  }

  /** Path → FileId for every shown entry (folders included). O(n). */
  pathMap(): Map<string, FileId> {
    const out = new Map<string, FileId>()
    for (const [id, path] of this.view.allPaths())
      if (id !== LOST_AND_FOUND_ID) out.set(path, id as FileId)
    return out
  }

  /** Entries a peer wrote that break the schema (bad name, unknown kind); never shown, never written to disk. */
  invalidEntries(): Map<FileId, string> {
    return new Map(this.invalid)
  }

  /** The stored schema version (undefined on a replica that has not synced or written yet). */
  schemaVersion(): number | undefined {
    const v = this.doc.getMap(SCHEMA_KEY).get('version')
    return typeof v === 'number' ? v : undefined
  }

  // ---- writing -----------------------------------------------------------

  private transact<T>(origin: Origin, fn: () => T): T {
    const v = this.schemaVersion()
    if (v !== undefined && v > SCHEMA_VERSION) {
      throw new SkeinError(
        'UNSUPPORTED',
        `This workspace uses schema ${v}, newer than this Skein (${SCHEMA_VERSION}); upgrade Skein before editing it.`,
      )
    }
    let result!: T
    this.doc.transact(
      () => {
        if (v === undefined || v < SCHEMA_VERSION) {
          for (let to = (v ?? SCHEMA_VERSION) + 1; to <= SCHEMA_VERSION; to++)
            MIGRATIONS.get(to)?.(this.doc)
          this.doc.getMap(SCHEMA_KEY).set('version', SCHEMA_VERSION)
        }
        result = fn()
      },
      origin ?? { source: 'ui', device: this.device },
    )
    return result
  }

  private entryMap(id: FileId, what: string): Y.Map<unknown> {
    const m = this.files.get(id)
    const e = this.view.entries.get(id)
    if (!m || !e)
      throw new SkeinError(
        'NOT_FOUND',
        `Cannot ${what}: no entry with id ${id}; it may not have synced yet.`,
      )
    return m
  }

  private insert(id: FileId, fields: Record<string, unknown>): void {
    const m = new Y.Map<unknown>()
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) m.set(k, v)
    this.files.set(id, m)
  }

  /**
   * Ensures every folder of `segments` exists, creating missing ones inside the
   * running transaction. Returns the last folder's id and whether it is new.
   */
  private ensureFolders(
    segments: readonly string[],
    device: DeviceId,
  ): { id: FileId | ''; fresh: boolean } {
    let parent: FileId | '' = ''
    let fresh = false
    for (let i = 0; i < segments.length; i++) {
      if (!fresh) {
        const existing = this.view.find(segments.slice(0, i + 1))
        if (existing !== undefined && existing !== LOST_AND_FOUND_ID) {
          if (this.view.entries.get(existing as FileId)?.kind !== 'folder') {
            throw new SkeinError(
              'CONFLICT',
              `Cannot create inside "${segments.slice(0, i + 1).join('/')}": it is a file, not a folder. Rename one of them.`,
            )
          }
          parent = existing as FileId
          continue
        }
      }
      const name = segments[i] as string
      let id = derivedFolderId(parent, name)
      if (this.files.has(id)) id = newFileId()
      this.insert(id, {
        name,
        parent,
        kind: 'folder',
        createdAt: this.clock.now(),
        createdBy: device,
        updatedBy: device,
        gen: 1,
      })
      parent = id
      fresh = true
    }
    return { id: parent, fresh }
  }

  /** Creates a file at `path`, creating missing parent folders (WS7). Throws CONFLICT if the path is taken. */
  createFile(path: string, meta: CreateFileMeta, origin?: Origin): FileId {
    const norm = normalizePath(path)
    if (meta.kind !== 'text' && meta.kind !== 'binary')
      throw new SkeinError(
        'INVALID_INPUT',
        `createFile: kind must be "text" or "binary", got ${String(meta.kind)}; use createFolder for folders.`,
      )
    if (this.view.find(norm.split('/')) !== undefined)
      throw new SkeinError(
        'CONFLICT',
        `Cannot create "${norm}": an entry already shows at that path. Update it or pick another name.`,
      )
    checkContent(meta, norm)
    const device = meta.device ?? this.device
    return this.transact(origin, () => {
      const segs = norm.split('/')
      const parent = this.ensureFolders(segs.slice(0, -1), device).id
      const id = newFileId()
      const now = this.clock.now()
      this.insert(id, {
        name: segs[segs.length - 1],
        parent,
        kind: meta.kind,
        content: contentValue(meta),
        createdAt: now,
        createdBy: device,
        updatedBy: device,
        gen: 1,
      })
      return id
    })
  }

  /** Creates a folder (and missing parents) at `path`; returns the existing folder's id if one is there. */
  createFolder(path: string, origin?: Origin): FileId {
    const segs = normalizePath(path).split('/')
    const existing = this.view.find(segs)
    if (
      existing !== undefined &&
      existing !== LOST_AND_FOUND_ID &&
      this.view.entries.get(existing as FileId)?.kind === 'folder'
    )
      return existing as FileId
    return this.transact(origin, () => this.ensureFolders(segs, this.device).id as FileId)
  }

  /** Renames an entry in place: one field write (WS8). */
  rename(id: FileId, newName: string, origin?: Origin): void {
    const name = normalizeName(newName)
    const m = this.entryMap(id, 'rename')
    this.transact(origin, () => {
      m.set('name', name)
      m.set('updatedBy', origin?.device ?? this.device)
    })
  }

  /** Moves an entry under another folder (`""` = root): one field write. Refuses moves into its own subtree. */
  move(id: FileId, newParentId: FileId | '', origin?: Origin): void {
    const m = this.entryMap(id, 'move')
    this.checkMoveTarget(id, newParentId)
    this.transact(origin, () => {
      m.set('parent', newParentId)
      m.set('updatedBy', origin?.device ?? this.device)
    })
  }

  private checkMoveTarget(id: FileId, parent: FileId | ''): void {
    if (parent === '') return
    const p = this.view.entries.get(parent)
    if (!p || p.deleted || p.kind !== 'folder')
      throw new SkeinError(
        'INVALID_INPUT',
        `Cannot move ${id} into ${parent}: the target is not a live folder.`,
      )
    for (let cur: string | undefined = parent; cur; cur = this.view.placement(cur)?.parent) {
      if (cur === id)
        throw new SkeinError(
          'INVALID_INPUT',
          `Cannot move "${this.getPath(id)}" into its own subtree ("${this.getPath(parent)}").`,
        )
    }
  }

  /** Moves and/or renames an entry to `path` (creating missing parent folders) in one transaction. */
  moveToPath(id: FileId, path: string, origin?: Origin): void {
    const segs = normalizePath(path).split('/')
    const m = this.entryMap(id, 'move')
    const holder = this.view.find(segs)
    if (holder !== undefined && holder !== id)
      throw new SkeinError(
        'CONFLICT',
        `Cannot move to "${segs.join('/')}": another entry shows there. Move or rename it first.`,
      )
    this.transact(origin, () => {
      const { id: parent, fresh } = this.ensureFolders(
        segs.slice(0, -1),
        origin?.device ?? this.device,
      )
      if (!fresh) this.checkMoveTarget(id, parent)
      const name = segs[segs.length - 1] as string
      if (m.get('parent') !== parent) m.set('parent', parent)
      if (m.get('name') !== name) m.set('name', name)
      m.set('updatedBy', origin?.device ?? this.device)
    })
  }

  /** Records new content metadata for a file. */
  updateContent(id: FileId, meta: ContentMeta, origin?: Origin): void {
    const m = this.entryMap(id, 'update')
    checkContent(meta, id)
    this.transact(origin, () => {
      const cur = this.view.entries.get(id)
      const prev = cur?.hash
      const stored = m.get('kind')
      const kind = stored === 'folder' ? 'folder' : (meta.kind ?? cur?.kind ?? 'text')
      const hash = meta.hash ?? prev
      // WS15: what this write replaced, so a device can tell a concurrent write from a later
      // one. Text keeps only the version it replaced (notes change often; the list is for
      // a binary device whose version a text write may have replaced unseen).
      const keep = kind === 'binary' ? MAX_REPLACED : 1
      const before = cur?.replaced ?? []
      const replaced =
        isContentHash(prev) && prev !== hash
          ? [prev, ...before.filter((h) => h !== prev && h !== hash)].slice(0, keep)
          : before.slice(0, keep)
      const blob = meta.blob ?? (kind === 'binary' ? cur?.blob : undefined)
      if (kind === 'folder') {
        // A folder has no content value; what it was given stays in the loose keys.
        if (hash !== undefined) m.set('hash', hash)
        m.set('size', meta.size)
        m.set('mtime', meta.mtime)
      } else {
        // WS16: kind, hash and blob are one value, so a concurrent write never mixes two writers'.
        m.set(
          'content',
          contentValue({ kind, hash, blob, size: meta.size, mtime: meta.mtime, replaced }),
        )
        if (stored !== kind) m.set('kind', kind)
      }
      m.set('updatedBy', meta.device ?? origin?.device ?? this.device)
    })
  }

  /** Starts a new body-document generation (after a body had to be re-seeded); returns it. */
  bumpGen(id: FileId, origin?: Origin): number {
    const m = this.entryMap(id, 'reset the body of')
    const gen = (this.view.entries.get(id)?.gen ?? 1) + 1
    this.transact(origin, () => m.set('gen', gen))
    return gen
  }

  /** Tombstones an entry; a folder tombstones its whole shown subtree in the same transaction (WS10). */
  delete(id: FileId, device?: DeviceId, origin?: Origin): void {
    this.entryMap(id, 'delete')
    const by = device ?? origin?.device ?? this.device
    const at = this.clock.now()
    this.transact(origin, () => {
      const stack: string[] = [id]
      while (stack.length) {
        const cur = stack.pop() as FileId
        const m = this.files.get(cur)
        const e = this.view.entries.get(cur)
        if (!m || !e || e.deleted) continue
        m.set('deleted', true)
        m.set('deletedAt', at)
        m.set('deletedBy', by)
        // WS17: the content this delete saw; a concurrent content write shows as a different hash.
        if (e.kind !== 'folder' && e.hash !== undefined) m.set('deletedHash', e.hash)
        stack.push(...this.view.childrenOf(cur))
      }
    })
  }

  /**
   * Un-deletes an entry, its deleted ancestors (so it shows in place, not in
   * lost+found), and — for a folder — the descendants deleted with it (WS11).
   */
  restore(id: FileId, origin?: Origin): void {
    const target = this.view.entries.get(id)
    this.entryMap(id, 'restore')
    this.transact(origin, () => {
      const undelete = (cur: FileId) => {
        const m = this.files.get(cur)
        if (!m || m.get('deleted') !== true) return
        m.set('deleted', false)
        m.delete('deletedAt')
        m.delete('deletedBy')
        m.delete('deletedHash')
      }
      for (let cur = target?.parent; cur; cur = this.view.entries.get(cur as FileId)?.parent) {
        if (cur === id) break
        undelete(cur as FileId)
      }
      undelete(id)
      if (target?.kind === 'folder' && target.deletedAt !== undefined) {
        const stack = [id as string]
        const seen = new Set<string>()
        while (stack.length) {
          const cur = stack.pop() as string
          if (seen.has(cur)) continue
          seen.add(cur)
          for (const e of this.view.entries.values()) {
            if (
              e.parent === cur &&
              e.deleted &&
              e.deletedAt === target.deletedAt &&
              e.deletedBy === target.deletedBy
            ) {
              undelete(e.id)
              stack.push(e.id)
            }
          }
        }
      }
    })
  }

  // ---- conflicts ---------------------------------------------------------

  /**
   * Records a conflict so every device and the web page can show it; returns
   * its id. Pass `id` (derived from what collided) when several devices may
   * record the same conflict concurrently: they then leave one record (WS13).
   */
  recordConflict(
    record: Omit<ConflictRecord, 'id' | 'resolved' | 'time' | 'device' | 'path'> &
      Partial<Pick<ConflictRecord, 'time' | 'device' | 'id' | 'resolved'>>,
    origin?: Origin,
  ): string {
    const { id, resolved, ...fields } = record
    return this.transact(origin, () =>
      this.conflictLog.add(
        {
          ...fields,
          time: record.time ?? this.clock.now(),
          device: record.device ?? this.device,
          path: this.getPath(record.file) ?? '',
        },
        id,
        resolved === true,
      ),
    )
  }

  /** All recorded conflicts, oldest first. */
  conflicts(): ConflictRecord[] {
    return this.conflictLog.all()
  }

  /**
   * The conflicts that still need attention, oldest first: unresolved, and —
   * for one that saved the other version as a copy — while that copy is live.
   * Deleting the copy (on any device, with any editor) settles its conflict;
   * every replica derives the same answer from the same state, nothing is written.
   */
  openConflicts(): ConflictRecord[] {
    return this.conflictLog.all().filter((c) => {
      if (c.resolved) return false
      if (c.copy === undefined) return true
      const copy = this.get(c.copy)
      return copy !== undefined && !copy.deleted
    })
  }

  /** Marks a conflict resolved. */
  resolveConflict(id: string, origin?: Origin): void {
    this.transact(origin, () => this.conflictLog.resolve(id))
  }

  // ---- observing ---------------------------------------------------------

  /** Subscribes to typed tree events (one batch per transaction); returns the unsubscribe function. */
  observe(listener: WorkspaceListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  private read(id: FileId, value: unknown): FileEntry | undefined {
    const r = readEntry(id, value)
    if (r.valid) {
      this.invalid.delete(id)
      return r.entry
    }
    this.invalid.set(id, r.reason)
    return undefined
  }

  /** Turns one transaction's Yjs events into typed events, in O(changed entries). */
  private handle(events: Y.YEvent<Y.AbstractType<unknown>>[], tr: Y.Transaction): void {
    const ids = new Set<FileId>()
    const contentIds = new Set<FileId>()
    for (const ev of events) {
      if (ev.target === this.files)
        for (const key of (ev as Y.YMapEvent<unknown>).keysChanged) ids.add(key as FileId)
      else {
        const id = ev.path[0] as FileId
        ids.add(id)
        const keys = (ev as Y.YMapEvent<unknown>).keysChanged
        if (keys.has('content') || keys.has('hash') || keys.has('size') || keys.has('blob'))
          contentIds.add(id)
      }
    }
    const changed = new Map<FileId, FileEntry | undefined>()
    for (const id of ids) changed.set(id, this.read(id, this.files.get(id)))
    const origin = toWorkspaceOrigin(tr.origin)
    const existedBefore = new Map<FileId, { existed: boolean; deleted: boolean }>()
    for (const id of ids) {
      const e = this.view.entries.get(id)
      existedBefore.set(id, { existed: e !== undefined, deleted: e?.deleted ?? false })
    }
    const delta = this.view.apply(changed)
    const out: WorkspaceEvent[] = []
    for (const id of new Set<string>([...ids, ...delta.touched])) {
      if (id === LOST_AND_FOUND_ID) continue
      const was = existedBefore.get(id as FileId) ?? { existed: true, deleted: false }
      const e = this.view.entries.get(id as FileId)
      const base = { id: id as FileId, kind: e?.kind ?? 'text', origin }
      const oldPath = delta.oldPath(id)
      const path = this.view.pathOf(id)
      if (path === undefined) {
        if (oldPath !== undefined) out.push({ ...base, type: 'deleted', oldPath })
        continue
      }
      if (oldPath === undefined) {
        out.push(
          was.existed && was.deleted
            ? { ...base, type: 'restored', path }
            : { ...base, type: 'created', path },
        )
        continue
      }
      if (oldPath !== path) {
        const sameParent =
          oldPath.slice(0, oldPath.lastIndexOf('/') + 1) ===
          path.slice(0, path.lastIndexOf('/') + 1)
        out.push({ ...base, type: sameParent ? 'renamed' : 'moved', oldPath, newPath: path })
      }
      if (contentIds.has(id as FileId)) out.push({ ...base, type: 'contentChanged', path })
    }
    if (out.length === 0) return
    for (const l of [...this.listeners]) l(out, origin)
  }
}
