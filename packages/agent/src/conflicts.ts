import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FileId } from '@skein/core'
import type { FileEntry } from '@skein/workspace'
import { planRepair, repairFolds } from './fold-records.js'
import type { FoldRecord } from './fold-records.js'
import type { Body } from './body-docs.js'
import { writeRefused } from './agent-context.js'
import type { AgentContext } from './agent-context.js'
import type { DiskFile } from './disk-file.js'
import { conflictCopyPath, isConflictCopyOf } from './names.js'
import { textHash } from './disk-file.js'
import { hashBytes } from './file-hash.js'

/** Inputs of a text conflict (both sides changed the same lines). */
export interface TextConflict {
  entry: FileEntry
  body: Body
  disk: DiskFile
  crdtText: string
  /** merge3's result with git-style markers. */
  markersText: string
  /** Writes text over the disk file (checked against `disk`) and agrees on it. */
  write: (text: string) => Promise<void>
  agree: (disk: DiskFile) => Promise<void>
  /** False when the entry is no longer a live text note (the file was requeued; stop). */
  updateMeta: (disk: DiskFile) => boolean
  /**
   * Folds text into the body (recorded, see fold-records.ts), rebased over
   * edits that arrived meanwhile; false when they collide (decide again).
   */
  fold: (next: string) => boolean
}

/** Applies the conflict policy (DESIGN §6) and records every conflict in the WorkspaceCrdt. */
export class Conflicts {
  constructor(
    private readonly ctx: AgentContext,
    private readonly createFromDisk: (path: string) => Promise<FileId | undefined>,
  ) {}

  /**
   * Saves `data` next to `path` as `<stem>.conflict-<device>-<time><ext>` and
   * syncs it as a new file — unless the workspace already holds a conflict
   * copy of this file with the same content (another device kept the same
   * version): then that copy is the one, not a second.
   */
  async saveCopy(
    path: string,
    data: Uint8Array | string,
    device?: string,
  ): Promise<{ path: string; id: FileId | undefined }> {
    const { ctx } = this
    const existing = this.sameCopy(
      path,
      typeof data === 'string' ? textHash(data) : hashBytes(data),
    )
    if (existing) return existing
    const copyPath = conflictCopyPath(
      path,
      device ?? ctx.opts.device,
      ctx.opts.clock.now(),
      (p) =>
        existsSync(join(ctx.opts.root, p)) || ctx.ws.findByPath(p.normalize('NFC')) !== undefined,
    )
    const res = await ctx.writer.write({ path: copyPath, data, expect: null })
    if (!res.ok)
      throw new Error(`Conflict copy ${copyPath} appeared while it was being written; retrying.`)
    return { path: copyPath, id: await this.createFromDisk(copyPath) }
  }

  /** A live conflict copy of `path` in the workspace whose content hash is `hash`. */
  private sameCopy(path: string, hash: string): { path: string; id: FileId } | undefined {
    const { ws } = this.ctx
    const id = ws.findByPath(path.normalize('NFC'))
    const parent = id === undefined ? undefined : ws.get(id)?.parent
    if (parent === undefined) return undefined
    for (const c of ws.children(parent as FileId | '')) {
      const e = ws.get(c)
      const p = ws.getPath(c)
      // Never the file itself: a conflict copy edited on two devices is its own namesake.
      if (c === id) continue
      if (e && p && !e.deleted && e.hash === hash && isConflictCopyOf(p, path))
        return { path: p, id: c }
    }
    return undefined
  }

  private record(
    entry: FileEntry,
    path: string,
    kind: 'edit' | 'join' | 'binary',
    copy: { path: string; id: FileId | undefined } | undefined,
  ): void {
    const { ctx } = this
    ctx.opts.logger.debug('conflict', { path, kind, copy: copy?.path })
    // `ours` / `theirs` settle a conflict by policy: recorded as history, nothing
    // left to do. A copy stays open until it is deleted, markers until edited out.
    const policy = ctx.opts.conflictPolicy
    const settled = copy?.id === undefined && (policy === 'ours' || policy === 'theirs')
    ctx.ws.recordConflict({ file: entry.id, kind, copy: copy?.id, resolved: settled }, ctx.origin)
    ctx.conflict({
      fileId: entry.id,
      path,
      kind,
      policy: ctx.opts.conflictPolicy,
      copyPath: copy?.path,
    })
  }

  /** First join with different content (DESIGN §3): CRDT text in the file, disk version as a copy. */
  async join(
    entry: FileEntry,
    disk: DiskFile,
    crdtText: string,
    agree: (d: DiskFile) => Promise<void>,
  ): Promise<void> {
    const { ctx } = this
    const copy = await this.saveCopy(disk.path, disk.bytes)
    const res = await ctx.writer.write({
      path: disk.path,
      data: crdtText,
      expect: disk.hash,
      fileId: entry.id,
    })
    if (!res.ok) return writeRefused(ctx, entry.id, disk.path, res)
    await agree({ ...disk, ...res.stat, text: crdtText, bytes: new Uint8Array(0) })
    this.record(entry, disk.path, 'join', copy)
  }

  /** Both sides changed the same lines of a text note. */
  async text(c: TextConflict): Promise<void> {
    const { ctx } = this
    const d = c.disk.text as string
    switch (ctx.opts.conflictPolicy) {
      case 'markers':
        c.fold(c.markersText)
        await c.write(c.markersText)
        return this.record(c.entry, c.disk.path, 'edit', undefined)
      case 'ours':
        c.fold(d)
        if (!c.updateMeta(c.disk)) return
        await c.agree(c.disk)
        return this.record(c.entry, c.disk.path, 'edit', undefined)
      case 'theirs':
        await c.write(c.crdtText)
        return this.record(c.entry, c.disk.path, 'edit', undefined)
      case 'copy': {
        // The newer side stays in the file; the other is saved next to it.
        const diskNewer = c.disk.mtimeMs >= c.entry.mtime
        if (diskNewer) {
          const copy = await this.saveCopy(c.disk.path, c.crdtText)
          // Remote edits may have arrived while the copy was written: keep them.
          if (!c.fold(d)) return ctx.requeue(c.entry.id)
          if (!c.updateMeta(c.disk)) return
          await c.agree(c.disk)
          return this.record(c.entry, c.disk.path, 'edit', copy)
        }
        const copy = await this.saveCopy(c.disk.path, d)
        await c.write(c.crdtText)
        return this.record(c.entry, c.disk.path, 'edit', copy)
      }
    }
  }

  /**
   * Devices folded edits into the same text without seeing each other: merge
   * their results three-way from their common base and replace the interleaved
   * text; a conflict follows the policy (copies for the sides not kept).
   */
  async repair(
    entry: FileEntry,
    body: Body,
    group: readonly FoldRecord[],
    disk: DiskFile,
  ): Promise<void> {
    const { ctx } = this
    const current = body.text.toJSON()
    const plan = planRepair(group, current, ctx.opts.device, ctx.opts.conflictPolicy)
    if (!plan) {
      // Cannot repair without dropping someone's text: leave the merged characters as they are.
      ctx.opts.logger.info('concurrent edits left unrepaired: other edits overlap them', {
        path: disk.path,
      })
      repairFolds(body, group, current, ctx.opts.device, ctx.opts.clock.now())
      return
    }
    const { target, conflicted } = plan
    const copies =
      ctx.opts.conflictPolicy === 'copy' && conflicted ? group.filter((r) => r.text !== target) : []
    const saved = []
    for (const r of copies) saved.push(await this.saveCopy(disk.path, r.text, r.device))
    if (!repairFolds(body, group, target, ctx.opts.device, ctx.opts.clock.now(), current))
      ctx.requeue(entry.id)
    if (conflicted) this.record(entry, disk.path, 'edit', saved[0])
  }

  /** Both sides replaced a binary file: keep per policy, copy the other side (markers make no sense here). */
  async binary(
    entry: FileEntry,
    disk: DiskFile,
    remote: Uint8Array,
    keepDisk: (disk: DiskFile) => Promise<void>,
    keepRemote: () => Promise<void>,
  ): Promise<void> {
    const policy = this.ctx.opts.conflictPolicy
    const diskWins = policy === 'ours' || (policy !== 'theirs' && disk.mtimeMs >= entry.mtime)
    const copy =
      policy === 'copy' || policy === 'markers'
        ? await this.saveCopy(disk.path, diskWins ? remote : disk.bytes)
        : undefined
    if (diskWins) await keepDisk(disk)
    else await keepRemote()
    this.record(entry, disk.path, 'binary', copy)
  }
}
