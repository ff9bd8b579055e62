import type { DeviceId, FileId } from '@skein/core'
import type { WorkspaceCrdt, WorkspaceOrigin } from '@skein/workspace'
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
  /** Asks for another pass over a file (e.g. a body that has not arrived yet). */
  requeue(fileId: FileId): void
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
