import type { FileId } from '@skein/core'
import type { FileEntry } from '@skein/workspace'
import { merge3 } from '@skein/merge'
import { AGENT_ORIGIN, bodyGen } from './body-docs.js'
import { concurrentFolds, foldIntoBody } from './fold-records.js'
import type { Body } from './body-docs.js'
import type { AgentContext } from './agent-context.js'
import { readDiskFile, textHash, textSize, EMPTY_HASH } from './disk-file.js'
import type { DiskFile } from './disk-file.js'
import type { BaseRecord } from './state-types.js'
import { lstatSync } from 'node:fs'
import { join } from 'node:path'
import { sameStat, toFileStat } from './file-hash.js'

/** True when the body synced within `ms`. */
async function syncedWithin(body: Body, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const ok = await Promise.race([
    body.session.synced().then(() => true),
    new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms))),
  ])
  clearTimeout(timer)
  return ok
}

/** True when the file at the base's path still has the base's size, mtime, ctime and inode. */
function statUnchanged(root: string, base: BaseRecord): boolean {
  try {
    const st = lstatSync(join(root, base.path))
    return st.isFile() && sameStat(toFileStat(st), base)
  } catch {
    return false
  }
}
import { Conflicts } from './conflicts.js'
import { BinarySync } from './binary-sync.js'

/** Body meta key: the hash of the text a device saw when it deleted the file. */
const DELETED_SEEN = 'deletedSeen'
/** How long a pass waits for a body to sync before retrying later. */
const BODY_SYNC_WAIT_MS = 5_000

/**
 * The three-way decision for one file (DESIGN §5), with `base` the text disk
 * and CRDT last agreed on: disk == base → CRDT text to disk; CRDT == base →
 * disk change to the Y.Text as minimal ops; both changed → merge3, and a
 * conflict follows the policy. Idempotent: any event may trigger it again.
 */
export class FileSync {
  private readonly conflicts: Conflicts
  private readonly binary: BinarySync

  constructor(private readonly ctx: AgentContext) {
    this.conflicts = new Conflicts(ctx, (path) => this.createFromDisk(path))
    this.binary = new BinarySync(ctx, this.conflicts)
  }

  /** Reads a file from disk under the agent's text limit. */
  read(path: string): DiskFile | undefined {
    return readDiskFile(this.ctx.opts.root, path, this.ctx.opts.maxTextBytes)
  }

  /** Stores the agreed state of a file. */
  async agree(fileId: FileId, disk: DiskFile, kind: 'text' | 'binary', gen?: number): Promise<void> {
    const rec: BaseRecord = {
      fileId,
      path: disk.path,
      kind,
      ino: disk.ino,
      hash: disk.hash,
      size: disk.size,
      mtimeMs: disk.mtimeMs,
      ctimeMs: disk.ctimeMs,
      ...(kind === 'text' && disk.text !== undefined ? { text: disk.text } : {}),
      ...(gen === undefined ? {} : { gen }),
    }
    await this.ctx.store.putBase(rec)
    await this.ctx.store.deletePending(disk.path)
  }

  /** A file that appeared on disk with no base: a new file, or one the workspace already has (join). */
  async createFromDisk(path: string): Promise<FileId | undefined> {
    const { ctx } = this
    const existing = ctx.ws.findByPath(path.normalize('NFC'))
    if (existing !== undefined) {
      await this.syncFile(existing, path)
      return existing
    }
    const disk = this.read(path)
    if (!disk) return undefined
    if (!ctx.online()) {
      await ctx.store.putPending({ path, change: 'create', hash: disk.hash, since: ctx.opts.clock.now() })
      return undefined
    }
    const meta = { hash: disk.hash, size: disk.size, mtime: disk.mtimeMs, device: ctx.device }
    if (disk.text === undefined) return this.binary.create(disk, meta)
    const id = ctx.ws.createFile(path.normalize('NFC'), { ...meta, kind: 'text' }, ctx.origin)
    const body = await ctx.bodies.open(id)
    ctx.bodies.seed(body, ctx.ws.get(id)?.gen ?? 1, disk.text)
    await this.agree(id, disk, 'text', ctx.ws.get(id)?.gen)
    return id
  }

  /**
   * Many new files at once (first run, a copied-in folder): entries in one
   * workspace transaction, bodies subscribed together, bases in one batch.
   */
  async createMany(paths: readonly string[]): Promise<void> {
    const { ctx } = this
    const fresh: { path: string; disk: DiskFile }[] = []
    for (const path of paths) {
      const disk = ctx.online() && ctx.ws.findByPath(path.normalize('NFC')) === undefined ? this.read(path) : undefined
      if (disk?.text !== undefined) fresh.push({ path, disk })
      else await this.createFromDisk(path)
    }
    if (fresh.length === 0) return
    const ids = new Map<string, FileId>()
    ctx.ws.doc.transact(() => {
      for (const { path, disk } of fresh)
        if (ctx.ws.findByPath(path.normalize('NFC')) === undefined)
          ids.set(path, ctx.ws.createFile(path.normalize('NFC'), { kind: 'text', hash: disk.hash, size: disk.size, mtime: disk.mtimeMs, device: ctx.device }, ctx.origin))
    }, ctx.origin)
    const made = fresh.filter((f) => ids.has(f.path))
    const bodies = await ctx.bodies.openMany(made.map((f) => ids.get(f.path) as FileId))
    const recs: BaseRecord[] = made.map(({ path, disk }, i) => {
      const id = ids.get(path) as FileId
      const gen = ctx.ws.get(id)?.gen ?? 1
      ctx.bodies.seed(bodies[i] as Body, gen, disk.text as string)
      return { fileId: id, path, kind: 'text', ino: disk.ino, hash: disk.hash, size: disk.size, mtimeMs: disk.mtimeMs, ctimeMs: disk.ctimeMs, text: disk.text as string, gen }
    })
    await ctx.store.putBases(recs)
    for (const r of recs) await ctx.store.deletePending(r.path)
  }

  /** Brings one known file (CRDT entry and/or base) in line; `diskPath` overrides where to look on disk. */
  async syncFile(fileId: FileId, diskPath?: string): Promise<void> {
    const { ctx } = this
    const entry = ctx.ws.get(fileId)
    if (!entry || entry.kind === 'folder') return
    const base = ctx.store.getBase(fileId)
    const path = diskPath ?? base?.path ?? ctx.ws.getPath(fileId)
    if (path === undefined) return
    if (base && !entry.deleted && entry.hash === base.hash && base.path === path && statUnchanged(ctx.opts.root, base)) return
    const disk = this.read(path)
    if (entry.deleted) return this.remoteDeleted(entry, base, disk)
    if (!disk) {
      if (!base) return this.download(entry, path)
      return this.localDeleted(entry, base)
    }
    if (base && disk.hash === base.hash && entry.hash === base.hash) {
      if (disk.mtimeMs !== base.mtimeMs || disk.ino !== base.ino || disk.ctimeMs !== base.ctimeMs)
        await ctx.store.putBase({ ...base, ino: disk.ino, mtimeMs: disk.mtimeMs, ctimeMs: disk.ctimeMs })
      return
    }
    if (entry.kind === 'binary' || disk.text === undefined || base?.kind === 'binary')
      return this.binary.sync(entry, base, disk, (d, k) => this.agree(entry.id, d, k))
    return this.syncText(entry, base, disk)
  }

  /** Opens a body and waits (bounded) for it to be usable: synced, right generation, seeded. */
  private async usableBody(entry: FileEntry, path: string): Promise<Body | undefined> {
    const { ctx } = this
    const body = await ctx.bodies.open(entry.id)
    if (ctx.transport.connected && !(await syncedWithin(body, BODY_SYNC_WAIT_MS))) {
      // Watchdog: a subscription left unanswered (seen after server restarts) is renewed once.
      ctx.bodies.resubscribe(entry.id)
      if (!(await syncedWithin(body, BODY_SYNC_WAIT_MS))) {
        ctx.requeue(entry.id)
        return undefined
      }
    }
    const gen = bodyGen(body)
    if (gen !== undefined && gen !== entry.gen) {
      ctx.issue({
        path,
        kind: 'gen-mismatch',
        message: `The body of ${path} is generation ${gen} but the workspace says ${entry.gen}; not merging it (it would duplicate text). Waiting for the new body.`,
      })
      return undefined
    }
    if (gen === undefined && body.text.length === 0 && entry.hash !== undefined && entry.hash !== EMPTY_HASH)
      return undefined // not arrived yet: a remote update to the body triggers another pass
    return body
  }

  private async syncText(entry: FileEntry, base: BaseRecord | undefined, disk: DiskFile): Promise<void> {
    const body = await this.usableBody(entry, disk.path)
    if (!body) return
    const group = this.ctx.online() ? concurrentFolds(body, this.ctx.opts.device) : undefined
    if (group) await this.conflicts.repair(entry, body, group, disk)
    return this.decideText(entry, base, disk, body)
  }

  /** Folds text into a body, recording the fold (see fold-records.ts). */
  fold(body: Body, next: string, base: string): void {
    foldIntoBody(body, next, { device: this.ctx.opts.device, base, at: this.ctx.opts.clock.now() })
  }

  private async decideText(entry: FileEntry, base: BaseRecord | undefined, disk: DiskFile, body: Body): Promise<void> {
    const { ctx } = this
    const d = disk.text as string
    const c = body.text.toString()
    if (d === c) {
      if (ctx.online() && entry.hash !== disk.hash) this.updateMeta(entry.id, disk)
      return this.agree(entry.id, disk, 'text', entry.gen)
    }
    if (!base || base.text === undefined) {
      // DESIGN §3: no base → the CRDT text wins in the file, the disk version becomes a copy.
      if (!ctx.online()) return this.pending(disk, base)
      return this.conflicts.join(entry, disk, c, (d2) => this.agree(entry.id, d2, 'text', entry.gen))
    }
    const b = base.text
    if (d === b) return this.writeText(entry, disk, c)
    if (!ctx.online()) return this.pending(disk, base)
    if (c === b) {
      this.fold(body, d, b)
      this.updateMeta(entry.id, disk)
      return this.agree(entry.id, disk, 'text', entry.gen)
    }
    const merged = merge3(b, d, c, { labels: { ours: ctx.opts.device, base: 'base', theirs: 'workspace' } })
    if (merged.clean) {
      this.fold(body, merged.text, b)
      return this.writeText(entry, disk, merged.text)
    }
    await this.conflicts.text({
      entry,
      body,
      disk,
      crdtText: c,
      markersText: merged.text,
      fold: (next) => this.fold(body, next, b),
      write: (text) => this.writeText(entry, disk, text),
      agree: (d2) => this.agree(entry.id, d2, 'text', entry.gen),
      updateMeta: (d2) => this.updateMeta(entry.id, d2),
    })
  }

  /** Writes text over the disk file if it still holds what was read; re-reads and retries later otherwise. */
  async writeText(entry: FileEntry, disk: DiskFile, text: string): Promise<void> {
    const { ctx } = this
    const res = await ctx.writer.write({ path: disk.path, data: text, expect: disk.hash, fileId: entry.id })
    if (!res.ok) return ctx.requeue(entry.id)
    const written: DiskFile = { ...disk, ...res.stat, text, bytes: new Uint8Array(0), size: textSize(text) }
    if (ctx.online() && entry.hash !== written.hash) this.updateMeta(entry.id, written)
    await this.agree(entry.id, written, 'text', entry.gen)
  }

  updateMeta(fileId: FileId, disk: Pick<DiskFile, 'hash' | 'size' | 'mtimeMs'>): void {
    this.ctx.ws.updateContent(
      fileId,
      { hash: disk.hash, size: disk.size, mtime: disk.mtimeMs, device: this.ctx.device },
      this.ctx.origin,
    )
  }

  private async pending(disk: DiskFile, base: BaseRecord | undefined): Promise<void> {
    await this.ctx.store.putPending({
      path: disk.path,
      change: base ? 'modify' : 'create',
      hash: disk.hash,
      since: this.ctx.opts.clock.now(),
      ...(base ? { fileId: base.fileId } : {}),
    })
  }

  /** The workspace has a file the folder lacks: write it (never over something unexpected). */
  private async download(entry: FileEntry, path: string): Promise<void> {
    const { ctx } = this
    if (ctx.ignore.ignores(path, false)) return
    if (entry.kind === 'binary') return this.binary.download(entry, path, (d) => this.agree(entry.id, d, 'binary'))
    const body = await this.usableBody(entry, path)
    if (!body) return
    const text = body.text.toString()
    const res = await ctx.writer.write({ path, data: text, expect: null, fileId: entry.id })
    if (!res.ok) return ctx.requeue(entry.id)
    await this.agree(entry.id, { ...res.stat, path, text, bytes: new Uint8Array(0) }, 'text', entry.gen)
  }

  /** Downloads many new text files in one batch of atomic writes (first sync of a device). */
  async downloadMany(items: readonly { entry: FileEntry; path: string }[]): Promise<void> {
    const { ctx } = this
    const ready: { entry: FileEntry; path: string; text: string }[] = []
    for (const { entry, path } of items) {
      if (entry.kind !== 'text' || ctx.store.getBase(entry.id) || ctx.ignore.ignores(path, false)) continue
      if (this.read(path) !== undefined) continue
      const body = await this.usableBody(entry, path)
      if (body) ready.push({ entry, path, text: body.text.toString() })
    }
    if (ready.length === 0) return
    const results = await ctx.writer.writeMany(ready.map((r) => ({ path: r.path, data: r.text, expect: null, fileId: r.entry.id })))
    const recs: BaseRecord[] = []
    results.forEach((res, i) => {
      const r = ready[i] as (typeof ready)[number]
      if (!res.ok) return ctx.requeue(r.entry.id)
      recs.push({ fileId: r.entry.id, path: r.path, kind: 'text', ...res.stat, size: textSize(r.text), text: r.text, gen: r.entry.gen })
    })
    await ctx.store.putBases(recs)
  }

  /** The file is gone from disk but the workspace still has it. */
  private async localDeleted(entry: FileEntry, base: BaseRecord): Promise<void> {
    const { ctx } = this
    if (!ctx.online()) {
      await ctx.store.putPending({ path: base.path, fileId: base.fileId, change: 'delete', since: ctx.opts.clock.now() })
      return
    }
    const body = entry.kind === 'text' ? await this.usableBody(entry, base.path) : undefined
    const now = ctx.ws.get(entry.id)
    if ((now?.hash !== undefined && now.hash !== base.hash) || (body && textHash(body.text.toString()) !== base.hash)) {
      // Edited elsewhere since our base: the edit wins over our delete.
      await ctx.store.deleteBase(entry.id)
      await ctx.store.deletePending(base.path)
      return this.syncFile(entry.id, ctx.ws.getPath(entry.id))
    }
    // Tell others which text this delete saw: an edit it did not see survives it.
    if (body) body.doc.transact(() => body.doc.getMap('meta').set(DELETED_SEEN, textHash(body.text.toString())), AGENT_ORIGIN)
    if (!now?.deleted) ctx.ws.delete(entry.id, ctx.device, ctx.origin)
    // The body stays open until its last update (deletedSeen) is acknowledged.
    if (body) void body.session.flushed().then(() => ctx.bodies.close(entry.id))
    await ctx.store.deleteBase(entry.id)
    await ctx.store.deletePending(base.path)
  }

  /** True when the body holds text the deleting device did not see (a concurrent edit). */
  private async editedSinceDelete(entry: FileEntry, path: string): Promise<boolean> {
    if (entry.kind !== 'text') return false
    const body = await this.usableBody(entry, path)
    const seen = body?.doc.getMap('meta').get(DELETED_SEEN)
    return body !== undefined && typeof seen === 'string' && seen !== textHash(body.text.toString())
  }

  /** The workspace deleted the file: trash our copy, unless it was edited here since the base. */
  private async remoteDeleted(entry: FileEntry, base: BaseRecord | undefined, disk: DiskFile | undefined): Promise<void> {
    const { ctx } = this
    if (!base) return
    if (disk && (disk.hash !== base.hash || (await this.editedSinceDelete(entry, disk.path)))) {
      if (!ctx.online()) return this.pending(disk, base)
      ctx.ws.restore(entry.id, ctx.origin)
      ctx.conflict({ fileId: entry.id, path: disk.path, kind: 'delete', policy: 'edit-wins', copyPath: undefined })
      ctx.ws.recordConflict({ file: entry.id, kind: 'delete', copy: undefined }, ctx.origin)
      return this.syncFile(entry.id, disk.path)
    }
    // A twin entry (same path, same content) may have replaced this one: keep the file, re-point the base.
    const twin = ctx.ws.findByPath(base.path.normalize('NFC'))
    if (disk && twin !== undefined && twin !== entry.id && ctx.ws.get(twin)?.hash === disk.hash) {
      await ctx.store.deleteBase(entry.id)
      return this.agree(twin, disk, base.kind === 'binary' ? 'binary' : 'text', ctx.ws.get(twin)?.gen)
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
  }

  /** Content hash of a text as the agent would write it. */
  static hashOf(text: string): string {
    return textHash(text)
  }
}
