import type { LocalFile } from './local-scan.js'
import type { ManifestEntry, SyncManifest } from './manifest.js'
import type { RemoteFile } from './remote-state.js'
import type { CompareMode, ConflictInfo, SyncDirection, SyncMode } from './sync-types.js'

/** One planned operation on one path. */
export type PlannedOp =
  | { kind: 'upload'; path: string; size: number; deleteSource?: boolean; conflict?: ConflictInfo }
  | {
      kind: 'download'
      path: string
      size: number
      deleteSource?: boolean
      conflict?: ConflictInfo
    }
  | { kind: 'delete-remote'; path: string; size: number }
  | { kind: 'delete-local'; path: string; size: number }
  | { kind: 'record'; path: string; size: number; deleteSource?: boolean }
  | { kind: 'forget'; path: string; size: number }
  | { kind: 'conflict'; path: string; size: number; conflict: 'modify-modify' | 'create-create' }

/** How a side changed since the manifest. */
export type Change = 'unchanged' | 'created' | 'modified' | 'deleted' | 'absent'

/** Inputs of {@link planSync}. */
export interface PlanInput {
  local: Map<string, LocalFile>
  remote: Map<string, RemoteFile>
  manifest: SyncManifest
  mode: SyncMode
  direction: SyncDirection
  compare: readonly CompareMode[]
  modifyWindowMs: number
}

/** The plan and the safety notes found while making it. */
export interface Plan {
  ops: PlannedOp[]
  warnings: string[]
}

/** The remote's content hash if known directly or through an unchanged etag. */
export function remoteHash(r: RemoteFile, m: ManifestEntry | undefined): string | undefined {
  if (r.sha256 !== undefined) return r.sha256
  if (m && r.etag !== undefined && r.etag === m.etag && r.size === m.size) return m.remoteHash
  return undefined
}

function localChange(l: LocalFile | undefined, m: ManifestEntry | undefined): Change {
  if (!l) return m ? 'deleted' : 'absent'
  if (!m) return 'created'
  return l.sha256 === m.localHash ? 'unchanged' : 'modified'
}

function remoteChange(r: RemoteFile | undefined, m: ManifestEntry | undefined): Change {
  if (!r) return m ? 'deleted' : 'absent'
  if (!m) return 'created'
  const h = remoteHash(r, m)
  if (h === undefined) return 'modified'
  return h === m.remoteHash ? 'unchanged' : 'modified'
}

/** True when `l` and `r` are the same file under the compare modes (unknown facts count as different). */
export function sameFile(
  l: LocalFile,
  r: RemoteFile,
  rHash: string | undefined,
  compare: readonly CompareMode[],
  windowMs: number,
): boolean {
  if (rHash !== undefined && rHash === l.sha256) return true
  for (const c of compare) {
    if (c === 'size' && l.size !== r.size) return false
    if (c === 'checksum' && (rHash === undefined || rHash !== l.sha256)) return false
    if (c === 'modtime' && (r.mtime === undefined || Math.abs(r.mtime - l.mtimeMs) > windowMs))
      return false
  }
  return compare.length > 0
}

const side = (f: { size: number; sha256?: string | undefined }, mtime: number | undefined) => ({
  hash: f.sha256,
  size: f.size,
  mtime: mtime ?? 0,
})

/**
 * Decides what to do with every path, from the local scan, the remote view and
 * the manifest. Pure: no I/O. An empty side with a non-empty manifest is treated
 * as "lost", never as "everything was deleted".
 */
export function planSync(input: PlanInput): Plan {
  const { local, remote, manifest } = input
  const warnings: string[] = []
  const localLost = local.size === 0 && manifest.size > 0 && remote.size > 0
  const remoteLost = remote.size === 0 && manifest.size > 0 && local.size > 0
  if (localLost)
    warnings.push(
      'The local folder is empty but was synced before: nothing is deleted remotely; remote files are restored.',
    )
  if (remoteLost)
    warnings.push(
      'The remote is empty but was synced before: nothing is deleted locally; local files are uploaded again.',
    )
  const paths = new Set<string>([...local.keys(), ...remote.keys(), ...manifest.paths()])
  const ops: PlannedOp[] = []
  for (const path of [...paths].sort()) {
    const l = local.get(path)
    const r = remote.get(path)
    const m = localLost || remoteLost ? undefined : manifest.get(path)
    if (input.mode === 'two-way') planTwoWay(ops, path, l, r, m, input)
    else planOneWay(ops, path, l, r, m, input)
    if (!l && !r && manifest.get(path)) ops.push({ kind: 'forget', path, size: 0 })
  }
  return { ops, warnings }
}

function planTwoWay(
  ops: PlannedOp[],
  path: string,
  l: LocalFile | undefined,
  r: RemoteFile | undefined,
  m: ManifestEntry | undefined,
  input: PlanInput,
): void {
  const lc = localChange(l, m)
  const rc = remoteChange(r, m)
  if (
    l &&
    r &&
    (lc === 'unchanged' || lc === 'modified' || lc === 'created') &&
    (rc === 'unchanged' || rc === 'modified' || rc === 'created')
  ) {
    const rHash = remoteHash(r, m)
    if (lc === 'unchanged' && rc === 'unchanged') {
      // Same content; refresh the cache keys if the file was touched or the etag moved.
      if (m && (m.localModified !== l.mtimeMs || m.inode !== l.ino || m.etag !== r.etag))
        ops.push({ kind: 'record', path, size: l.size })
      return
    }
    if (lc === 'unchanged') return void ops.push({ kind: 'download', path, size: r.size })
    if (rc === 'unchanged') return void ops.push({ kind: 'upload', path, size: l.size })
    if (rHash !== undefined && rHash === l.sha256)
      return void ops.push({ kind: 'record', path, size: l.size })
    if (!m && sameFile(l, r, rHash, input.compare, input.modifyWindowMs))
      return void ops.push({ kind: 'record', path, size: l.size })
    return void ops.push({
      kind: 'conflict',
      path,
      size: l.size + r.size,
      conflict: m ? 'modify-modify' : 'create-create',
    })
  }
  if (l && !r) {
    if (lc === 'unchanged') return void ops.push({ kind: 'delete-local', path, size: l.size })
    const conflict: ConflictInfo | undefined =
      rc === 'deleted' && lc === 'modified'
        ? { path, kind: 'delete-modify', local: side(l, l.mtimeMs), resolution: 'kept-local' }
        : undefined
    return void ops.push({ kind: 'upload', path, size: l.size, ...(conflict ? { conflict } : {}) })
  }
  if (r && !l) {
    if (rc === 'unchanged') return void ops.push({ kind: 'delete-remote', path, size: r.size })
    const conflict: ConflictInfo | undefined =
      lc === 'deleted' && rc === 'modified'
        ? { path, kind: 'delete-modify', remote: side(r, r.mtime), resolution: 'kept-remote' }
        : undefined
    return void ops.push({
      kind: 'download',
      path,
      size: r.size,
      ...(conflict ? { conflict } : {}),
    })
  }
}

function planOneWay(
  ops: PlannedOp[],
  path: string,
  l: LocalFile | undefined,
  r: RemoteFile | undefined,
  m: ManifestEntry | undefined,
  input: PlanInput,
): void {
  const up = input.direction === 'up'
  const src = up ? l : r
  const dst = up ? r : l
  const move = input.mode === 'move'
  if (src) {
    const same = l && r && sameFile(l, r, remoteHash(r, m), input.compare, input.modifyWindowMs)
    if (same) {
      const stale =
        !m || m.localHash !== l.sha256 || m.localModified !== l.mtimeMs || m.etag !== r.etag
      if (stale || move)
        ops.push({ kind: 'record', path, size: src.size, ...(move ? { deleteSource: true } : {}) })
      return
    }
    ops.push({
      kind: up ? 'upload' : 'download',
      path,
      size: src.size,
      ...(move ? { deleteSource: true } : {}),
    })
    return
  }
  if (dst && input.mode === 'mirror')
    ops.push({ kind: up ? 'delete-remote' : 'delete-local', path, size: dst.size })
}

/** `kind path` lines for reports and dry runs. */
export function describeOps(ops: readonly PlannedOp[]): string[] {
  return ops.map(
    (o) =>
      `${o.kind}${'deleteSource' in o && o.deleteSource ? '+delete-source' : ''}${o.kind === 'conflict' ? `(${o.conflict})` : ''} ${o.path}`,
  )
}
