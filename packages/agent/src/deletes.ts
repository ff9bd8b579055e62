import type { FileEntry } from '@skein/workspace'
import { AGENT_ORIGIN } from './body-docs.js'
import type { AgentContext } from './agent-context.js'
import { textHash } from './disk-file.js'
import type { DiskFile } from './disk-file.js'
import type { FileSync } from './file-sync.js'
import type { BaseRecord } from './state-types.js'
import { usableBody } from './usable-body.js'

/** Body meta key: the hash of the text a device saw when it deleted the file. */
const DELETED_SEEN = 'deletedSeen'

/**
 * Deletes both ways (DESIGN §5): a local delete tombstones the entry unless the
 * file was edited elsewhere since our base; a remote delete moves the file to
 * `.skein/trash/` unless it was edited here, or the text holds an edit the
 * deleting device did not see (then the edit wins and the entry is restored).
 */
export class Deletes {
  constructor(
    private readonly ctx: AgentContext,
    private readonly files: FileSync,
  ) {}

  /** The file is gone from disk but the workspace still has it. */
  async localDeleted(entry: FileEntry, base: BaseRecord): Promise<void> {
    const { ctx } = this
    if (!ctx.online()) {
      await ctx.store.putPending({
        path: base.path,
        fileId: base.fileId,
        change: 'delete',
        since: ctx.opts.clock.now(),
      })
      return
    }
    const body = entry.kind === 'text' ? await usableBody(ctx, entry, base.path) : undefined
    const now = ctx.ws.get(entry.id)
    if (
      (now?.hash !== undefined && now.hash !== base.hash) ||
      (body && textHash(body.text.toJSON()) !== base.hash)
    ) {
      // Edited elsewhere since our base: the edit wins over our delete.
      await ctx.store.deleteBase(entry.id)
      await ctx.store.deletePending(base.path)
      return this.files.syncFile(entry.id, ctx.ws.getPath(entry.id))
    }
    // Tell others which text this delete saw: an edit it did not see survives it.
    if (body)
      body.doc.transact(
        () => body.doc.getMap('meta').set(DELETED_SEEN, textHash(body.text.toJSON())),
        AGENT_ORIGIN,
      )
    if (!now?.deleted) ctx.ws.delete(entry.id, ctx.device, ctx.origin)
    // The body stays open until its last update (deletedSeen) is acknowledged.
    if (body) void body.session.flushed().then(() => ctx.bodies.close(entry.id))
    await ctx.store.deleteBase(entry.id)
    await ctx.store.deletePending(base.path)
  }

  /** True when the body holds text the deleting device did not see (a concurrent edit). */
  private async editedSinceDelete(entry: FileEntry, path: string): Promise<boolean> {
    if (entry.kind !== 'text') return false
    const body = await usableBody(this.ctx, entry, path)
    const seen = body?.doc.getMap('meta').get(DELETED_SEEN)
    return body !== undefined && typeof seen === 'string' && seen !== textHash(body.text.toJSON())
  }

  /** The workspace deleted the file: trash our copy, unless it was edited here since the base. */
  async remoteDeleted(
    entry: FileEntry,
    base: BaseRecord | undefined,
    disk: DiskFile | undefined,
  ): Promise<void> {
    const { ctx } = this
    if (!base) return
    if (
      disk &&
      (disk.hash !== base.hash ||
        concurrentEdit(entry) ||
        (await this.editedSinceDelete(entry, disk.path)))
    ) {
      if (!ctx.online()) return this.files.pending(disk, base)
      ctx.ws.restore(entry.id, ctx.origin)
      ctx.conflict({
        fileId: entry.id,
        path: disk.path,
        kind: 'delete',
        policy: 'edit-wins',
        copyPath: undefined,
      })
      // settled: the edit wins and nothing is lost; recorded as history
      ctx.ws.recordConflict(
        { file: entry.id, kind: 'delete', copy: undefined, resolved: true },
        ctx.origin,
      )
      return this.files.syncFile(entry.id, disk.path)
    }
    // A twin entry (same path, same content) may have replaced this one: keep the file, re-point the base.
    const twin = ctx.ws.findByPath(base.path.normalize('NFC'))
    if (disk && twin !== undefined && twin !== entry.id && ctx.ws.get(twin)?.hash === disk.hash) {
      await ctx.store.deleteBase(entry.id)
      return this.files.agree(
        twin,
        disk,
        base.kind === 'binary' ? 'binary' : 'text',
        ctx.ws.get(twin)?.gen,
      )
    }
    ctx.opts.logger.debug('remote delete', { path: base.path, trashed: disk !== undefined })
    if (disk)
      await ctx.store.moveToTrash(base.path, {
        hash: disk.hash,
        size: disk.size,
        reason: `deleted by ${entry.deletedBy ?? 'another device'}`,
        now: ctx.opts.clock.now(),
        fileId: entry.id,
      })
    ctx.bodies.close(entry.id)
    await ctx.store.deleteBase(entry.id)
    // An entry now shown at the freed path (e.g. the winner of a name clash) can be written.
    const waiting = ctx.ws.findByPath(base.path.normalize('NFC'))
    if (waiting !== undefined && waiting !== entry.id) ctx.requeue(waiting)
  }
}

/**
 * The entry's content changed after the delete saw it (WS17): an edit written
 * concurrently with the delete — often this device's own, folded just before
 * the delete arrived, so disk and base agree. The edit wins.
 */
function concurrentEdit(entry: FileEntry): boolean {
  return (
    entry.deletedHash !== undefined && entry.hash !== undefined && entry.hash !== entry.deletedHash
  )
}
