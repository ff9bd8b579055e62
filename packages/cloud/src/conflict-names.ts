import { baseName, compactTimestamp, parentPath, splitExt } from '@skein/core'
import type { LocalFile } from './local-scan.js'
import type { RemoteFile } from './remote-state.js'
import type { KeepMode } from './sync-types.js'

/** Which side of a conflict: local (path1) or remote (path2). */
export type Side = 'local' | 'remote'

/** `<stem>.conflict-<side>-<YYYYMMDD-HHMMSS><ext>` beside `path`. */
export function conflictCopyPath(path: string, side: Side, nowMs: number): string {
  const { stem, ext } = splitExt(baseName(path))
  const dir = parentPath(path)
  return `${dir ? dir + '/' : ''}${stem}.conflict-${side}-${compactTimestamp(nowMs)}${ext}`
}

/** True when `candidate` is a conflict copy of `path` for `side` (any time). */
export function isConflictCopyOf(candidate: string, path: string, side: Side): boolean {
  const { stem, ext } = splitExt(baseName(path))
  const dir = parentPath(path)
  const prefix = `${dir ? dir + '/' : ''}${stem}.conflict-${side}-`
  return (
    candidate.startsWith(prefix) &&
    candidate.endsWith(ext) &&
    /^\d{8}-\d{6}$/.test(candidate.slice(prefix.length, candidate.length - ext.length))
  )
}

/** The winning side under `keep`; ties go to path1 (local). */
export function pickWinner(keep: KeepMode, l: LocalFile, r: RemoteFile): Side {
  const lm = l.mtimeMs
  const rm = r.mtime ?? 0
  switch (keep) {
    case 'path1':
      return 'local'
    case 'path2':
      return 'remote'
    case 'newer':
      return rm > lm ? 'remote' : 'local'
    case 'older':
      return rm < lm ? 'remote' : 'local'
    case 'larger':
      return r.size > l.size ? 'remote' : 'local'
    case 'smaller':
      return r.size < l.size ? 'remote' : 'local'
  }
}
