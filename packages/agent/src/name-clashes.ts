import { baseName, pathKey } from '@skein/core'
import type { FileId } from '@skein/core'
import type { FileEntry } from '@skein/workspace'
import type { AgentContext } from './agent-context.js'
import { conflictCopyPath } from './names.js'

/** Shape of a device id usable in a file name (core's device-id rule). */
const DEVICE_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Folders first (their children keep their paths), then the smaller (createdAt, FileId). */
function beats(a: FileEntry, b: FileEntry): number {
  if ((a.kind === 'folder') !== (b.kind === 'folder')) return a.kind === 'folder' ? -1 : 1
  return a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
}

const sameContent = (a: FileEntry, b: FileEntry) =>
  a.kind === b.kind && a.hash !== undefined && a.hash === b.hash

/**
 * Live siblings whose names clash after NFC and case folding: devices that
 * created the same path without seeing each other (an offline period, the
 * reconnect race), or a rename that met a create. The WorkspaceCrdt only
 * shows such entries apart (`x (2).md`); this turns the clash into what a
 * user expects (DESIGN §3, §6) with writes every device computes the same
 * way from the same state, so devices agree without coordinating:
 *
 * - the winner is a folder if there is one, else the smaller (createdAt,
 *   FileId) — the entry the view already shows at the plain name;
 * - a folder that lost to a folder is merged into it: its children move over
 *   (clashes among them are resolved in turn) and it is deleted;
 * - a file holding the winner's content, or that of a copy already kept, is
 *   deleted: one copy of a text, not two (the "doubled note");
 * - any other file is renamed to `<stem>.conflict-<creator>-<created><ext>`
 *   next to the winner — its FileId, body and history are kept — and the clash
 *   is recorded under an id derived from the loser, so devices resolving it
 *   concurrently write the same name and leave one record.
 *
 * Name clashes always keep both sides, whatever the conflict policy: the
 * policies choose between versions of one note, and here there are two notes.
 * Live entries whose folder was deleted while a folder of the same name lives
 * next to it (a merged-away folder, or one deleted and created again) are
 * moved into that folder rather than shown under `lost+found`.
 */
export class NameClashes {
  constructor(private readonly ctx: AgentContext) {}

  /** Resolves clashes among the siblings of `ids`; returns every entry it changed. */
  resolve(ids: Iterable<FileId>): FileId[] {
    const { ws } = this.ctx
    const folders = new Set<FileId | ''>()
    const changed = new Set<FileId>()
    for (const id of ids) {
      const e = ws.get(id)
      if (!e || e.deleted) continue
      const adoptedInto = this.adopt(e)
      if (adoptedInto !== undefined) {
        changed.add(e.id)
        folders.add(adoptedInto)
        continue
      }
      // The view shows every clash loser under a suffixed name: a cheap filter. The
      // entry's folders too — a note may arrive before (or without) its clashing folder.
      const shown = ws.getPath(id)?.split('/') ?? []
      let cur: FileEntry | undefined = e
      for (let i = shown.length - 1; i >= 0 && cur; i--) {
        if (shown[i] !== cur.name) folders.add(cur.parent as FileId | '')
        cur = cur.parent === '' ? undefined : ws.get(cur.parent as FileId)
      }
    }
    const queue = [...folders]
    for (let folder = queue.shift(); folder !== undefined; folder = queue.shift())
      for (const merged of this.resolveIn(folder, changed)) queue.push(merged)
    return [...changed]
  }

  /**
   * True when the entry, or a folder it is in, shows under a clash suffix
   * (`notes (2)`) that no pass has resolved yet — the clash arrived while a
   * pass was running. Such a path must not reach the disk: the next pass over
   * the entry resolves the clash first.
   */
  unresolved(id: FileId): boolean {
    const { ws } = this.ctx
    const shown = ws.getPath(id)?.split('/') ?? []
    let cur = ws.get(id)
    for (let i = shown.length - 1; i >= 0 && cur; i--) {
      const name = cur.name
      if (shown[i] !== name) {
        const key = pathKey(name)
        const twin = ws
          .children(cur.parent as FileId | '')
          .some((c) => c !== cur?.id && pathKey(ws.get(c)?.name ?? '') === key)
        if (twin) return true
      }
      cur = cur.parent === '' ? undefined : ws.get(cur.parent as FileId)
    }
    return false
  }

  /** Moves an entry out of a deleted folder into the live folder of the same name beside it. */
  private adopt(e: FileEntry): FileId | undefined {
    const { ctx } = this
    const parent = e.parent === '' ? undefined : ctx.ws.get(e.parent as FileId)
    if (!parent?.deleted || parent.kind !== 'folder') return undefined
    const home = ctx.ws
      .children(parent.parent as FileId | '')
      .map((c) => ctx.ws.get(c))
      .find(
        (c) =>
          c !== undefined &&
          !c.deleted &&
          c.kind === 'folder' &&
          c.id !== parent.id &&
          pathKey(c.name) === pathKey(parent.name),
      )
    if (!home) return undefined
    ctx.opts.logger.debug('adopting an entry of a deleted folder', { id: e.id, into: home.id })
    ctx.ws.move(e.id, home.id, ctx.origin)
    return home.id
  }

  /** Resolves the clashes among the children of one folder; returns folders that received merged children. */
  private resolveIn(folder: FileId | '', changed: Set<FileId>): FileId[] {
    const { ctx } = this
    const groups = new Map<string, FileEntry[]>()
    for (const c of ctx.ws.children(folder)) {
      const e = ctx.ws.get(c)
      if (!e || e.deleted) continue
      const key = pathKey(e.name)
      const g = groups.get(key)
      if (g) g.push(e)
      else groups.set(key, [e])
    }
    const merged: FileId[] = []
    for (const group of groups.values()) {
      if (group.length < 2) continue
      group.sort(beats)
      const winner = group[0] as FileEntry
      const kept: FileEntry[] = winner.kind === 'folder' ? [] : [winner]
      // One transaction per write: a folder delete tombstones what the view shows
      // inside it, so the moves out of it must be applied to the view first.
      for (const loser of group.slice(1)) {
        changed.add(loser.id)
        if (loser.kind === 'folder') {
          this.mergeFolder(loser, winner, changed)
          merged.push(winner.id)
        } else if (kept.some((k) => sameContent(k, loser))) {
          ctx.opts.logger.debug('name clash: same content, one entry kept', { id: loser.id })
          ctx.ws.delete(loser.id, ctx.device, ctx.origin)
        } else {
          this.renameToCopy(winner, loser)
          kept.push(loser)
        }
      }
    }
    return merged
  }

  private mergeFolder(loser: FileEntry, winner: FileEntry, changed: Set<FileId>): void {
    const { ctx } = this
    ctx.opts.logger.debug('name clash: merging folders', { from: loser.id, into: winner.id })
    for (const c of ctx.ws.children(loser.id)) {
      ctx.ws.move(c, winner.id, ctx.origin)
      changed.add(c)
    }
    // Deleted only once empty: a child another device adds meanwhile is adopted later.
    if (ctx.ws.children(loser.id).length === 0) ctx.ws.delete(loser.id, ctx.device, ctx.origin)
  }

  private renameToCopy(winner: FileEntry, loser: FileEntry): void {
    const { ctx } = this
    const at = ctx.ws.getPath(winner.id) ?? winner.name
    const device =
      loser.createdBy !== undefined && DEVICE_RE.test(loser.createdBy) ? loser.createdBy : 'unknown'
    const copyPath = conflictCopyPath(
      at,
      device,
      loser.createdAt,
      (p) => ctx.ws.findByPath(p) !== undefined,
    )
    ctx.opts.logger.debug('name clash: renamed to a conflict copy', { id: loser.id, copyPath })
    // One transaction: no device sees the renamed copy without the conflict record.
    ctx.ws.doc.transact(() => {
      ctx.ws.rename(loser.id, baseName(copyPath), ctx.origin)
      ctx.ws.recordConflict(
        { id: `name-${loser.id}`, file: winner.id, kind: 'name', copy: loser.id },
        ctx.origin,
      )
    }, ctx.origin)
    ctx.conflict({
      fileId: winner.id,
      path: at,
      kind: 'name',
      policy: 'copy',
      copyPath,
    })
  }
}
