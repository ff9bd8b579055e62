import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { FileId } from '@skein/core'
import type { FileEntry } from '@skein/workspace'
import { merge3 } from '@skein/merge'
import { repairFolds } from './fold-records.js'
import type { FoldRecord } from './fold-records.js'
import type { Body } from './body-docs.js'
import type { AgentContext } from './agent-context.js'
import type { DiskFile } from './disk-file.js'
import { conflictCopyPath } from './names.js'

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
  updateMeta: (disk: DiskFile) => void
  /** Folds text into the body (recorded, see fold-records.ts). */
  fold: (next: string) => void
}

/** Applies the conflict policy (DESIGN §6) and records every conflict in the WorkspaceCrdt. */
export class Conflicts {
  constructor(
    private readonly ctx: AgentContext,
    private readonly createFromDisk: (path: string) => Promise<FileId | undefined>,
  ) {}

  /** Saves `data` next to `path` as `<stem>.conflict-<device>-<time><ext>` and syncs it as a new file. */
  async saveCopy(
    path: string,
    data: Uint8Array | string,
    device?: string,
  ): Promise<{ path: string; id: FileId | undefined }> {
    const { ctx } = this
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

  private record(
    entry: FileEntry,
    path: string,
    kind: 'edit' | 'join' | 'binary',
    copy: { path: string; id: FileId | undefined } | undefined,
  ): void {
    const { ctx } = this
    ctx.ws.recordConflict({ file: entry.id, kind, copy: copy?.id }, ctx.origin)
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
    if (!res.ok) return ctx.requeue(entry.id)
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
        c.updateMeta(c.disk)
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
          c.fold(d)
          c.updateMeta(c.disk)
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
    const base = group[0]?.base ?? ''
    const mine = group.find((r) => r.device === ctx.opts.device)
    const ordered = [...group].sort((a, b) => b.at - a.at) // newest first
    let target = (ordered[0] as FoldRecord).text
    let conflicted = false
    for (const r of ordered.slice(1)) {
      const m = merge3(base, target, r.text, {
        labels: { ours: 'newer', base: 'base', theirs: r.device },
      })
      if (m.clean) target = m.text
      else {
        conflicted = true
        if (ctx.opts.conflictPolicy === 'markers') target = m.text
        else if (ctx.opts.conflictPolicy === 'ours' && mine) target = mine.text
        else if (ctx.opts.conflictPolicy === 'theirs')
          target = r.device === ctx.opts.device ? target : r.text
      }
    }
    const copies =
      ctx.opts.conflictPolicy === 'copy' && conflicted ? group.filter((r) => r.text !== target) : []
    const saved = []
    for (const r of copies) saved.push(await this.saveCopy(disk.path, r.text, r.device))
    repairFolds(body, group, target, ctx.opts.device, ctx.opts.clock.now())
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
