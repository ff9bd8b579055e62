import { pathKey, splitExt, type FileId } from '@skein/core'
import { LOST_AND_FOUND_ID, LOST_AND_FOUND_NAME, type FileEntry } from './schema.js'

const ROOT = ''
const LF = LOST_AND_FOUND_ID

/** What one `apply` changed: entries whose placement moved, and paths as they were before. */
export interface ViewDelta {
  touched: ReadonlySet<string>
  oldPath(id: string): string | undefined
}

/** Where an entry shows in the derived tree (or nowhere). */
export interface Placement {
  parent: string
  name: string
}

/**
 * The derived file tree (DESIGN.md §2), kept incrementally: effective parents
 * (with cycle and orphan repairs), display names (with collision suffixes), and
 * a per-folder name index so `find` is O(depth). Pure function of the entries:
 * two replicas with the same state derive the same tree (WS4–WS6).
 */
export class PathView {
  readonly entries = new Map<FileId, FileEntry>()
  private readonly rawKids = new Map<string, Set<FileId>>()
  private readonly effParent = new Map<FileId, string>()
  private readonly kids = new Map<string, Set<string>>()
  private readonly display = new Map<string, string>()
  private readonly byName = new Map<string, Map<string, string>>()
  private readonly colliding = new Set<string>()
  private readonly rowOf = new Map<string, [string, string]>()
  /** Placements as they were before the running `apply`, for entries it changed. */
  private journal = new Map<string, Placement | undefined>()

  private note(id: string): void {
    if (!this.journal.has(id)) this.journal.set(id, this.placement(id))
  }
  private readonly cycleRoots = new Set<FileId>()

  private isLiveFolder(id: string): boolean {
    const e = this.entries.get(id as FileId)
    return e !== undefined && !e.deleted && e.kind === 'folder'
  }

  /** Placement of an entry in the derived tree, or undefined when it is not shown (deleted, invalid). */
  placement(id: string): Placement | undefined {
    if (id === LF)
      return this.kids.get(LF)?.size
        ? { parent: ROOT, name: this.display.get(LF) ?? LOST_AND_FOUND_NAME }
        : undefined
    const parent = this.effParent.get(id as FileId)
    if (parent === undefined) return undefined
    return { parent, name: this.display.get(id) ?? '' }
  }

  /** The derived path of a shown entry (or of the lost+found folder). O(depth). */
  pathOf(id: string): string | undefined {
    return this.walk(id, (cur) => this.placement(cur))
  }

  /** The entry shown at `segments` (already normalized), or undefined. O(depth). */
  find(segments: readonly string[]): string | undefined {
    let cur = ROOT
    for (const seg of segments) {
      const next = this.byName.get(cur)?.get(pathKey(seg))
      if (next === undefined) return undefined
      cur = next
    }
    return cur === ROOT ? undefined : cur
  }

  /** Shown children of a folder (`""` for the root), including lost+found when it has members. */
  childrenOf(id: string): string[] {
    return [...(this.kids.get(id) ?? [])]
  }

  /** All shown entries with their paths, built top-down in O(n). */
  allPaths(): Map<string, string> {
    const out = new Map<string, string>()
    const walk = (id: string, prefix: string) => {
      for (const kid of this.kids.get(id) ?? []) {
        const path = prefix
          ? `${prefix}/${this.display.get(kid) ?? ''}`
          : (this.display.get(kid) ?? '')
        out.set(kid, path)
        walk(kid, path)
      }
    }
    walk(ROOT, '')
    return out
  }

  /**
   * Applies new values for `changed` entries (undefined = removed/invalid) and
   * returns the set of ids whose placement may have changed (for event diffing).
   */
  apply(changed: ReadonlyMap<FileId, FileEntry | undefined>): ViewDelta {
    this.journal = new Map()
    this.note(LF)
    for (const id of changed.keys()) this.note(id)
    const affected = new Set<string>(this.cycleRoots)
    for (const [id, next] of changed) {
      affected.add(id)
      const prev = this.entries.get(id)
      const structural = !prev || !next || prev.deleted !== next.deleted || prev.kind !== next.kind
      if (structural) for (const kid of this.rawKids.get(id) ?? []) affected.add(kid)
      if (prev?.parent !== next?.parent) {
        if (prev) this.rawKids.get(prev.parent)?.delete(id)
        if (next) this.setAdd(this.rawKids, next.parent, id)
      }
      if (next) this.entries.set(id, next)
      else this.entries.delete(id)
    }
    // A parent change can close a cycle: every member of it must be re-placed.
    for (const id of changed.keys()) for (const m of this.cycleMembers(id)) affected.add(m)
    // Each touched entry is listed under its old and its new parent, so each folder's names are redone once.
    const dirty = new Map<string, Set<string>>()
    const touch = (parent: string | undefined, id: string) => {
      if (parent !== undefined) this.setAdd(dirty, parent, id)
    }
    for (const id of affected) {
      if (id === LF) continue
      const before = this.effParent.get(id as FileId)
      const after = this.computeParent(id as FileId)
      if (before === after && !changed.has(id as FileId)) continue
      touch(before, id)
      touch(after, id)
      if (before === after) continue
      this.note(id)
      if (before !== undefined) this.kids.get(before)?.delete(id)
      if (after === undefined) this.effParent.delete(id as FileId)
      else {
        this.effParent.set(id as FileId, after)
        this.setAdd(this.kids, after, id)
      }
    }
    // lost+found is a child of the root exactly while it has members.
    const lfShown = (this.kids.get(LF)?.size ?? 0) > 0
    if (lfShown !== (this.kids.get(ROOT)?.has(LF) ?? false)) {
      if (lfShown) this.setAdd(this.kids, ROOT, LF)
      else this.kids.get(ROOT)?.delete(LF)
      touch(ROOT, LF)
    }
    for (const [parent, ids] of dirty) this.renameSiblings(parent, ids)
    const journal = this.journal
    this.journal = new Map()
    return {
      touched: new Set(journal.keys()),
      oldPath: (id) =>
        this.walk(id, (cur) => (journal.has(cur) ? journal.get(cur) : this.placement(cur))),
    }
  }

  private walk(id: string, at: (id: string) => Placement | undefined): string | undefined {
    const parts: string[] = []
    let cur = id
    for (let guard = 0; cur !== ROOT; guard++) {
      const p = at(cur)
      if (!p || guard > this.entries.size + 1) return undefined
      parts.push(p.name)
      cur = p.parent
    }
    return parts.reverse().join('/')
  }

  private setAdd<K, V>(map: Map<K, Set<V>>, key: K, value: V): void {
    let s = map.get(key)
    if (!s) map.set(key, (s = new Set()))
    s.add(value)
  }

  /** Members of the raw-parent cycle through `id` (empty when there is none). */
  private cycleMembers(id: FileId): FileId[] {
    const members: FileId[] = [id]
    const seen = new Set<string>([id])
    let cur = this.entries.get(id)?.parent
    while (cur !== undefined && cur !== ROOT && this.isLiveFolder(cur)) {
      if (cur === id) return members
      if (seen.has(cur)) return []
      seen.add(cur)
      members.push(cur as FileId)
      cur = this.entries.get(cur as FileId)?.parent
    }
    return []
  }

  /**
   * Effective parent (WS4–WS6): root for a top-level entry and for the smallest
   * member of a parent cycle; lost+found when the parent is missing, deleted or
   * not a folder; else the stored parent. Undefined for deleted entries.
   */
  private computeParent(id: FileId): string | undefined {
    const e = this.entries.get(id)
    this.cycleRoots.delete(id)
    if (!e || e.deleted) return undefined
    if (e.parent === ROOT) return ROOT
    if (!this.isLiveFolder(e.parent)) return LF
    const members = this.cycleMembers(id)
    if (members.length > 0 && members.every((m) => m >= id)) {
      this.cycleRoots.add(id)
      return ROOT
    }
    return e.parent
  }

  /** Sort key for "who keeps the plain name": the smaller (createdAt, FileId) wins (WS5). */
  private order(a: string, b: string): number {
    const ea = this.entries.get(a as FileId)
    const eb = this.entries.get(b as FileId)
    const ca = a === LF ? -Infinity : (ea?.createdAt ?? 0)
    const cb = b === LF ? -Infinity : (eb?.createdAt ?? 0)
    return ca !== cb ? ca - cb : a < b ? -1 : a > b ? 1 : 0
  }

  private rawName(id: string): string {
    return id === LF ? LOST_AND_FOUND_NAME : (this.entries.get(id as FileId)?.name ?? '')
  }

  /** Removes the name-index row of `id`, wherever it is. */
  private unindex(id: string): void {
    const row = this.rowOf.get(id)
    if (!row) return
    const index = this.byName.get(row[0])
    if (index?.get(row[1]) === id) index.delete(row[1])
    this.rowOf.delete(id)
  }

  private index(parent: string, id: string, name: string): void {
    this.unindex(id)
    let index = this.byName.get(parent)
    if (!index) this.byName.set(parent, (index = new Map()))
    const key = pathKey(name)
    index.set(key, id)
    this.rowOf.set(id, [parent, key])
  }

  /**
   * Recomputes display names in one folder. Fast path: no two children share a
   * collision key, so every child shows its own name and only `touched` children
   * are updated. Otherwise the whole folder is renamed deterministically (WS5).
   * Returns the children whose display name changed.
   */
  private renameSiblings(parent: string, touched: ReadonlySet<string>): string[] {
    const members = this.kids.get(parent) ?? new Set<string>()
    const changed: string[] = []
    const show = (id: string, name: string) => {
      if (this.display.get(id) !== name) {
        this.note(id)
        changed.push(id)
      }
      this.display.set(id, name)
      this.index(parent, id, name)
    }
    for (const id of touched)
      if (!members.has(id) && this.rowOf.get(id)?.[0] === parent) this.unindex(id)
    if (!this.colliding.has(parent)) {
      const index = this.byName.get(parent)
      const claimed = new Map<string, string>()
      let collision = false
      for (const id of touched) {
        if (!members.has(id)) continue
        const key = pathKey(this.rawName(id))
        const holder = index?.get(key)
        if ((holder !== undefined && holder !== id && !touched.has(holder)) || claimed.has(key))
          collision = true
        claimed.set(key, id)
      }
      if (!collision) {
        for (const id of touched) if (members.has(id)) this.unindex(id)
        for (const id of touched) if (members.has(id)) show(id, this.rawName(id))
        return changed
      }
    }
    // Full deterministic recompute of this folder.
    const groups = new Map<string, string[]>()
    for (const id of members) {
      const key = pathKey(this.rawName(id))
      const g = groups.get(key)
      if (g) g.push(id)
      else groups.set(key, [id])
    }
    const taken = new Set<string>()
    const losers: string[] = []
    for (const [key, ids] of groups) {
      ids.sort((a, b) => this.order(a, b))
      taken.add(key)
      losers.push(...ids.slice(1))
    }
    const loserSet = new Set(losers)
    losers.sort((a, b) => {
      const ka = pathKey(this.rawName(a))
      const kb = pathKey(this.rawName(b))
      return ka < kb ? -1 : ka > kb ? 1 : this.order(a, b)
    })
    for (const id of members) this.unindex(id)
    for (const id of members) if (!loserSet.has(id)) show(id, this.rawName(id))
    for (const id of losers) {
      const { stem, ext } = splitExt(this.rawName(id))
      for (let k = 2; ; k++) {
        const candidate = `${stem} (${k})${ext}`
        if (!taken.has(pathKey(candidate))) {
          taken.add(pathKey(candidate))
          show(id, candidate)
          break
        }
      }
    }
    if (losers.length > 0) this.colliding.add(parent)
    else this.colliding.delete(parent)
    return changed
  }
}
