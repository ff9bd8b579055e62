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
  private flushing: Promise<void> | undefined

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

  /** Records that operation `op` completed with `effects` (lines written together share one write). */
  commit(op: number, effects: Effect[]): Promise<void> {
    this.pending.push(JSON.stringify({ op, effects }) + '\n')
    this.flushing ??= Promise.resolve().then(() => this.flush())
    return this.flushing
  }

  private async flush(): Promise<void> {
    const text = this.pending.join('')
    this.pending = []
    this.flushing = undefined
    await this.fh?.write(text)
  }

  /** Ends the run: the manifest now holds everything, the log is removed. */
  async end(): Promise<void> {
    await this.flushing
    await this.fh?.close()
    this.fh = undefined
    await rm(this.file, { force: true })
  }

  /** Closes the handle but keeps the log (for an interrupted run). */
  async close(): Promise<void> {
    await this.flushing
    await this.fh?.close()
    this.fh = undefined
  }
}

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
