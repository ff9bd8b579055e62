import type { DeviceId, FileId } from '@skein/core'
import type { FileEntry, WorkspaceCrdt, WorkspaceOrigin } from '@skein/workspace'
import type { AgentOptions } from './agent-options.js'
import type { AgentConflict, AgentIssue } from './agent-events.js'
import type { BodyDocs } from './body-docs.js'
import type { DiskWriter } from './disk-writer.js'
import type { IgnoreMatcher } from './ignore-rules.js'
import { folderVsFile } from './skipped-files.js'
import type { SkippedFiles } from './skipped-files.js'
import type { StateStore } from './state-store.js'
import type { SyncTransport } from './sync-transport.js'

/** Everything the agent's parts share; built once by the Agent. */
export interface AgentContext {
  opts: AgentOptions
  device: DeviceId
  store: StateStore
  writer: DiskWriter
  ws: WorkspaceCrdt
  bodies: BodyDocs
  transport: SyncTransport
  ignore: IgnoreMatcher
  /** Origin tag of this agent's workspace writes. */
  origin: WorkspaceOrigin
  /** True while connected and the workspace document is in sync: only then are disk edits folded in. */
  online(): boolean
  conflict(c: AgentConflict): void
  issue(i: AgentIssue): void
  /** Local paths left unsynced (shown in the status, not errors). */
  skipped: SkippedFiles
  /** Asks for another pass over a file (e.g. a body that has not arrived yet), after `ms` (default 100). */
  requeue(fileId: FileId, ms?: number): void
  /** Asks for another look at disk paths after `ms`. */
  requeuePaths(paths: string[], ms: number): void
}

/**
 * A write the disk refused: an edit the agent has not read is retried after
 * another look; something in the way (a folder where the workspace has a file,
 * a link) is reported as a skipped path — retried when the folder is looked at
 * again — instead of failing the pass or retrying in a loop.
 */
export function writeRefused(
  ctx: AgentContext,
  fileId: FileId,
  path: string,
  res: { reason: 'changed' | 'blocked' },
): void {
  if (res.reason === 'changed') return ctx.requeue(fileId)
  if (ctx.skipped.has(path)) return
  ctx.skipped.skip({ path, kind: 'path-conflict', message: folderVsFile(path) })
}

/**
 * True when the workspace still holds the content a decision was made on. A
 * push that awaited something (a body sync, a blob upload) re-checks this right
 * before writing: another device's write that landed meanwhile must be merged
 * with, not overwritten as if it had been seen (chaos seed 509216927: a note
 * turned back into text by two devices at once lost one device's text). On
 * false the file is requeued, so the next pass decides on what is there now.
 */
export function stillCurrent(ctx: AgentContext, decidedOn: FileEntry): boolean {
  const now = ctx.ws.get(decidedOn.id)
  if (
    now !== undefined &&
    !now.deleted &&
    now.kind === decidedOn.kind &&
    now.hash === decidedOn.hash &&
    now.gen === decidedOn.gen
  )
    return true
  ctx.requeue(decidedOn.id)
  return false
}
