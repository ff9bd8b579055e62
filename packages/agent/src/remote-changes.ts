import { existsSync, lstatSync, mkdirSync, renameSync, rmdirSync } from 'node:fs'
import { logIfSlow } from './slow-log.js'
import { dirname } from 'node:path'
import { pathKey } from '@skein/core'
import type { FileId } from '@skein/core'
import type { AgentContext } from './agent-context.js'
import type { FileSync } from './file-sync.js'
import type { LocalChanges } from './local-changes.js'
import { EMPTY_HASH } from './disk-file.js'
import { NameClashes } from './name-clashes.js'
import type { BaseRecord } from './state-types.js'

/**
 * Applies workspace changes made elsewhere to the folder: creates, remote
 * renames and moves as disk renames (never delete+create), deletes to the
 * trash, content via {@link FileSync}. Every remote path is validated with
 * core's path rules and the ignore rules before it touches disk.
 */
export class RemoteChanges {
  private readonly clashes: NameClashes

  constructor(
    private readonly ctx: AgentContext,
    private readonly files: FileSync,
    private readonly local: LocalChanges,
  ) {
    this.clashes = new NameClashes(ctx)
  }

  /** A remote path as a disk path, or undefined (reported) when it must not be written. */
  private safePath(id: FileId, path: string | undefined, isDir: boolean): string | undefined {
    if (path === undefined) return undefined
    try {
      this.ctx.writer.resolve(path, this.verified)
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

  /** Folders `safePath` found to be real folders during this pass (each checked once). */
  private verified: Set<string> | undefined

  /** Failures of the running pass (the first is rethrown once the pass has done the rest). */
  private readonly failures: Error[] = []

  /** Processes changed entries (folders first, shallow to deep; deletes deep to shallow). */
  async process(ids: Iterable<FileId>): Promise<void> {
    this.verified = new Set()
    this.failures.length = 0
    try {
      await this.pass(ids)
    } finally {
      this.verified = undefined
    }
    const [first] = this.failures.splice(0)
    if (first) throw first
  }

  /** Runs one entry's step; a failure is kept for the end of the pass, so one file never holds up the others. */
  private async step(fn: () => Promise<unknown>, what = ''): Promise<void> {
    const { ctx } = this
    const fields = () => ({
      what,
      phase: this.files.phase,
      connected: ctx.transport.connected,
      online: ctx.online(),
    })
    try {
      await logIfSlow(ctx.opts.logger, 'step still running', fields, fn)
    } catch (err) {
      this.failures.push(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private async pass(ids: Iterable<FileId>): Promise<void> {
    const { ctx } = this
    const touched = new Set(ids)
    // Name clashes first: a clash loser moves away before anything is written at its path.
    for (const id of this.clashes.resolve(touched)) {
      touched.add(id)
      const e = ctx.ws.get(id)
      if (e && !e.deleted)
        await this.step(() => this.moveIfRenamed(id, e.kind === 'folder'), `clash move ${id}`)
    }
    const entries = [...touched].map((id) => ctx.ws.get(id)).filter((e) => e !== undefined)
    const depth = (id: FileId) =>
      (ctx.ws.getPath(id) ?? ctx.store.getBase(id)?.path ?? '').split('/').length
    const live = entries.filter((e) => !e.deleted).sort((a, b) => depth(a.id) - depth(b.id))
    const dead = entries.filter((e) => e.deleted).sort((a, b) => depth(b.id) - depth(a.id))
    // Subscribe the bodies of changed files at once: one round trip, not one per file
    // (those of new files are opened by the bulk download, a window at a time).
    const needed = live.filter((e) => e.kind === 'text' && ctx.store.getBase(e.id)?.hash !== e.hash)
    await ctx.bodies.openMany(needed.filter((e) => ctx.store.getBase(e.id)).map((e) => e.id))
    const folders = live.filter((e) => e.kind === 'folder').map((e) => e.id)
    await this.folders(folders)
    // Paths as the view shows them now (it may have changed while this pass awaited):
    // a clash that arrived meanwhile is resolved by the next pass, before any write.
    const downloads = needed
      .filter((e) => !ctx.store.getBase(e.id))
      .filter((e) => {
        if (!this.clashes.unresolved(e.id)) return true
        ctx.requeue(e.id)
        return false
      })
      .map((e) => ({ entry: e, path: this.safePath(e.id, ctx.ws.getPath(e.id), false) }))
      .filter((d): d is { entry: typeof d.entry; path: string } => d.path !== undefined)
    let written = new Set<FileId>()
    await this.step(async () => {
      if (downloads.length > 1) written = await this.files.downloadMany(downloads)
    })
    // Folders again: one created by a download's parent path needs its base too.
    await this.folders(folders)
    for (const e of live) {
      if (e.kind !== 'folder' && !written.has(e.id))
        await this.step(async () => {
          await this.moveIfRenamed(e.id, false)
          const base = ctx.store.getBase(e.id)
          // A clash that arrived during this pass is resolved by the next one, before any write.
          if (!base && this.clashes.unresolved(e.id)) return ctx.requeue(e.id)
          const path = base?.path ?? this.safePath(e.id, ctx.ws.getPath(e.id), false)
          if (path !== undefined) await this.files.syncFile(e.id, path)
        }, `sync ${e.id}`)
    }
    for (const e of dead) {
      if (e.kind !== 'folder') {
        await this.step(() => this.files.syncFile(e.id), `deleted ${e.id}`)
        continue
      }
      const base = ctx.store.getBase(e.id)
      if (!base) continue
      const holder = this.shownAt(base.path)
      if (holder !== undefined && holder !== e.id && ctx.ws.get(holder)?.kind === 'folder') {
        // The folder on disk now belongs to a live entry (e.g. a merged name clash): keep it.
        await ctx.store.deleteBase(e.id)
        continue
      }
      try {
        rmdirSync(ctx.writer.resolve(base.path))
        await ctx.store.deleteBase(e.id)
      } catch {
        // Not empty (a kept edit, an ignored file): the folder stays on disk.
      }
    }
  }

  /** Applies folder renames and creates missing folders (shallow first); their bases in one batch. */
  private async folders(ids: readonly FileId[]): Promise<void> {
    const { ctx } = this
    const recs: BaseRecord[] = []
    for (const id of ids) {
      let moved = false
      await this.step(async () => void (moved = await this.moveIfRenamed(id, true)))
      if (moved || ctx.store.getBase(id)) continue
      if (this.clashes.unresolved(id)) {
        ctx.requeue(id)
        continue
      }
      const path = this.safePath(id, ctx.ws.getPath(id), true)
      if (path === undefined) continue
      try {
        const abs = ctx.writer.resolve(path)
        mkdirSync(abs, { recursive: true })
        recs.push({
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
          message: `Cannot create folder ${path}: ${(err as Error).message}; move what is in the way and it will be created.`,
        })
      }
    }
    await ctx.store.putBases(recs)
  }

  /** Renames a file or folder on disk when the workspace moved it; true when it did. */
  private async moveIfRenamed(id: FileId, isDir: boolean): Promise<boolean> {
    const { ctx } = this
    const base = ctx.store.getBase(id)
    const want = ctx.ws.getPath(id)
    if (!base || want === undefined || base.path.normalize('NFC') === want) return false
    if (this.clashes.unresolved(id)) {
      ctx.requeue(id)
      return false
    }
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
    else {
      await ctx.store.putBase({ ...base, path: to })
      await this.local.movePending(base.path, to)
    }
    ctx.writer.ownWrites.forget(base.path)
    // An entry waiting for the path this one left (see FileSync.syncFile) can have it now.
    const waiting = this.shownAt(base.path)
    if (waiting !== undefined && waiting !== id) ctx.requeue(waiting)
    return true
  }

  /** The live entry the workspace shows at a disk path, if any (undefined for names it cannot hold). */
  private shownAt(path: string): FileId | undefined {
    try {
      return this.ctx.ws.findByPath(path.normalize('NFC'))
    } catch {
      return undefined
    }
  }
}
