import type { FileId } from '@skein/core'
import type { FileEntry } from '@skein/workspace'
import { merge3 } from '@skein/merge'
import { concurrentFolds, foldIntoBody } from './fold-records.js'
import { AGENT_ORIGIN, bodyGen } from './body-docs.js'
import type { Body } from './body-docs.js'
import { stillCurrent, writeRefused } from './agent-context.js'
import type { AgentContext } from './agent-context.js'
import { readDiskFile, textHash, textSize } from './disk-file.js'
import type { DiskFile } from './disk-file.js'
import type { BaseRecord } from './state-types.js'
import { lstatSync } from 'node:fs'
import { join } from 'node:path'
import { sameStat, toFileStat } from './file-hash.js'
import { Conflicts } from './conflicts.js'
import { BinarySync } from './binary-sync.js'
import { Deletes } from './deletes.js'
import { BODY_SYNC_WAIT_MS, syncedWithin, usableBody } from './usable-body.js'
import { arrivals } from './arrivals.js'

/** Files written per batch by {@link FileSync.downloadMany}. */
const DOWNLOAD_BATCH = 500
/**
 * Bodies a bulk download keeps subscribed at once: enough to keep the server
 * busy, few enough that 10,000 notes never sit in memory (or in server rooms)
 * together.
 */
const DOWNLOAD_WINDOW = 2000
/**
 * How long a bulk download lets a short batch wait for more bodies: a server
 * streams its answers, and a write batch per network read would cost a disk
 * batch, a state write and a resubscription each.
 */
const DOWNLOAD_GATHER_MS = 50
/** The opening line of a conflict block, as `merge3` writes it under the `markers` policy. */
const MARKER_LINE = /^<{7}(?: |$)/m

/** True when the file at the base's path still has the base's size, mtime, ctime and inode. */
function statUnchanged(root: string, base: BaseRecord): boolean {
  try {
    const st = lstatSync(join(root, base.path))
    return st.isFile() && sameStat(toFileStat(st), base)
  } catch {
    return false
  }
}

/**
 * The three-way decision for one file (DESIGN §5), with `base` the text disk
 * and CRDT last agreed on: disk == base → CRDT text to disk; CRDT == base →
 * disk change to the Y.Text as minimal ops; both changed → merge3, and a
 * conflict follows the policy. Idempotent: any event may trigger it again.
 */
export class FileSync {
  /** What the running step is doing (debug logs of a step that runs for long). */
  phase = ''
  private readonly conflicts: Conflicts
  private readonly binary: BinarySync
  private readonly deletes: Deletes

  constructor(private readonly ctx: AgentContext) {
    this.conflicts = new Conflicts(ctx, (path) => this.createFromDisk(path))
    this.binary = new BinarySync(ctx, this.conflicts, (entry, disk) => this.pushText(entry, disk))
    this.deletes = new Deletes(ctx, this)
  }

  /**
   * A text file on disk replaces binary content (a file turned back into text,
   * or a note whose edit won over a concurrent switch to binary): it becomes a
   * co-edited note again. The text is folded into the body with a fold record
   * (two devices doing this at once are repaired, not doubled) and the entry's
   * content says text. False when the body cannot take it (another generation,
   * or not synced): the caller pushes a blob instead, so nothing waits on it.
   * True without pushing when the entry changed while the body synced (requeued).
   */
  private async pushText(entry: FileEntry, disk: DiskFile): Promise<boolean> {
    const { ctx } = this
    const body = await ctx.bodies.open(entry.id)
    if (!(await syncedWithin(body, BODY_SYNC_WAIT_MS))) return false
    const gen = bodyGen(body)
    if (gen !== undefined && gen !== entry.gen) return false
    const text = disk.text as string
    // The body may hold text another device folded while this one waited: never
    // overwrite it unseen. A changed entry means deciding again; a body ahead of
    // the entry (its update came first) is kept as a copy before the fold.
    let kept: string | undefined
    for (;;) {
      if (!stillCurrent(ctx, entry)) return true
      const current = body.text.toJSON()
      if (current === kept || this.explained(entry, current, text)) break
      ctx.opts.logger.debug('keeping unseen body text as a copy', { path: disk.path })
      await this.conflicts.saveCopy(disk.path, current)
      kept = current
    }
    if (gen === undefined)
      body.doc.transact(() => body.doc.getMap('meta').set('gen', entry.gen), AGENT_ORIGIN)
    ctx.opts.logger.debug('text replaces binary content', { path: disk.path })
    this.fold(body, text, body.text.toJSON(), undefined, true) // over unseen text: whole lines (TX6)
    ctx.ws.updateContent(
      entry.id,
      { hash: disk.hash, size: disk.size, mtime: disk.mtimeMs, device: ctx.device, kind: 'text' },
      ctx.origin,
    )
    await this.agree(entry.id, disk, 'text', entry.gen)
    return true
  }

  /**
   * True when replacing the body's text `current` by `next` loses nothing this
   * device has not seen: it is empty or `next`, the entry's version, the version
   * this device last agreed, or one the entry's writer saw and replaced (WS15).
   */
  private explained(entry: FileEntry, current: string, next: string): boolean {
    if (current === '' || current === next) return true
    const h = textHash(current)
    return (
      h === entry.hash ||
      h === this.ctx.store.getBase(entry.id)?.hash ||
      (entry.replaced ?? []).includes(h)
    )
  }

  /** Reads a file from disk under the agent's text limit. */
  read(path: string): DiskFile | undefined {
    return readDiskFile(this.ctx.opts.root, path, this.ctx.opts.maxTextBytes)
  }

  /** Stores the agreed state of a file. */
  async agree(
    fileId: FileId,
    disk: DiskFile,
    kind: 'text' | 'binary',
    gen?: number,
  ): Promise<void> {
    const before = this.ctx.store.getBase(fileId)
    const rec: BaseRecord = {
      fileId,
      path: disk.path,
      kind,
      ino: disk.ino,
      hash: disk.hash,
      size: disk.size,
      mtimeMs: disk.mtimeMs,
      ctimeMs: disk.ctimeMs,
      birthtimeMs: disk.birthtimeMs,
      ...(kind === 'text' && disk.text !== undefined ? { text: disk.text } : {}),
      ...(gen === undefined ? {} : { gen }),
    }
    // The body first: a base durable before the text it agrees with would, after a
    // crash, make the disk look unchanged while the body lacks the edit.
    await this.ctx.bodies.saveNow()
    await this.ctx.store.putBase(rec)
    await this.ctx.store.deletePending(disk.path)
    if (kind === 'text' && before?.text !== undefined && disk.text !== undefined)
      this.settleMarkers(fileId, before.text, disk.text)
  }

  /**
   * A note agreed with conflict markers, then without them, settles the
   * conflicts that left markers in it (the device that wrote them, and every
   * device that had them, agreed them first).
   */
  private settleMarkers(fileId: FileId, before: string, text: string): void {
    if (!MARKER_LINE.test(before) || MARKER_LINE.test(text)) return
    const { ws } = this.ctx
    for (const c of ws.openConflicts())
      if (c.file === fileId && c.copy === undefined && c.kind === 'edit')
        ws.resolveConflict(c.id, this.ctx.origin)
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
      await ctx.store.putPending({
        path,
        change: 'create',
        hash: disk.hash,
        since: ctx.opts.clock.now(),
      })
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
      const disk =
        ctx.online() && ctx.ws.findByPath(path.normalize('NFC')) === undefined
          ? this.read(path)
          : undefined
      if (disk?.text !== undefined) fresh.push({ path, disk })
      else await this.createFromDisk(path)
    }
    if (fresh.length === 0) return
    const ids = new Map<string, FileId>()
    ctx.ws.doc.transact(() => {
      for (const { path, disk } of fresh)
        if (ctx.ws.findByPath(path.normalize('NFC')) === undefined)
          ids.set(
            path,
            ctx.ws.createFile(
              path.normalize('NFC'),
              {
                kind: 'text',
                hash: disk.hash,
                size: disk.size,
                mtime: disk.mtimeMs,
                device: ctx.device,
              },
              ctx.origin,
            ),
          )
    }, ctx.origin)
    const made = fresh.filter((f) => ids.has(f.path))
    const bodies = await ctx.bodies.openMany(made.map((f) => ids.get(f.path) as FileId))
    const recs: BaseRecord[] = made.map(({ path, disk }, i) => {
      const id = ids.get(path) as FileId
      const gen = ctx.ws.get(id)?.gen ?? 1
      ctx.bodies.seed(bodies[i] as Body, gen, disk.text as string)
      return {
        fileId: id,
        path,
        kind: 'text',
        ino: disk.ino,
        hash: disk.hash,
        size: disk.size,
        mtimeMs: disk.mtimeMs,
        ctimeMs: disk.ctimeMs,
        birthtimeMs: disk.birthtimeMs,
        text: disk.text as string,
        gen,
      }
    })
    await ctx.bodies.saveNow() // the seeded texts before the bases that say they are synced
    await ctx.store.putBases(recs)
    for (const r of recs) await ctx.store.deletePending(r.path)
  }

  /** Brings one known file (CRDT entry and/or base) in line; `diskPath` overrides where to look on disk. */
  async syncFile(
    fileId: FileId,
    diskPath?: string,
    opts: { localDelete?: boolean } = {},
  ): Promise<void> {
    const { ctx } = this
    const entry = ctx.ws.get(fileId)
    if (!entry || entry.kind === 'folder') return
    // A deleted entry's text is not coming: a body waiting for it may close as idle.
    if (entry.deleted) ctx.bodies.setWaiting(fileId, false)
    const base = ctx.store.getBase(fileId)
    const path = diskPath ?? base?.path ?? ctx.ws.getPath(fileId)
    if (path === undefined) return
    // A base agreed with another body generation is no base for the text (DESIGN §3).
    const sameGen = base?.gen === undefined || base.gen === entry.gen
    if (
      base &&
      sameGen &&
      !entry.deleted &&
      entry.hash === base.hash &&
      base.path === path &&
      statUnchanged(ctx.opts.root, base)
    )
      return
    const disk = this.read(path)
    this.phase = `${path}: ${entry.deleted ? 'remote delete' : 'decide'}`
    if (entry.deleted) return this.deletes.remoteDeleted(entry, base, disk)
    if (!base && disk && this.heldByAnother(fileId, path)) return
    if (!disk) {
      this.phase = `${path}: download`
      if (!base) return this.download(entry, path)
      // Only the disk pass decides a file was deleted (after its grace period, with
      // rename detection); a remote-triggered pass hands the path over to it.
      if (!opts.localDelete) return ctx.requeuePaths([base.path], 0)
      return this.deletes.localDeleted(entry, base)
    }
    if (base && disk.hash === base.hash && entry.hash === base.hash) {
      if (
        disk.mtimeMs !== base.mtimeMs ||
        disk.ino !== base.ino ||
        disk.ctimeMs !== base.ctimeMs ||
        !sameGen
      )
        await ctx.store.putBase({
          ...base,
          ino: disk.ino,
          mtimeMs: disk.mtimeMs,
          ctimeMs: disk.ctimeMs,
          birthtimeMs: disk.birthtimeMs,
          ...(entry.kind === 'text' ? { gen: entry.gen } : {}),
        })
      // Disk, base and workspace agree: a pending record left here (an offline
      // pass's create under a name a rename then explained) has nothing to sync.
      await ctx.store.deletePending(disk.path)
      return
    }
    this.phase = `${path}: ${entry.kind === 'binary' || disk.text === undefined || base?.kind === 'binary' ? 'binary' : 'text'}`
    ctx.opts.logger.debug('deciding', {
      path,
      entry: `${entry.kind} ${entry.hash?.slice(0, 8)} replaced ${entry.replaced?.map((h) => h.slice(0, 8)).join(',') ?? '-'}`,
      base: base ? `${base.kind} ${base.hash.slice(0, 8)}${base.mine ? ' mine' : ''}` : '-',
      disk: `${disk.text === undefined ? 'binary' : 'text'} ${disk.hash.slice(0, 8)}`,
    })
    if (entry.kind === 'binary' || disk.text === undefined || base?.kind === 'binary')
      return this.binary.sync(entry, base, disk, (d, k) => this.agree(entry.id, d, k))
    // Another generation: the text the base holds was never merged with this body,
    // so the disk text is treated like a first join (kept as a copy if it differs).
    return this.syncText(entry, sameGen ? base : undefined, disk)
  }

  /**
   * True when the file at `path` is another entry's, on its way elsewhere (a
   * remote rename or delete not applied yet): it is not this entry's disk
   * version, so no join and no conflict copy. Moving it away requeues this entry.
   */
  private heldByAnother(fileId: FileId, path: string): boolean {
    const holder = this.ctx.store.baseByPath(path)
    if (!holder || holder.fileId === fileId) return false
    const e = this.ctx.ws.get(holder.fileId)
    return (
      e !== undefined && (e.deleted || this.ctx.ws.getPath(e.id) !== holder.path.normalize('NFC'))
    )
  }

  private async syncText(
    entry: FileEntry,
    base: BaseRecord | undefined,
    disk: DiskFile,
  ): Promise<void> {
    this.phase = `${disk.path}: text body`
    const body = await usableBody(this.ctx, entry, disk.path)
    if (!body) return
    // The entry may have changed while the body synced (another device turned the
    // note into a binary file): decide on what is there now, not on what was.
    if (!stillCurrent(this.ctx, entry)) return
    const group = this.ctx.online() ? concurrentFolds(body, this.ctx.opts.device) : undefined
    this.phase = `${disk.path}: text ${group ? 'repair' : 'decide'}`
    if (group) await this.conflicts.repair(entry, body, group, disk)
    this.phase = `${disk.path}: text decide`
    return this.decideText(entry, base, disk, body)
  }

  /**
   * Folds text into a body, recording the fold (see fold-records.ts). With
   * `saw` (the body text `next` was computed from), edits that arrived since
   * are kept by a rebase; false when they collide (the caller decides again).
   * `whole` replaces changed lines whole (see foldIntoBody).
   */
  fold(body: Body, next: string, base: string, saw?: string, whole = false): boolean {
    return foldIntoBody(body, next, {
      device: this.ctx.opts.device,
      base,
      at: this.ctx.opts.clock.now(),
      whole,
      ...(saw === undefined ? {} : { saw }),
    })
  }

  private async decideText(
    entry: FileEntry,
    base: BaseRecord | undefined,
    disk: DiskFile,
    body: Body,
  ): Promise<void> {
    const { ctx } = this
    const d = disk.text as string
    const c = body.text.toJSON()
    if (d === '' && base?.text && c !== '' && Math.abs(disk.mtimeMs - base.mtimeMs) < 1) {
      // Power loss: a crash before the data reached the disk leaves the file
      // truncated to 0 bytes with its old mtime. Never spread that: put the
      // workspace text back (nothing changes anywhere else) and say so.
      ctx.issue({
        path: disk.path,
        kind: 'io',
        message: `${disk.path} became empty but kept its modification time (what a crash before a write reached the disk leaves); restored it from the workspace instead of emptying it on every device. If you emptied it on purpose, save it again.`,
      })
      return this.writeText(entry, disk, c)
    }
    if (d === c) {
      if (ctx.online() && entry.hash !== disk.hash && !this.updateMeta(entry.id, disk)) return
      return this.agree(entry.id, disk, 'text', entry.gen)
    }
    if (!base || base.text === undefined) {
      // DESIGN §3: no base → the CRDT text wins in the file, the disk version becomes a copy.
      if (!ctx.online()) return this.pending(disk, base)
      return this.conflicts.join(entry, disk, c, (d2) =>
        this.agree(entry.id, d2, 'text', entry.gen),
      )
    }
    const b = base.text
    if (d === b) return this.writeText(entry, disk, c)
    if (!ctx.online()) return this.pending(disk, base)
    if (c === b) {
      this.fold(body, d, b)
      if (!this.updateMeta(entry.id, disk)) return
      return this.agree(entry.id, disk, 'text', entry.gen)
    }
    const merged = merge3(b, d, c, {
      labels: { ours: ctx.opts.device, base: 'base', theirs: 'workspace' },
    })
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
      // A conflict resolution replaces another device's version of lines: whole lines (TX6).
      fold: (next) => this.fold(body, next, b, c, true),
      write: (text) => this.writeText(entry, disk, text),
      agree: (d2) => this.agree(entry.id, d2, 'text', entry.gen),
      updateMeta: (d2) => this.updateMeta(entry.id, d2),
    })
  }

  /** Writes text over the disk file if it still holds what was read; re-reads and retries later otherwise. */
  async writeText(entry: FileEntry, disk: DiskFile, text: string): Promise<void> {
    const { ctx } = this
    const res = await ctx.writer.write({
      path: disk.path,
      data: text,
      expect: disk.hash,
      fileId: entry.id,
    })
    if (!res.ok) return writeRefused(ctx, entry.id, disk.path, res)
    const written: DiskFile = {
      ...disk,
      ...res.stat,
      text,
      bytes: new Uint8Array(0),
      size: textSize(text),
    }
    if (ctx.online() && entry.hash !== written.hash && !this.updateMeta(entry.id, written)) return
    await this.agree(entry.id, written, 'text', entry.gen)
  }

  /**
   * Records a note's new text version in its entry. False (and the file
   * requeued, no base to be agreed) when the entry is no longer a live text
   * note: another device turned it into a binary file or deleted it while this
   * pass awaited a write. Writing a text hash then would stamp it on the binary
   * version (a binary entry whose blob never exists), and agreeing would make
   * this device's text look synced when only the dead body holds it.
   */
  updateMeta(fileId: FileId, disk: Pick<DiskFile, 'hash' | 'size' | 'mtimeMs'>): boolean {
    const { ctx } = this
    const now = ctx.ws.get(fileId)
    if (now?.kind !== 'text' || now.deleted) {
      ctx.requeue(fileId)
      return false
    }
    ctx.ws.updateContent(
      fileId,
      { kind: 'text', hash: disk.hash, size: disk.size, mtime: disk.mtimeMs, device: ctx.device },
      ctx.origin,
    )
    return true
  }

  async pending(disk: DiskFile, base: BaseRecord | undefined): Promise<void> {
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
    if (entry.kind === 'binary')
      return this.binary.download(entry, path, (d) => this.agree(entry.id, d, 'binary'))
    const body = await usableBody(this.ctx, entry, path)
    if (!body) return
    const text = body.text.toJSON()
    const res = await ctx.writer.write({ path, data: text, expect: null, fileId: entry.id })
    if (!res.ok) return writeRefused(ctx, entry.id, path, res)
    await this.agree(
      entry.id,
      { ...res.stat, path, text, bytes: new Uint8Array(0) },
      'text',
      entry.gen,
    )
  }

  /**
   * Downloads many new text files in batches of atomic writes (first sync of a
   * device). Batches are written in the order the bodies arrive, so disk writes
   * overlap the server still sending later bodies. Returns the files handled
   * (the others are left to the per-file pass).
   */
  async downloadMany(items: readonly { entry: FileEntry; path: string }[]): Promise<Set<FileId>> {
    const { ctx } = this
    const todo = items.filter(
      ({ entry, path }) =>
        entry.kind === 'text' && !ctx.store.getBase(entry.id) && !ctx.ignore.ignores(path, false),
    )
    const written = new Set<FileId>()
    const batches = arrivals(todo, {
      open: async (ts) => void (await ctx.bodies.openMany(ts.map((t) => t.entry.id))),
      session: (t) => ctx.bodies.peek(t.entry.id)?.session,
      renew: (t) => {
        ctx.bodies.resubscribe(t.entry.id)
        return ctx.bodies.peek(t.entry.id)?.session
      },
      alive: () => ctx.online(),
      stallMs: BODY_SYNC_WAIT_MS,
      max: DOWNLOAD_BATCH,
      window: DOWNLOAD_WINDOW,
      gatherMs: DOWNLOAD_GATHER_MS,
    })
    for await (const batch of batches) {
      const ready: { entry: FileEntry; path: string; text: string }[] = []
      for (const { entry, path } of batch) {
        const body = await usableBody(this.ctx, entry, path)
        if (body) ready.push({ entry, path, text: body.text.toJSON() })
      }
      if (ready.length === 0) continue
      // `expect: null`: a file already at the path (a join) is left for syncFile to decide.
      const results = await ctx.writer.writeMany(
        ready.map((r) => ({ path: r.path, data: r.text, expect: null, fileId: r.entry.id })),
      )
      const recs: BaseRecord[] = []
      results.forEach((res, k) => {
        const r = ready[k] as (typeof ready)[number]
        if (!res.ok && res.reason === 'blocked') {
          writeRefused(ctx, r.entry.id, r.path, res)
          written.add(r.entry.id) // handled: reported, not retried in this pass
        }
        if (!res.ok) return
        written.add(r.entry.id)
        recs.push({
          fileId: r.entry.id,
          path: r.path,
          kind: 'text',
          ...res.stat,
          size: textSize(r.text),
          text: r.text,
          gen: r.entry.gen,
        })
      })
      await ctx.store.putBases(recs)
      if (ctx.opts.bodyIdleMs > 0) await ctx.bodies.release(recs.map((r) => r.fileId))
    }
    return written
  }

  /** Opens a body and waits (bounded) for it to be usable. */
  usableBody(entry: FileEntry, path: string): Promise<Body | undefined> {
    return usableBody(this.ctx, entry, path)
  }
}
