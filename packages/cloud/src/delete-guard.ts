import { SkeinError } from '@skein/core'
import type { PlannedOp } from './plan.js'

/**
 * The max-delete guard: refuses (before any change) a plan that deletes more
 * than `maxDeletePercent` of either side's files, unless `force`. A move's
 * source deletions are intended and not counted.
 */
export function checkDeleteGuard(
  ops: readonly PlannedOp[],
  localCount: number,
  remoteCount: number,
  o: { maxDeletePercent: number; force: boolean },
): void {
  if (o.force) return
  const local = ops.filter((op) => op.kind === 'delete-local').length
  const remote = ops.filter((op) => op.kind === 'delete-remote').length
  for (const [side, n, total] of [
    ['local', local, localCount],
    ['remote', remote, remoteCount],
  ] as const) {
    if (n > 0 && (n * 100) / total > o.maxDeletePercent)
      throw new SkeinError(
        'SAFETY_GUARD',
        `Sync refused: it would delete ${n} of ${total} ${side} files (more than ${o.maxDeletePercent}%). Nothing was changed. Check that nothing went missing, then rerun with force to allow it.`,
        { details: { side, deletes: n, total } },
      )
  }
}
