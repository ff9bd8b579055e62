import { writeSync } from 'node:fs'
import { open, readFile, rm } from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { fsError, isNotFound } from './fs-utils.js'
import type { ManifestEntry, SyncManifest } from './manifest.js'

/** A manifest change made by a completed operation (`null` forgets the path). */
export type Effect = [path: string, entry: ManifestEntry | null]

interface Header {
  run: string
  started: number
  ops: string[]
}

/**
 * Write-ahead log of one run: first the planned operations, then one line per
 * completed operation with its manifest effects. After a crash, {@link recoverWal}
 * replays the completed effects into the manifest; incomplete operations left
 * nothing behind (transfers are temp+rename or atomic PUTs) and are simply
 * planned again by the next run.
 */
export class WriteAheadLog {
  private fh: FileHandle | undefined
  private pending: string[] = []
  private waiters: (() => void)[] = []
  private timer: NodeJS.Timeout | undefined
  private writing: Promise<void> = Promise.resolve()
  private failure: unknown

  private constructor(readonly file: string) {}

  /** Starts a log for a run with the given planned operations. */
  static async begin(file: string, run: string, ops: string[]): Promise<WriteAheadLog> {
    const wal = new WriteAheadLog(file)
    try {
      wal.fh = await open(file, 'w')
      await wal.fh.writeFile(
        JSON.stringify({ run, started: Date.now(), ops } satisfies Header) + '\n',
      )
      await wal.fh.sync()
    } catch (err) {
      throw fsError(err, 'write the sync log', file)
    }
    return wal
  }

  /**
   * Records that operation `op` completed with `effects`. Lines are written in
   * batches (every {@link BATCH_MS} ms or {@link BATCH_LINES} lines): one write
   * per file was a visible share of a 10,000-file run. A crash can lose the last
   * batch; those operations are then simply redone, which every operation allows.
   * The promise resolves once the line is written; it never rejects (a write
   * failure surfaces from {@link end}).
   */
  commit(op: number, effects: Effect[]): Promise<void> {
    this.pending.push(JSON.stringify({ op, effects }) + '\n')
    const written = new Promise<void>((resolve) => this.waiters.push(resolve))
    if (this.pending.length >= BATCH_LINES) this.kick()
    else if (!this.timer) {
      this.timer = setTimeout(() => this.kick(), BATCH_MS)
      this.timer.unref()
    }
    return written
  }

  /** Writes the pending lines now (after any write in progress). */
  private kick(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.pending.length === 0) return
    const text = this.pending.join('')
    const waiters = this.waiters
    this.pending = []
    this.waiters = []
    // A synchronous append of a few KB to the page cache costs microseconds; a
    // thread-pool trip per batch cost more, and the pool is busy with the transfers.
    this.writing = this.writing
      .then(() => void (this.fh && writeSync(this.fh.fd, text)))
      .catch((err: unknown) => void (this.failure ??= err))
      .finally(() => waiters.forEach((w) => w()))
  }

  private async drain(): Promise<void> {
    this.kick()
    await this.writing
  }

  /** Ends the run: the manifest now holds everything, the log is removed. */
  async end(): Promise<void> {
    await this.drain()
    await this.fh?.close()
    this.fh = undefined
    if (this.failure) throw fsError(this.failure, 'write the sync log', this.file)
    await rm(this.file, { force: true })
  }

  /** Closes the handle but keeps the log (for an interrupted run). */
  async close(): Promise<void> {
    await this.drain()
    await this.fh?.close()
    this.fh = undefined
  }
}

/** Longest a completed operation waits before its log line is written, in ms. */
const BATCH_MS = 20
/** Pending lines that trigger a write at once. */
const BATCH_LINES = 256

/**
 * Replays a leftover log into `manifest` (completed operations only). Returns
 * how many operations were planned and how many had completed, or undefined
 * when there was no log.
 */
export async function recoverWal(
  file: string,
  manifest: SyncManifest,
): Promise<{ planned: number; completed: number } | undefined> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw fsError(err, 'read the sync log', file)
  }
  const lines = text.split('\n')
  let planned = 0
  let completed = 0
  try {
    planned = (JSON.parse(lines[0] ?? '') as Header).ops.length
  } catch {
    // torn header: the run never started any operation
  }
  for (const line of lines.slice(1)) {
    if (!line) continue
    let rec: { op: number; effects: Effect[] }
    try {
      rec = JSON.parse(line) as { op: number; effects: Effect[] }
    } catch {
      continue // torn last line: that operation is redone
    }
    for (const [path, entry] of rec.effects) manifest.apply(path, entry)
    completed++
  }
  return { planned, completed }
}
