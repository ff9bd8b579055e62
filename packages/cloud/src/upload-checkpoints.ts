import { createHash } from 'node:crypto'
import { readFile, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Logger } from '@skein/core'
import { atomicWriteFile, fsError, isNotFound } from './fs-utils.js'
import type { CloudSyncProvider, UploadCheckpoint, UploadResumeStore } from './provider.js'
import { isRetryable, withRetry } from './retry.js'
import type { RetryOptions } from './retry.js'

interface CheckpointFile {
  version: 1
  path: string
  checkpoint: UploadCheckpoint
}

/** Inputs of {@link UploadCheckpoints.load}. */
export interface UploadCheckpointsInput {
  /** Folder of the checkpoint files (`<manifest>.uploads`). */
  dir: string
  provider: CloudSyncProvider
  retry: Partial<RetryOptions>
  signal: AbortSignal | undefined
  logger: Logger
}

/**
 * The engine's durable record of interrupted multipart uploads, one file per
 * sync path under `<manifest>.uploads/`. A killed or failed run leaves its
 * checkpoint; the next upload of the same bytes continues from it (the provider
 * checks it still fits), and an upload nobody needs any more is aborted so its
 * parts do not linger on the provider.
 */
export class UploadCheckpoints {
  /** Notes for the run's result (uploads that could not be aborted). */
  readonly warnings: string[] = []
  private readonly touched = new Set<string>()
  private readonly writes = new Map<string, Promise<void>>()

  private constructor(
    private readonly input: UploadCheckpointsInput,
    private readonly records: Map<string, UploadCheckpoint>,
  ) {}

  /** Reads the checkpoints left by earlier runs (damaged files are dropped). */
  static async load(input: UploadCheckpointsInput): Promise<UploadCheckpoints> {
    const records = new Map<string, UploadCheckpoint>()
    let names: string[]
    try {
      names = await readdir(input.dir)
    } catch (err) {
      if (isNotFound(err)) return new UploadCheckpoints(input, records)
      throw fsError(err, 'list the upload checkpoints in', input.dir)
    }
    for (const name of names) {
      const file = join(input.dir, name)
      if (!name.endsWith('.json')) {
        await rm(file, { force: true }) // a temp file from a write cut short
        continue
      }
      try {
        const data = JSON.parse(await readFile(file, 'utf8')) as CheckpointFile
        if (data.version !== 1 || typeof data.checkpoint?.uploadId !== 'string')
          throw new Error('unknown format')
        records.set(data.path, data.checkpoint)
      } catch {
        await rm(file, { force: true }) // a checkpoint is only an optimisation
      }
    }
    return new UploadCheckpoints(input, records)
  }

  /** How many interrupted uploads are recorded. */
  get size(): number {
    return this.records.size
  }

  /** The resume slot for uploading sync path `path`; undefined when the provider cannot resume. */
  storeFor(path: string): UploadResumeStore | undefined {
    if (!this.input.provider.abortUpload) return undefined
    this.touched.add(path)
    return {
      load: async () => this.records.get(path),
      save: async (cp) => {
        const old = this.records.get(path)
        // A new upload replaces an old one the provider could not resume: free the old parts.
        if (old && old.uploadId !== cp.uploadId) await this.abort(path, old, false)
        const copy = { ...cp, parts: cp.parts.map((p) => ({ ...p })) }
        this.records.set(path, copy)
        await this.write(path, { version: 1, path, checkpoint: copy })
      },
      clear: async () => {
        this.records.delete(path)
        await this.write(path, undefined)
      },
    }
  }

  /**
   * Called after `path` uploaded successfully: a checkpoint still recorded there
   * belongs to an upload that was not used (the body went up in one request), so
   * it is aborted.
   */
  async settle(path: string): Promise<void> {
    const cp = this.records.get(path)
    if (cp) await this.abort(path, cp, true)
  }

  /**
   * Aborts the recorded uploads of paths this run did not try to upload (deleted,
   * already in sync, or excluded since): nothing will ever complete them.
   * Uploads that were tried and failed stay, to resume next time.
   */
  async abortUntouched(): Promise<void> {
    for (const [path, cp] of [...this.records])
      if (!this.touched.has(path)) await this.abort(path, cp, true)
  }

  private async abort(path: string, cp: UploadCheckpoint, forget: boolean): Promise<void> {
    const { provider, retry, signal, logger } = this.input
    try {
      await withRetry(() => provider.abortUpload?.(cp, { signal }) ?? Promise.resolve(), {
        ...retry,
        signal,
      })
    } catch (err) {
      if (signal?.aborted) throw err
      const why = (err as Error).message
      logger.warn('cloud upload abort failed', { path, uploadId: cp.uploadId, error: why })
      if (isRetryable(err) && forget) return // keep the record: the next run tries again
      this.warnings.push(
        `Could not abort the interrupted upload of ${JSON.stringify(path)} on ${provider.name} (${why}); its stored parts may use space until a bucket lifecycle rule removes incomplete multipart uploads.`,
      )
    }
    if (forget) {
      this.records.delete(path)
      await this.write(path, undefined)
    }
  }

  private file(path: string): string {
    return join(
      this.input.dir,
      createHash('sha256').update(path).digest('hex').slice(0, 40) + '.json',
    )
  }

  /** Writes (or, with `undefined`, removes) a path's checkpoint, one write at a time per path. */
  private write(path: string, data: CheckpointFile | undefined): Promise<void> {
    const file = this.file(path)
    const prev = this.writes.get(path) ?? Promise.resolve()
    const next = prev.then(() =>
      data ? atomicWriteFile(file, JSON.stringify(data)) : rm(file, { force: true }),
    )
    this.writes.set(
      path,
      next.catch(() => undefined),
    )
    return next
  }
}
