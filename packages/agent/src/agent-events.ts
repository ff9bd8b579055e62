import type { FileId } from '@skein/core'
import type { SkippedFile } from './skipped-files.js'

/** Connection and work state reported by `Agent.status()`. */
export interface AgentStatus {
  state: 'idle' | 'starting' | 'running' | 'paused' | 'stopped'
  connection: 'online' | 'offline'
  /** Files changed on disk but not yet folded into the workspace (offline edits). */
  pendingFiles: number
  /** Paths of pending files (offline edits not merged yet), at most 100, sorted. */
  pendingPaths: readonly string[]
  /** Conflicts in the workspace that still need attention (see `Agent.openConflicts()`). */
  conflicts: number
  /** When the agent last finished a sync pass with the server (ms), if ever. */
  lastSync: number | undefined
  /** Body documents currently open (subscribed); idle ones are closed after `bodyIdleMs`. */
  openBodies: number
  /** Why the agent is paused (mass-delete guard, vanished root), when it is. */
  pausedReason: string | undefined
  /**
   * Local files and folders left unsynced (a name other devices cannot hold,
   * a symbolic link, …), each with what to do; the first 100 by path — see
   * `Agent.skippedFiles()` for all. They are not errors of the agent.
   */
  skippedFiles: readonly SkippedFile[]
  /** How many local paths are skipped in all. */
  skipped: number
}

/** A conflict this agent found and resolved per its policy. */
export interface AgentConflict {
  fileId: FileId
  path: string
  /** `name`: two entries claimed one path; the loser was renamed to the conflict copy. */
  kind: 'edit' | 'delete' | 'join' | 'binary' | 'name'
  policy: string
  /** The conflict copy's path, when one was made. */
  copyPath: string | undefined
}

/**
 * A conflict recorded by any device that still needs attention: its copy is
 * still there (delete it once merged), or its markers are still in the note.
 */
export interface OpenConflict {
  id: string
  /** The note's path now (where it was, if it is gone). */
  path: string
  kind: AgentConflict['kind']
  /** The device that found it, and when (ms). */
  device: string
  time: number
  /** The conflict copy's path now, when one was made. */
  copyPath: string | undefined
}

/** Something the agent skipped or refused, reported rather than guessed about. */
export interface AgentIssue {
  path: string
  kind:
    | 'symlink'
    | 'unsyncable-name'
    | 'special'
    | 'case-twin'
    | 'path-conflict'
    | 'io'
    | 'refused-remote'
    | 'gen-mismatch'
    | 'server-data-loss'
    | 'blob-missing'
  message: string
}

/** Events of the agent. */
export interface AgentEventMap {
  status: AgentStatus
  conflict: AgentConflict
  issue: AgentIssue
  error: Error
  /** One processing pass finished (tests and UIs wait on it). */
  idle: void
}
