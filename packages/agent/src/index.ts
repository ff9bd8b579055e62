/**
 * `@skein/agent`: the device agent keeping a folder on disk and a Skein
 * workspace identical (DESIGN.md §3, §5, §6).
 */
export { Agent } from './agent.js'
export { DEFAULT_AGENT_OPTIONS } from './agent-options.js'
export type { AgentOptions, ConflictPolicy } from './agent-options.js'
export type {
  AgentStatus,
  AgentConflict,
  AgentIssue,
  AgentEventMap,
  OpenConflict,
} from './agent-events.js'
export type { SkippedFile, SkipKind } from './skipped-files.js'
export type { SyncTransport, DocSession } from './sync-transport.js'
export { createClientTransport } from './client-transport.js'
export type { ClientTransportOptions } from './client-transport.js'
export { MemoryHub, MemoryTransport } from './memory-transport.js'
export {
  DEFAULT_IGNORE_PATTERNS,
  IGNORE_FILE,
  createIgnoreMatcher,
  loadIgnoreMatcher,
  parseIgnoreFile,
} from './ignore-rules.js'
export type { IgnoreMatcher } from './ignore-rules.js'
export { scanFolder, DEFAULT_SCAN_OPTIONS } from './scanner.js'
export type { ScanOptions, ScanResult, ScannedFile, ScanIssue } from './scanner.js'
export { StateStore, STATE_DIR, TRASH_DIR } from './state-store.js'
export type { BaseRecord, PendingEdit, Intent, TrashRecord, SyncKind } from './state-types.js'
export { DiskWriter } from './disk-writer.js'
export type { WriteRequest, WriteResult, RecoveredIntent } from './disk-writer.js'
export { conflictCopyPath, isConflictCopyName, isTempName } from './names.js'
export { NativeWatcher } from './native-watcher.js'
export { ChokidarWatcher } from './chokidar-watcher.js'
export type { FolderWatcher, WatcherOptions } from './watcher-types.js'
