import { existsSync, lstatSync, mkdirSync, renameSync, rmdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { pathKey } from '@skein/core'
import type { FileId } from '@skein/core'
import type { AgentContext } from './agent-context.js'
import type { FileSync } from './file-sync.js'
import type { LocalChanges } from './local-changes.js'
import { EMPTY_HASH } from './disk-file.js'

/**
 * Applies workspace changes made elsewhere to the folder: creates, remote
 * renames and moves as disk renames (never delete+create), deletes to the
 * trash, content via {@link FileSync}. Every remote path is validated with
 * core's path rules and the ignore rules before it touches disk.
 */
export class RemoteChanges {
  constructor(
    private readonly ctx: AgentContext,
    private readonly files: FileSync,
    private readonly local: LocalChanges,
  ) {}

  /** A remote path as a disk path, or undefined (reported) when it must not be written. */
  private safePath(id: FileId, path: string | undefined, isDir: boolean): string | undefined {
    if (path === undefined) return undefined
    try {
      this.ctx.writer.resolve(path)
    } catch (err) {
      this.ctx.issue({
        path,
        kind: 'refused-remote',
        message: `Refused workspace entry ${id}: ${(err as Error).message}`,
      })
      return undefined
    }
    if (this.ctx.ignore.ignores(path, isDir)) return undefined
    return path
  }

  /** Processes changed entries (folders first, shallow to deep; deletes deep to shallow). */
  async process(ids: Iterable<FileId>): Promise<void> {
    const { ctx } = this
    const entries = [...new Set(ids)].map((id) => ctx.ws.get(id)).filter((e) => e !== undefined)
    const depth = (id: FileId) =>
      (ctx.ws.getPath(id) ?? ctx.store.getBase(id)?.path ?? '').split('/').length
    const live = entries.filter((e) => !e.deleted).sort((a, b) => depth(a.id) - depth(b.id))
    const dead = entries.filter((e) => e.deleted).sort((a, b) => depth(b.id) - depth(a.id))
    // Subscribe every body this pass will need at once: one round trip, not one per file.
    const needed = live.filter((e) => e.kind === 'text' && ctx.store.getBase(e.id)?.hash !== e.hash)
    await ctx.bodies.openMany(needed.map((e) => e.id))
    for (const e of live) if (e.kind === 'folder') await this.folder(e.id)
    const downloads = needed
      .filter((e) => !ctx.store.getBase(e.id))
      .map((e) => ({ entry: e, path: this.safePath(e.id, ctx.ws.getPath(e.id), false) }))
      .filter((d): d is { entry: typeof d.entry; path: string } => d.path !== undefined)
    if (downloads.length > 1) await this.files.downloadMany(downloads)
    for (const e of live) {
      if (e.kind === 'folder') await this.folder(e.id)
      else {
        await this.moveIfRenamed(e.id, false)
        this.dedupe(e.id)
        if (ctx.ws.get(e.id)?.deleted) continue
        const base = ctx.store.getBase(e.id)
        const path = base?.path ?? this.safePath(e.id, ctx.ws.getPath(e.id), false)
        if (path !== undefined) await this.files.syncFile(e.id, path)
      }
    }
    for (const e of dead) {
      if (e.kind !== 'folder') {
        await this.files.syncFile(e.id)
        continue
      }
      const base = ctx.store.getBase(e.id)
      if (!base) continue
      try {
        rmdirSync(ctx.writer.resolve(base.path))
        await ctx.store.deleteBase(e.id)
      } catch {
        // Not empty (a kept edit, an ignored file): the folder stays on disk.
      }
    }
  }

  private async folder(id: FileId): Promise<void> {
    const { ctx } = this
    if (await this.moveIfRenamed(id, true)) return
    if (ctx.store.getBase(id)) return
    const path = this.safePath(id, ctx.ws.getPath(id), true)
    if (path === undefined) return
    const abs = ctx.writer.resolve(path)
    try {
      mkdirSync(abs, { recursive: true })
      await ctx.store.putBase({
        fileId: id,
        path,
        kind: 'folder',
        ino: lstatSync(abs).ino,
        hash: EMPTY_HASH,
        size: 0,
        mtimeMs: 0,
        ctimeMs: 0,
      })
    } catch (err) {
      ctx.issue({
        path,
        kind: 'io',
        message: `Cannot create folder ${path}: ${(err as Error).message}`,
      })
    }
  }

  /** Renames a file or folder on disk when the workspace moved it; true when it did. */
  private async moveIfRenamed(id: FileId, isDir: boolean): Promise<boolean> {
    const { ctx } = this
    const base = ctx.store.getBase(id)
    const want = ctx.ws.getPath(id)
    if (!base || want === undefined || base.path.normalize('NFC') === want) return false
    const to = this.safePath(id, want, isDir)
    if (to === undefined) return false
    const fromAbs = ctx.writer.resolve(base.path)
    const toAbs = ctx.writer.resolve(to)
    if (!existsSync(fromAbs)) {
      ctx.opts.logger.debug('remote rename: source gone', { from: base.path, to })
      return false
    }
    if (existsSync(toAbs) && pathKey(base.path) !== pathKey(to)) {
      ctx.issue({
        path: to,
        kind: 'io',
        message: `Cannot move ${base.path} to ${to}: something already exists there; move it away and the rename will follow.`,
      })
      return false
    }
    mkdirSync(dirname(toAbs), { recursive: true })
    ctx.opts.logger.debug('remote rename applied', { from: base.path, to })
    renameSync(fromAbs, toAbs)
    if (isDir) await this.local.rewritePrefix(base.path, to)
    else await ctx.store.putBase({ ...base, path: to })
    ctx.writer.ownWrites.forget(base.path)
    return true
  }

  /**
   * Two devices that each created the same note (same folder, same name, same
   * content) keep one entry: the one with the smaller (createdAt, FileId). Every
   * device makes the same choice, so the deletes agree.
   */
  private dedupe(id: FileId): void {
    const { ctx } = this
    const e = ctx.ws.get(id)
    if (!e || e.deleted || e.hash === undefined) return
    const twins = ctx.ws
      .children(e.parent as FileId | '')
      .map((c) => ctx.ws.get(c))
      .filter(
        (c) =>
          c !== undefined &&
          !c.deleted &&
          c.kind === e.kind &&
          c.hash === e.hash &&
          pathKey(c.name) === pathKey(e.name),
      )
    if (twins.length < 2) return
    twins.sort((a, b) => a!.createdAt - b!.createdAt || (a!.id < b!.id ? -1 : 1))
    for (const loser of twins.slice(1)) ctx.ws.delete(loser!.id, ctx.device, ctx.origin)
  }
}
