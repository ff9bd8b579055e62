import { noopLogger, systemClock } from '@skein/core'
import type { Clock, Logger } from '@skein/core'
import type { SyncTransport } from './sync-transport.js'

/**
 * What happens when both sides changed the same lines (DESIGN §6): `copy` keeps
 * the newer side in the file and saves the other next to it; `markers` writes
 * git-style markers; `ours` keeps this device's disk version; `theirs` keeps the
 * workspace version. Every conflict is recorded in the WorkspaceCrdt.
 */
export type ConflictPolicy = 'copy' | 'markers' | 'ours' | 'theirs'

/** Options of the {@link Agent}. */
export interface AgentOptions {
  /** The workspace folder on disk. Required. */
  root: string
  /** The workspace id (room of the WorkspaceCrdt). Required. */
  workspace: string
  /** This device's id (conflict copies and attribution). Required. */
  device: string
  /** Server base URL (`ws://host:port`); used with `token` when no `transport` is given. */
  server: string
  /** Access token for the server. */
  token: string
  /** A ready transport instead of `server`+`token` (tests, custom networking). */
  transport: SyncTransport | undefined
  /** Default `copy`: nothing is lost and nothing odd is written into a note. */
  conflictPolicy: ConflictPolicy
  /** Text bodies larger than this sync as binary; default 8 MiB (merges stay fast). */
  maxTextBytes: number
  /** A batch deleting more than this fraction of files pauses the agent; default 0.5. */
  massDeleteRatio: number
  /** …but only when it deletes at least this many files; default 5 (small folders stay usable). */
  massDeleteMinimum: number
  /** Full rescan interval catching events a watcher missed; default 60 s (0 disables). */
  rescanIntervalMs: number
  /** Watcher: `native` (one fs.watch per folder; default, scales to 100k files) or `chokidar`. */
  watcher: 'native' | 'chokidar'
  /**
   * A file that vanished is deleted in the workspace only after it stayed gone
   * this long; default 500 ms, so a rename whose halves land in different event
   * batches is still seen as one rename.
   */
  deleteGraceMs: number
  /**
   * Body documents unused this long are closed; default 60 s. A reconnect then
   * resubscribes only recently active notes (remote edits to the others are
   * noticed through the entry's content hash). Bodies fetched only to write
   * their files (a first sync) are closed right after. 0 keeps every body open.
   */
  bodyIdleMs: number
  /** Quiet period before a batch of disk events is processed; default 50 ms. */
  debounceMs: number
  /** Longest delay between reconnect attempts; default 10 s (a laptop waking up reconnects quickly). */
  maxReconnectDelayMs: number
  /**
   * A connection not re-established after this long is abandoned and a fresh
   * client started; default 30 s (a socket can hang half-open across a server
   * restart). 0 disables.
   */
  stallTimeoutMs: number
  /**
   * Silence from the server after which the connection is probed; with no
   * answer it is dropped and re-established (a half-open socket is noticed in
   * about this plus the client's probe timeout). Default 15 s; 0 disables.
   */
  heartbeatMs: number
  /** How long a probe may go unanswered before the connection is dropped; default 10 s. */
  heartbeatTimeoutMs: number
  /** How long `start()` waits for the first sync before working offline; default 10 s. */
  syncTimeoutMs: number
  logger: Logger
  clock: Clock
}

/** Defaults of {@link AgentOptions} (the required fields have none). */
export const DEFAULT_AGENT_OPTIONS: Omit<AgentOptions, 'root' | 'workspace' | 'device'> = {
  server: '',
  token: '',
  transport: undefined,
  conflictPolicy: 'copy',
  maxTextBytes: 8 * 1024 * 1024,
  massDeleteRatio: 0.5,
  massDeleteMinimum: 5,
  rescanIntervalMs: 60_000,
  watcher: 'native',
  debounceMs: 50,
  bodyIdleMs: 60_000,
  deleteGraceMs: 500,
  maxReconnectDelayMs: 10_000,
  stallTimeoutMs: 30_000,
  heartbeatMs: 15_000,
  heartbeatTimeoutMs: 10_000,
  syncTimeoutMs: 10_000,
  logger: noopLogger,
  clock: systemClock,
}
