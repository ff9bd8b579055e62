import { existsSync, lstatSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { normalizePath, pathKey } from '@skein/core'
import type { FileId } from '@skein/core'
import type { AgentContext } from './agent-context.js'
import type { FileSync } from './file-sync.js'
import { readHashed } from './file-hash.js'
import type { HashedStat } from './file-hash.js'
import { scanFolder, unsyncableName } from './scanner.js'
import { STATE_DIR } from './state-store.js'
import type { BaseRecord } from './state-types.js'
import { EMPTY_HASH } from './disk-file.js'
import { folderVsFile } from './skipped-files.js'
import type { SkipKind } from './skipped-files.js'

/** What a pass found on disk, compared with the bases. */
interface DiskView {
  files: Map<string, HashedStat>
  folders: Map<string, number>
  /** Bases that were in scope (their path, or a folder holding it, was looked at). */
  scope: BaseRecord[]
}

/** Decides whether a batch of local deletes may go out (mass-delete guard); false pauses the agent. */
export type DeleteGuard = (deletes: number, total: number) => boolean

const under = (path: string, dir: string) =>
  dir === '' || path === dir || path.startsWith(dir + '/')

/**
 * Turns disk changes into workspace operations: renames and moves (by inode,
 * then by hash; a folder rename is one move), creates, edits and deletes, with
 * the mass-delete guard in front of deletes.
 */
export class LocalChanges {
  /** Files seen gone, by FileId, with when: deleted only after the grace period. */
  private readonly missing = new Map<FileId, number>()

  constructor(
    private readonly ctx: AgentContext,
    private readonly files: FileSync,
    private readonly guard: DeleteGuard,
  ) {}

  /** Looks at `paths` (files or folders; `''` = everything) and returns what is there. */
  private async look(paths: readonly string[]): Promise<DiskView> {
    const { ctx } = this
    const view: DiskView = { files: new Map(), folders: new Map(), scope: [] }
    const roots = paths.includes('') ? [''] : paths
    const previous = (p: string) => ctx.store.baseByPath(p)
    // Bases in scope: at a looked-at path, or below one that is (or was) a folder.
    const exact = new Set<string>()
    const folders = new Set<string>()
    for (const p of roots) {
      if (p !== '' && ctx.ignore.ignores(p, false) && ctx.ignore.ignores(p, true)) continue
      let st
      try {
        st = p === '' ? undefined : lstatSync(join(ctx.opts.root, p))
      } catch {
        st = undefined
      }
      if (p === '' || st?.isDirectory()) {
        if (p !== '' && st) view.folders.set(p, st.ino)
        const res = await scanFolder(ctx.opts.root, { ignore: ctx.ignore, previous, under: p })
        for (const [fp, f] of res.files) view.files.set(fp, f)
        for (const fp of res.folders) view.folders.set(fp, lstatSafe(join(ctx.opts.root, fp)))
        this.sweepTemps(res.temps)
        for (const i of res.issues)
          if (i.kind === 'io') ctx.issue(i)
          else ctx.skipped.skip({ path: i.path, kind: i.kind, message: skipMessage(i) })
      } else if (st?.isSymbolicLink() && !ctx.ignore.ignores(p, false)) {
        ctx.skipped.skip({
          path: p,
          kind: 'symlink',
          message: `${p} is a symbolic link; links are never followed or synced.`,
        })
      } else if (st?.isFile() && !ctx.ignore.ignores(p, false)) {
        const bad = p
          .split('/')
          .map((seg) => unsyncableName(seg))
          .find((m) => m !== undefined)
        if (bad !== undefined)
          ctx.skipped.skip({
            path: p,
            kind: 'unsyncable-name',
            message: skipMessage({ path: p, message: bad }),
          })
        else {
          const f = await readHashed(join(ctx.opts.root, p))
          if (f) view.files.set(p, f)
        }
      }
      exact.add(p)
      if (st === undefined || st.isDirectory()) folders.add(p)
    }
    for (const b of ctx.store.allBases()) {
      if (folders.has('') || exact.has(b.path)) {
        view.scope.push(b)
        continue
      }
      for (let i = b.path.lastIndexOf('/'); i > 0; i = b.path.lastIndexOf('/', i - 1))
        if (folders.has(b.path.slice(0, i))) {
          view.scope.push(b)
          break
        }
    }
    return view
  }

  /**
   * Removes temp files of the agent's shape that no write in progress owns:
   * litter of a write interrupted by a crash or by its folder being moved
   * mid-write (the temp moved with the folder, out of the writer's reach).
   */
  private sweepTemps(temps: readonly string[]): void {
    const { ctx } = this
    for (const p of temps) {
      if (ctx.writer.isInFlight(p.slice(p.lastIndexOf('/') + 1))) continue
      try {
        unlinkSync(join(ctx.opts.root, p))
        ctx.opts.logger.debug('removed a stale temp file', { path: p })
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
          ctx.issue({
            path: p,
            kind: 'io',
            message: `Cannot remove the stale temp file ${p}: ${(err as Error).message}`,
          })
      }
    }
  }

  /** Processes changes under `paths` (`['']` for a full rescan). */
  async process(paths: readonly string[]): Promise<void> {
    const { ctx } = this
    if (!existsSync(ctx.opts.root) || !existsSync(join(ctx.opts.root, STATE_DIR))) {
      this.guard(Number.POSITIVE_INFINITY, 0)
      return
    }
    // Skipped paths under what is looked at are forgotten unless found again (fixed by the user).
    ctx.skipped.beginLook(paths.includes('') ? [''] : paths)
    try {
      await this.processLook(await this.look(paths), paths)
    } finally {
      ctx.skipped.endLook()
    }
  }

  /**
   * Leaves out of a look what the workspace cannot hold, reporting each as
   * skipped: a path core's rules refuse as a whole (too long), names that
   * differ from another only by letter case or Unicode form (one workspace
   * entry, and macOS or Windows devices, can hold only one of them: the one
   * already synced, else the first by name, is kept), and paths inside what
   * the workspace has as a file.
   */
  private admit(view: DiskView): void {
    const { ctx } = this
    const skipped: string[] = []
    const drop = (p: string, kind: SkipKind, message: string) => {
      ctx.skipped.skip({ path: p, kind, message })
      skipped.push(p)
    }
    const all = [...view.folders.keys(), ...view.files.keys()].sort()
    const byKey = new Map<string, string[]>()
    for (const p of all) {
      const k = pathKey(p)
      const g = byKey.get(k)
      if (g) g.push(p)
      else byKey.set(k, [p])
    }
    for (const group of byKey.values()) {
      if (group.length < 2) continue
      const keeper = group.find((p) => ctx.store.baseByPath(p)?.path === p) ?? group[0]
      for (const p of group)
        if (p !== keeper)
          drop(
            p,
            'case-twin',
            `${p} differs from ${keeper} only in letter case or Unicode form; the workspace (and macOS or Windows devices) can hold only one of them. Rename ${p} and it will sync.`,
          )
    }
    for (const p of all) {
      // A path with its own base is in the workspace already: only new ones need checking.
      if (ctx.store.baseByPath(p)?.path === p) continue
      if (skipped.some((s) => p.startsWith(s + '/'))) continue
      try {
        normalizePath(p)
      } catch (err) {
        drop(p, 'unsyncable-name', skipMessage({ path: p, message: (err as Error).message }))
        continue
      }
      const clash = this.kindClash(p, view.folders.has(p))
      if (clash !== undefined) drop(p, 'path-conflict', clash)
    }
    if (skipped.length === 0) return
    const gone = (p: string) => skipped.some((s) => p === s || p.startsWith(s + '/'))
    for (const p of [...view.files.keys()]) if (gone(p)) view.files.delete(p)
    for (const p of [...view.folders.keys()]) if (gone(p)) view.folders.delete(p)
  }

  /**
   * Why `path` cannot map onto the workspace's tree, if it cannot: a folder on
   * it (or the path itself, for a folder) is a file in the workspace, or the
   * path is a file here but a folder there.
   */
  private kindClash(path: string, isDir: boolean): string | undefined {
    const { ctx } = this
    const segs = path.split('/')
    for (let i = 1; i <= segs.length; i++) {
      const at = segs.slice(0, i).join('/')
      let id
      try {
        id = ctx.ws.findByPath(at.normalize('NFC'))
      } catch {
        return undefined
      }
      if (id === undefined) return undefined
      const folder = ctx.ws.get(id)?.kind === 'folder'
      const mine = i === segs.length
      if (mine && !isDir && folder)
        return `${path} is a file here but a folder in the workspace (from another device); rename one of them and both will sync.`
      if (mine && isDir && !folder) return folderVsFile(path)
      if (!mine && !folder)
        return `${path} is in the folder ${at}, which is a file in the workspace (from another device); rename the folder or the file and both will sync.`
    }
    return undefined
  }

  private async processLook(view: DiskView, paths: readonly string[]): Promise<void> {
    const { ctx } = this
    this.admit(view)
    // A file created (or renamed) offline that is gone again has nothing left to sync.
    for (const p of ctx.store.pendingPathsUnder(paths.includes('') ? [''] : paths)) {
      if (!view.files.has(p) && !ctx.store.baseByPath(p)) await ctx.store.deletePending(p)
      // Online, a file equal to its base and to the workspace has nothing pending
      // (e.g. a record an offline pass left for a rename found later).
      const b = ctx.store.baseByPath(p)
      if (
        ctx.online() &&
        b?.path === p &&
        view.files.get(p)?.hash === b.hash &&
        ctx.ws.get(b.fileId)?.hash === b.hash
      )
        await ctx.store.deletePending(p)
    }
    const seen = new Set<FileId>()
    const changed: BaseRecord[] = []
    const vanished = new Map<FileId, BaseRecord>()
    const vanishedFolders = new Map<FileId, BaseRecord>()
    for (const b of view.scope) {
      if (seen.has(b.fileId)) continue
      seen.add(b.fileId)
      if (b.kind === 'folder') {
        if (view.folders.get(b.path) !== b.ino) vanishedFolders.set(b.fileId, b)
        continue
      }
      const f = view.files.get(b.path)
      if (!f) vanished.set(b.fileId, b)
      else {
        this.missing.delete(b.fileId)
        if (f.hash !== b.hash) changed.push(b)
      }
    }
    const appeared = [...view.files.keys()].filter((p) => ctx.store.baseByPath(p)?.path !== p)
    const newFolders = [...view.folders.keys()]
      .filter((p) => ctx.store.baseByPath(p)?.path !== p)
      .sort()

    if (!ctx.online()) {
      const now = ctx.opts.clock.now()
      await ctx.store.putPendingMany([
        ...changed.map((b) => ({
          path: b.path,
          fileId: b.fileId,
          change: 'modify' as const,
          since: now,
        })),
        ...[...vanished.values()].map((b) => ({
          path: b.path,
          fileId: b.fileId,
          change: 'delete' as const,
          since: now,
        })),
        ...appeared.map((p) => ({ path: p, change: 'create' as const, since: now })),
      ])
      return
    }

    // Folder renames: one move of the folder entry, bases below rewritten. The
    // old folder may have been reported in an earlier batch: match on any base.
    const gone = (b: BaseRecord) =>
      vanishedFolders.has(b.fileId) || !existsSync(join(ctx.opts.root, b.path))
    for (const p of newFolders) {
      const ino = view.folders.get(p) ?? -1
      const old = ctx.store
        .basesByIno(ino)
        .find((b) => b.kind === 'folder' && b.path !== p && gone(b))
      if (!old || ctx.ws.get(old.fileId)?.deleted !== false || this.takenBy(p, old.fileId)) continue
      ctx.opts.logger.debug('local folder rename', { from: old.path, to: p })
      ctx.ws.moveToPath(old.fileId, p.normalize('NFC'), ctx.origin)
      await this.rewritePrefix(old.path, p)
      vanishedFolders.delete(old.fileId)
      for (const [id, b] of vanished)
        if (under(b.path, old.path)) {
          const moved = ctx.store.getBase(id)
          if (moved && view.files.has(moved.path)) {
            vanished.delete(id)
            this.missing.delete(id)
            if (view.files.get(moved.path)?.hash !== moved.hash) changed.push(moved)
          }
        }
    }
    // File renames: by inode, then by hash (unique match), against any base whose file is gone.
    const stillNew = appeared.filter((p) => ctx.store.baseByPath(p)?.path !== p)
    const created: string[] = []
    for (const p of stillNew) {
      const f = view.files.get(p) as HashedStat
      const fileGone = (b: BaseRecord) =>
        b.kind !== 'folder' &&
        b.path !== p &&
        (vanished.has(b.fileId) ||
          this.missing.has(b.fileId) ||
          !existsSync(join(ctx.opts.root, b.path)))
      const byIno =
        f.ino !== 0
          ? ctx.store.basesByIno(f.ino).find((b) => fileGone(b) && sameFile(b, f))
          : undefined
      const byHash = byIno
        ? []
        : [...new Set([...vanished.keys(), ...this.missing.keys()])]
            .map((id) => ctx.store.getBase(id))
            .filter((b): b is BaseRecord => b !== undefined && b.hash === f.hash && fileGone(b))
      const old = byIno ?? (byHash.length === 1 ? byHash[0] : undefined)
      // Onto a name the workspace already shows (a file not downloaded yet): not a
      // rename but a create there — a join, which keeps both texts.
      if (!old || ctx.ws.get(old.fileId)?.deleted !== false || this.takenBy(p, old.fileId)) {
        created.push(p)
        continue
      }
      ctx.opts.logger.debug('local rename', { from: old.path, to: p, by: byIno ? 'inode' : 'hash' })
      ctx.ws.moveToPath(old.fileId, p.normalize('NFC'), ctx.origin)
      await ctx.store.putBase({ ...old, path: p, ino: f.ino, birthtimeMs: f.birthtimeMs })
      // What an offline pass recorded under the old name (a delete) is this rename;
      // an edit made with it shows as a changed hash below.
      await ctx.store.deletePending(old.path)
      vanished.delete(old.fileId)
      this.missing.delete(old.fileId)
      if (f.hash !== old.hash) changed.push({ ...old, path: p })
    }

    // Deletes wait out a grace period (the other half of a rename may come later).
    const now = ctx.opts.clock.now()
    const waiting: string[] = []
    for (const [id, b] of vanished) {
      const since = this.missing.get(id)
      if (since === undefined) this.missing.set(id, now)
      if (since === undefined || now - since < ctx.opts.deleteGraceMs) {
        vanished.delete(id)
        waiting.push(b.path)
      }
    }
    if (waiting.length > 0) ctx.requeuePaths(waiting, ctx.opts.deleteGraceMs)

    const total = ctx.store.allBases().filter((b) => b.kind !== 'folder').length
    if (vanished.size > 0 && !this.guard(vanished.size, total)) return

    for (const b of vanished.values()) {
      ctx.opts.logger.debug('local delete', { path: b.path, paths })
      this.missing.delete(b.fileId)
      await this.files.syncFile(b.fileId, undefined, { localDelete: true })
    }
    for (const b of changed) await this.files.syncFile(b.fileId)
    for (const p of newFolders) await this.ensureFolder(p, view.folders.get(p) ?? 0)
    if (created.length > 0)
      ctx.opts.logger.debug('local create', { paths: created.slice(0, 20), count: created.length })
    await this.files.createMany(created)
    // Deepest first, so a folder emptied by this loop goes too. A folder whose
    // entries are all gone here too keeps its base and is looked at again: their
    // deletes are waiting out the grace period, and a folder forgotten now would
    // stay in the workspace and come back, empty, on every device. One holding
    // something this device does not have (another device's new file) stays,
    // and is made again with it.
    const later: string[] = []
    for (const b of [...vanishedFolders.values()].sort((a, c) => c.path.length - a.path.length)) {
      const e = ctx.ws.get(b.fileId)
      if (e && !e.deleted) {
        const children = ctx.ws.children(b.fileId)
        if (children.length === 0) ctx.ws.delete(b.fileId, ctx.device, ctx.origin)
        else if (children.every((c) => this.goneHere(c))) {
          later.push(b.path)
          continue
        }
      }
      await ctx.store.deleteBase(b.fileId)
    }
    if (later.length > 0) ctx.requeuePaths(later, ctx.opts.deleteGraceMs)
  }

  /** True when this device had `id` and it is no longer on disk (its delete may be waiting). */
  private goneHere(id: FileId): boolean {
    const b = this.ctx.store.getBase(id)
    return b !== undefined && !existsSync(join(this.ctx.opts.root, b.path))
  }

  /** True when the workspace shows another entry at `path` (a move there would be refused). */
  private takenBy(path: string, self: FileId): boolean {
    try {
      const at = this.ctx.ws.findByPath(path.normalize('NFC'))
      return at !== undefined && at !== self
    } catch {
      return false
    }
  }

  private async ensureFolder(path: string, ino: number): Promise<void> {
    const { ctx } = this
    if (ctx.store.baseByPath(path)?.path === path) return
    const id = ctx.ws.createFolder(path.normalize('NFC'), ctx.origin)
    await ctx.store.putBase({
      fileId: id,
      path,
      kind: 'folder',
      ino,
      hash: EMPTY_HASH,
      size: 0,
      mtimeMs: 0,
      ctimeMs: 0,
    })
  }

  /** Rewrites the base paths of a folder and everything under it after a rename. */
  async rewritePrefix(from: string, to: string): Promise<void> {
    const { ctx } = this
    const recs = ctx.store
      .allBases()
      .filter((b) => under(b.path, from))
      .map((b) => ({
        ...b,
        path: to + b.path.slice(from.length),
        ...(b.path === from ? { ino: lstatSafe(join(ctx.opts.root, to)) } : {}),
      }))
    await ctx.store.putBases(recs)
    await this.movePending(from, to)
  }

  /**
   * Moves pending records with a rename and looks at their new paths again: a
   * record moved after its file's last pass would otherwise wait for a pass
   * that may never come (chaos seed 444443959).
   */
  async movePending(from: string, to: string): Promise<void> {
    const { ctx } = this
    const had = ctx.store.pendingPathsUnder([from]).length > 0
    await ctx.store.movePending(from, to)
    if (had) ctx.requeuePaths([to], 0)
  }
}

function lstatSafe(abs: string): number {
  try {
    return lstatSync(abs).ino
  } catch {
    return 0
  }
}

/**
 * True when a file found under a new name with a vanished base's inode is that
 * file, renamed — not a new file that reused the inode of one just deleted
 * (ext4 hands a freed inode to the next file created at once; chaos seed
 * 46786858 took a deleted note and a new image for one file). A rename keeps
 * the creation time. Where the filesystem keeps none, the file must still have
 * the base's modification time or the base's content; a file renamed and
 * edited before the agent looked is then a delete and a create (nothing lost,
 * only its history).
 */
function sameFile(base: BaseRecord, found: HashedStat): boolean {
  if (base.birthtimeMs && found.birthtimeMs) return base.birthtimeMs === found.birthtimeMs
  return base.mtimeMs === found.mtimeMs || base.hash === found.hash
}

/** A user-facing message for a skipped path: what happened, to what, and what to do. */
function skipMessage(i: { path: string; kind?: string; message: string }): string {
  if (i.kind === 'symlink' || i.kind === 'special') return i.message
  return `${i.path} is not synced: ${i.message.replace(/\.$/, '')}. Rename it and it will sync.`
}
