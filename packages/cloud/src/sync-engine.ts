import { randomUUID } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { SkeinError, isSkeinError, noopLogger, systemClock } from '@skein/core'
import { detectRemote, fillRemoteHashes } from './detect-remote.js'
import type { ExecContext } from './exec-context.js'
import { executeOp } from './execute-op.js'
import { loadPathFilter } from './ignore-rules.js'
import { scanLocal } from './local-scan.js'
import { SyncManifest } from './manifest.js'
import { MergeBases } from './merge-bases.js'
import { describeOps, planSync } from './plan.js'
import type { PlannedOp } from './plan.js'
import { runPool } from './pool.js'
import type { CloudSyncProvider } from './provider.js'
import { REMOTE_INDEX_KEY, listRemote, writeRemoteIndex } from './remote-state.js'
import type { RemoteView } from './remote-state.js'
import { abortError, withRetry } from './retry.js'
import { acquireStateLock } from './state-lock.js'
import { RateBucket } from './streams.js'
import type {
  CloudSyncResult,
  SyncEngineOptions,
  SyncProgress,
  SyncRunOptions,
  SyncStage,
} from './sync-types.js'
import { UploadCheckpoints } from './upload-checkpoints.js'
import { WriteAheadLog, recoverWal } from './wal.js'
import { flushFilesystem } from './fs-utils.js'
import { checkDeleteGuard } from './delete-guard.js'
import { validateEngineOptions } from './engine-options.js'

/** Defaults for {@link SyncEngine} (everything but `local` and `provider`). */
export const DEFAULT_SYNC_ENGINE_OPTIONS: Omit<SyncEngineOptions, 'local' | 'provider'> = {
  prefix: '',
  manifest: undefined,
  mode: 'two-way',
  direction: 'up',
  compare: ['size', 'checksum'],
  modifyWindowMs: 1000,
  keep: 'newer',
  autoMerge: false,
  autoMergeMaxBytes: 1024 * 1024,
  concurrency: 8,
  maxDeletePercent: 50,
  force: false,
  ignore: [],
  bandwidthLimit: undefined,
  useRemoteIndex: true,
  remoteIndexMaxAgeMs: 24 * 3600_000,
  retry: {},
  clock: systemClock,
  logger: noopLogger,
}

const STAGE: Record<PlannedOp['kind'], SyncStage> = {
  upload: 'uploading',
  download: 'downloading',
  conflict: 'downloading',
  record: 'planning',
  forget: 'planning',
  'delete-local': 'deleting',
  'delete-remote': 'deleting',
}

/**
 * Syncs a local folder with a {@link CloudSyncProvider} through a manifest, a
 * write-ahead log and verified transfers. One run at a time per folder.
 */
export class SyncEngine {
  readonly options: SyncEngineOptions
  private readonly stateDir: string

  constructor(
    options: Partial<SyncEngineOptions> & { local: string; provider: CloudSyncProvider },
  ) {
    // An option given as `undefined` means "the default", as if it were left out.
    const given = Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined))
    const merged = { ...DEFAULT_SYNC_ENGINE_OPTIONS, ...given } as SyncEngineOptions
    validateEngineOptions(merged)
    this.options = { ...merged, local: resolve(merged.local) }
    const manifest =
      this.options.manifest ?? join(this.options.local, '.skein', 'cloud', 'manifest.json')
    this.options.manifest = manifest
    this.stateDir = join(manifest, '..')
  }

  /** Runs one sync. Throws `SAFETY_GUARD` (nothing changed) when the max-delete guard trips. */
  async sync(run: SyncRunOptions = {}): Promise<CloudSyncResult> {
    const o = this.options
    const manifestFile = o.manifest as string
    const walFile = manifestFile + '.wal'
    const release = run.dryRun ? undefined : await acquireStateLock(manifestFile + '.lock')
    const result: CloudSyncResult = {
      success: true,
      dryRun: !!run.dryRun,
      filesUploaded: 0,
      filesDownloaded: 0,
      filesDeleted: 0,
      bytes: 0,
      conflicts: [],
      errors: [],
      warnings: [],
      operations: [],
    }
    const progress: SyncProgress = {
      stage: 'detectingLocal',
      current: 0,
      total: 0,
      bytes: 0,
      totalBytes: 0,
    }
    const emit = (patch: Partial<SyncProgress>) => run.onProgress?.(Object.assign(progress, patch))
    try {
      const manifest = await SyncManifest.load(manifestFile)
      const recovered = await recoverWal(walFile, manifest)
      if (recovered && !run.dryRun) {
        await manifest.save()
        await rm(walFile, { force: true })
        result.warnings.push(
          `Resumed after an interrupted run: ${recovered.completed} of ${recovered.planned} operations had completed; the rest are redone.`,
        )
      }
      const tmpDir = join(o.local, '.skein', 'tmp-cloud')
      if (!run.dryRun) await rm(tmpDir, { recursive: true, force: true })
      const filter = await loadPathFilter(o.local, o.ignore)

      // The remote is detected while the local tree is walked; hashing waits for
      // both, so files new on this side are hashed once, during their upload.
      const retry = o.retry
      const detect = {
        provider: o.provider,
        prefix: o.prefix,
        filter,
        retry,
        signal: run.signal,
        manifest,
        useIndex: o.useRemoteIndex,
        indexMaxAgeMs: o.remoteIndexMaxAgeMs,
        now: o.clock.now(),
        concurrency: o.concurrency,
      }
      const remoteP = detectRemote(detect)
      remoteP.catch(() => undefined) // awaited below; avoid an unhandled rejection meanwhile
      emit({ stage: 'detectingLocal' })
      const scan = await scanLocal(o.local, filter, manifest, {
        concurrency: Math.max(4, o.concurrency),
        signal: run.signal,
        onFile: (n) => emit({ current: n }),
        deferHash: async () => {
          const { view } = await remoteP
          return (path) => !view.files.has(path) && !manifest.get(path)
        },
      })
      for (const s of scan.skipped)
        result.warnings.push(`Skipped ${JSON.stringify(s.path)}: ${s.reason}`)
      emit({ stage: 'detectingRemote', current: 0 })
      const { view, stale, omitted } = await remoteP
      if (omitted.length && view.source === 'listing')
        result.warnings.push(
          `The listing of ${o.provider.name} left out ${omitted.length} object(s) that exist (e.g. ${JSON.stringify(omitted[0])}); they were confirmed one by one and nothing was deleted on their account. If this repeats, check the server's listing consistency.`,
        )
      await fillRemoteHashes(detect, view, scan.files)

      emit({ stage: 'planning' })
      const plan = planSync({
        local: scan.files,
        remote: view.files,
        manifest,
        mode: o.mode,
        direction: o.direction,
        compare: o.compare,
        modifyWindowMs: o.modifyWindowMs,
      })
      result.warnings.push(...plan.warnings)
      result.operations = describeOps(plan.ops)
      checkDeleteGuard(plan.ops, scan.files.size, view.files.size, o)
      const work = plan.ops
      emit({
        total: work.length,
        totalBytes: work.reduce(
          (n, op) =>
            n +
            (op.kind.startsWith('delete') || op.kind === 'record' || op.kind === 'forget'
              ? 0
              : op.size),
          0,
        ),
      })
      if (run.dryRun) {
        for (const op of work) {
          if (op.kind === 'upload') result.filesUploaded++
          if (op.kind === 'download') result.filesDownloaded++
          if (op.kind.startsWith('delete') || ('deleteSource' in op && op.deleteSource))
            result.filesDeleted++
        }
        emit({ stage: 'complete' })
        return result
      }

      const uploads = await UploadCheckpoints.load({
        dir: manifestFile + '.uploads',
        provider: o.provider,
        retry,
        signal: run.signal,
        logger: o.logger,
      })
      const ctx: ExecContext = {
        root: o.local,
        tmpDir,
        prefix: o.prefix,
        provider: o.provider,
        local: scan.files,
        remote: view.files,
        manifest,
        options: o,
        retry,
        signal: run.signal,
        bucket: o.bandwidthLimit ? new RateBucket(o.bandwidthLimit) : undefined,
        bases: o.autoMerge
          ? new MergeBases(join(this.stateDir, 'bases'), o.autoMergeMaxBytes)
          : undefined,
        uploads,
        logger: o.logger,
        now: o.clock.now(),
        written: new Set(),
        onBytes: (path, n) => {
          result.bytes += n
          emit({ bytes: progress.bytes + n, path })
        },
      }
      const remoteBefore = new Map(view.files)
      const wal = await WriteAheadLog.begin(walFile, randomUUID(), result.operations)
      let aborted: unknown
      const runOne = async (op: PlannedOp, i: number) => {
        emit({
          stage: STAGE[op.kind] === 'planning' ? progress.stage : STAGE[op.kind],
          path: op.path,
        })
        try {
          const out = await executeOp(ctx, op)
          for (const [p, e] of out.effects) {
            manifest.apply(p, e)
            const lf = ctx.local.get(p)
            if (e && lf && ctx.bases)
              await ctx.bases.remember(join(o.local, lf.fsPath), e.localHash, e.size)
          }
          void wal.commit(i, out.effects) // batched; a crash loses at most a redo-able tail
          result.filesUploaded += out.uploaded
          result.filesDownloaded += out.downloaded
          result.filesDeleted += out.deleted
          if (out.conflict) result.conflicts.push(out.conflict)
        } catch (err) {
          if (run.signal?.aborted) {
            aborted ??= err
            return
          }
          const e = isSkeinError(err)
            ? err
            : new SkeinError('INTERNAL', String(err), { cause: err })
          result.errors.push({
            path: op.path,
            operation: op.kind,
            code: e.code,
            message: e.message,
          })
          if (op.kind === 'conflict')
            result.conflicts.push({ path: op.path, kind: op.conflict, resolution: 'failed' })
          o.logger.warn('cloud sync operation failed', { path: op.path, op: op.kind, code: e.code })
        }
        emit({ current: progress.current + 1 })
      }
      const indexOf = new Map(work.map((op, i) => [op, i]))
      const isDelete = (op: PlannedOp) => op.kind === 'delete-local' || op.kind === 'delete-remote'
      await runPool(
        work.filter((op) => !isDelete(op)),
        o.concurrency,
        (op) => runOne(op, indexOf.get(op) as number),
      ).catch((e: unknown) => (aborted ??= e))
      if (!aborted)
        await runPool(work.filter(isDelete), o.concurrency, (op) =>
          runOne(op, indexOf.get(op) as number),
        ).catch((e: unknown) => (aborted ??= e))

      // Interrupted uploads no run will finish any more are aborted (not after an
      // abort of this run: their operations may simply not have started yet).
      if (!aborted && uploads.size > 0) await uploads.abortUntouched()
      result.warnings.push(...uploads.warnings)

      // Durability before commitment: the manifest must never claim bytes a power
      // cut could still take back, on either side.
      await o.provider.flush?.({ signal: run.signal })
      if (ctx.written.size > 0) await flushFilesystem(o.local, ctx.written)
      const remoteChanged = !sameView(remoteBefore, ctx.remote)
      if (!aborted && o.useRemoteIndex && (stale || remoteChanged || view.source === 'listing')) {
        manifest.remoteGeneration = await this.writeIndex(ctx, view, run.signal)
      } else if (!aborted && view.generation) manifest.remoteGeneration = view.generation
      await manifest.save()
      await wal.end()
      if (ctx.bases)
        await ctx.bases.gc(
          new Set([...manifest.paths()].map((p) => manifest.get(p)?.localHash ?? '')),
        )
      if (aborted) throw isSkeinError(aborted) ? aborted : abortError(run.signal)
      result.success = result.errors.length === 0
      emit({ stage: 'complete', path: undefined })
      return result
    } catch (err) {
      emit({ stage: 'error' })
      throw err
    } finally {
      await release?.()
    }
  }

  /** Writes the remote index; if another writer raced us, rebuilds it from a listing first. */
  private async writeIndex(
    ctx: ExecContext,
    view: RemoteView,
    signal: AbortSignal | undefined,
  ): Promise<string | undefined> {
    const o = this.options
    const ictx = {
      provider: o.provider,
      prefix: o.prefix,
      filter: { ignores: (p: string) => p.startsWith('.skein/') },
      retry: o.retry,
      signal,
    }
    let files = ctx.remote
    let expected = { generation: view.generation, etag: view.indexEtag }
    let listed = view.listedAt
    for (let i = 0; i < 3; i++) {
      const gen = await writeRemoteIndex(ictx, files, expected, listed)
      if (gen) return gen
      const cur = await withRetry(() => o.provider.head(o.prefix + REMOTE_INDEX_KEY, { signal }), {
        ...o.retry,
        signal,
      })
      expected = { generation: undefined, etag: cur?.etag }
      listed = o.clock.now()
      files = await listRemote({ ...ictx, filter: await loadPathFilter(o.local, o.ignore) })
    }
    o.logger.warn('cloud index not written: concurrent writers', {})
    return undefined
  }
}

function sameView(
  a: Map<string, { etag?: string | undefined; sha256?: string | undefined }>,
  b: typeof a,
): boolean {
  if (a.size !== b.size) return false
  for (const [k, v] of a) {
    const w = b.get(k)
    if (!w || w.etag !== v.etag || w.sha256 !== v.sha256) return false
  }
  return true
}
