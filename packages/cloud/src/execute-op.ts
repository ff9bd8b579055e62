import type { ExecContext } from './exec-context.js'
import type { LocalFile } from './local-scan.js'
import type { PlannedOp } from './plan.js'
import { resolveConflict } from './conflict-resolver.js'
import type { RemoteFile } from './remote-state.js'
import type { ConflictInfo } from './sync-types.js'
import { deleteLocalFile, deleteRemoteFile, downloadFile, entryOf, uploadFile } from './transfer.js'
import type { Effect } from './wal.js'

/** What one executed operation changed. */
export interface OpOutcome {
  effects: Effect[]
  uploaded: number
  downloaded: number
  deleted: number
  conflict?: ConflictInfo | undefined
}

/** Executes one planned operation and returns its manifest effects. */
export async function executeOp(ctx: ExecContext, op: PlannedOp): Promise<OpOutcome> {
  const { path } = op
  const l = ctx.local.get(path)
  const out: OpOutcome = { effects: [], uploaded: 0, downloaded: 0, deleted: 0 }
  switch (op.kind) {
    case 'upload': {
      out.effects.push([path, await uploadFile(ctx, path, l as LocalFile)])
      out.uploaded++
      if (op.deleteSource) {
        await deleteLocalFile(ctx, l as LocalFile)
        out.effects.push([path, null])
        out.deleted++
      }
      out.conflict = op.conflict
      return out
    }
    case 'download': {
      const got = await downloadFile(ctx, path, { expectLocal: l })
      out.effects.push([path, got.entry])
      out.downloaded++
      if (op.deleteSource) {
        await deleteRemoteFile(ctx, path)
        out.effects.push([path, null])
        out.deleted++
      }
      out.conflict = op.conflict
      return out
    }
    case 'delete-remote':
      await deleteRemoteFile(ctx, path)
      out.effects.push([path, null])
      out.deleted++
      return out
    case 'delete-local':
      await deleteLocalFile(ctx, l as LocalFile)
      out.effects.push([path, null])
      out.deleted++
      return out
    case 'record': {
      const r = ctx.remote.get(path) as RemoteFile
      out.effects.push([path, entryOf(l as LocalFile, r)])
      if (op.deleteSource) {
        if (ctx.options.direction === 'up') await deleteLocalFile(ctx, l as LocalFile)
        else await deleteRemoteFile(ctx, path)
        out.effects.push([path, null])
        out.deleted++
      }
      return out
    }
    case 'forget':
      out.effects.push([path, null])
      return out
    case 'conflict': {
      const res = await resolveConflict(ctx, path, op.conflict)
      // Equal content is not a conflict worth reporting: it resolved itself.
      const conflict = res.info.resolution === 'identical' ? undefined : res.info
      return {
        effects: res.effects,
        uploaded: res.uploaded,
        downloaded: res.downloaded,
        deleted: 0,
        conflict,
      }
    }
  }
}
