import { SkeinError } from '@skein/core'
import type { ContentHash, FileId } from '@skein/core'
import type { FileEntry } from '@skein/workspace'
import { stillCurrent, writeRefused } from './agent-context.js'
import type { AgentContext } from './agent-context.js'
import type { DiskFile } from './disk-file.js'
import { hashBytes } from './file-hash.js'
import type { BaseRecord } from './state-types.js'
import type { Conflicts } from './conflicts.js'
import { usableBody } from './usable-body.js'

type Agree = (disk: DiskFile, kind: 'text' | 'binary') => Promise<void>

/** First and longest wait before asking the server again for a blob it does not have. */
const MISSING_BLOB_RETRY_MS = 1_000
const MISSING_BLOB_RETRY_MAX_MS = 60_000

/** Binary files (and text over the size limit): whole-file, through the server's blob store, hash-verified both ways. */
export class BinarySync {
  constructor(
    private readonly ctx: AgentContext,
    private readonly conflicts: Conflicts,
    /** Makes a text file on disk the entry's (text) content; false when it cannot now. */
    private readonly pushText: (entry: FileEntry, disk: DiskFile) => Promise<boolean>,
  ) {}

  /** Blobs the server did not have when asked → the wait before asking again (doubling). */
  private readonly missing = new Map<ContentHash, number>()

  private async upload(disk: DiskFile): Promise<void> {
    await this.ctx.transport.putBlob(this.ctx.opts.workspace, disk.hash, disk.bytes)
  }

  /**
   * Downloads and verifies a blob. One the server does not have (yet: the
   * device holding it has not sent it, e.g. while giving back what a server
   * lost) is asked for again later, waiting twice as long each time up to a
   * minute, and reported once.
   */
  async fetch(entry: FileEntry): Promise<Uint8Array | undefined> {
    const { ctx } = this
    const hash: ContentHash | undefined = entry.blob ?? entry.hash
    // Offline there is nothing to fetch from: the pass after reconnecting fetches it.
    if (hash === undefined || !ctx.transport.connected) return undefined
    const bytes = await ctx.transport.getBlob(ctx.opts.workspace, hash)
    if (bytes === undefined) {
      const last = this.missing.get(hash)
      const wait =
        last === undefined ? MISSING_BLOB_RETRY_MS : Math.min(last * 2, MISSING_BLOB_RETRY_MAX_MS)
      this.missing.set(hash, wait)
      if (last === undefined) {
        const path = ctx.ws.getPath(entry.id) ?? entry.id
        ctx.issue({
          path,
          kind: 'blob-missing',
          message: `The server does not have the content of ${path} (${hash.slice(0, 12)}…) yet; asking again, at least once a minute, until the device that has it sends it.`,
        })
      }
      ctx.requeue(entry.id, wait)
      return undefined
    }
    this.missing.delete(hash)
    if (hashBytes(bytes) !== hash)
      throw new SkeinError(
        'HASH_MISMATCH',
        `The blob for ${this.ctx.ws.getPath(entry.id) ?? entry.id} does not match its hash ${hash}; not writing it. It will be fetched again.`,
      )
    return bytes
  }

  /** A new binary file on disk. */
  async create(
    disk: DiskFile,
    meta: { hash: ContentHash; size: number; mtime: number },
  ): Promise<FileId> {
    const { ctx } = this
    await this.upload(disk)
    const id = ctx.ws.createFile(
      disk.path.normalize('NFC'),
      { ...meta, kind: 'binary', blob: disk.hash, device: ctx.device },
      ctx.origin,
    )
    await ctx.store.putBase({
      fileId: id,
      path: disk.path,
      kind: 'binary',
      ino: disk.ino,
      hash: disk.hash,
      size: disk.size,
      mtimeMs: disk.mtimeMs,
      ctimeMs: disk.ctimeMs,
      birthtimeMs: disk.birthtimeMs,
      mine: true,
    })
    await ctx.store.deletePending(disk.path)
    return id
  }

  /** Writes the workspace's version of a file the folder lacks. */
  async download(
    entry: FileEntry,
    path: string,
    agree: (d: DiskFile) => Promise<void>,
  ): Promise<void> {
    const bytes = await this.fetch(entry)
    if (!bytes) return
    const res = await this.ctx.writer.write({ path, data: bytes, expect: null, fileId: entry.id })
    if (!res.ok) return writeRefused(this.ctx, entry.id, path, res)
    await agree({ ...res.stat, path, bytes, text: undefined })
  }

  /**
   * The workspace's content of an entry as bytes: the blob of a binary file, the
   * body text of a text file (a local file that became binary meets a text
   * entry). Undefined when it is not available yet (the caller is requeued).
   */
  private async remote(
    entry: FileEntry,
    path: string,
  ): Promise<{ bytes: Uint8Array; text: string | undefined } | undefined> {
    if (entry.kind !== 'text') {
      const bytes = await this.fetch(entry)
      return bytes && { bytes, text: undefined }
    }
    const body = await usableBody(this.ctx, entry, path)
    if (!body) return undefined
    const text = body.text.toJSON()
    return { bytes: Buffer.from(text, 'utf8'), text }
  }

  private async replaceOnDisk(entry: FileEntry, disk: DiskFile, agree: Agree): Promise<void> {
    const remote = await this.remote(entry, disk.path)
    if (!remote) return
    const { bytes, text } = remote
    this.ctx.opts.logger.debug('replacing with the workspace version', {
      path: disk.path,
      kind: entry.kind,
    })
    const res = await this.ctx.writer.write({
      path: disk.path,
      data: bytes,
      expect: disk.hash,
      fileId: entry.id,
    })
    if (!res.ok) return writeRefused(this.ctx, entry.id, disk.path, res)
    await agree({ ...disk, ...res.stat, bytes, text }, text === undefined ? 'binary' : 'text')
  }

  private async push(entry: FileEntry, disk: DiskFile, agree: Agree): Promise<void> {
    const { ctx } = this
    // Text again (under the size limit): a note, co-edited character by character.
    if (disk.text !== undefined && (await this.pushText(entry, disk))) return
    ctx.opts.logger.debug('pushing binary content', {
      path: disk.path,
      hash: disk.hash.slice(0, 8),
    })
    await this.upload(disk)
    if (!stillCurrent(ctx, entry)) return
    ctx.ws.updateContent(
      entry.id,
      {
        hash: disk.hash,
        blob: disk.hash,
        size: disk.size,
        mtime: disk.mtimeMs,
        device: ctx.device,
        // A text file that became binary: other devices must fetch the blob, not read the body.
        kind: 'binary',
      },
      ctx.origin,
    )
    await agree(disk, 'binary')
    const base = ctx.store.getBase(entry.id)
    if (base?.hash === disk.hash) await ctx.store.putBase({ ...base, mine: true })
  }

  /** The three-way decision on hashes. */
  async sync(
    entry: FileEntry,
    base: BaseRecord | undefined,
    disk: DiskFile,
    agree: Agree,
  ): Promise<void> {
    const { ctx } = this
    if (disk.hash === entry.hash) return agree(disk, 'binary')
    if (base && disk.hash === base.hash && !lostConcurrently(entry, base))
      return this.replaceOnDisk(entry, disk, agree)
    if (!ctx.online()) {
      await ctx.store.putPending({
        path: disk.path,
        change: base ? 'modify' : 'create',
        hash: disk.hash,
        since: ctx.opts.clock.now(),
        ...(base ? { fileId: base.fileId } : {}),
      })
      return
    }
    if (base && entry.hash === base.hash) return this.push(entry, disk, agree)
    const remote = (await this.remote(entry, disk.path))?.bytes
    if (!remote) return
    if (!base) {
      // Join: the workspace version stays, the disk version becomes a copy.
      await this.conflicts.saveCopy(disk.path, disk.bytes)
      return this.replaceOnDisk(entry, disk, agree)
    }
    await this.conflicts.binary(
      entry,
      disk,
      remote,
      (d) => this.push(entry, d, agree),
      () => this.replaceOnDisk(entry, disk, agree),
    )
  }
}

/**
 * True when the workspace version replaced something other than this device's
 * own pushed version (WS15): the two writes were concurrent and the workspace
 * kept the other one, so ours is a conflict, not an old version.
 */
function lostConcurrently(entry: FileEntry, base: BaseRecord): boolean {
  // A text base is the note's text as this device last agreed it, often its own
  // fold; a note turned binary elsewhere without knowing that text replaced it
  // concurrently (a spurious copy at worst, when the text came from a third device).
  const ours = base.mine === true || (base.kind === 'text' && entry.kind === 'binary')
  return (
    ours &&
    entry.hash !== base.hash &&
    entry.replaced !== undefined &&
    !entry.replaced.includes(base.hash)
  )
}
