/**
 * Built-in ignore patterns (gitignore syntax) shared by the device agent and the
 * cloud layer, so a path is never synced by one and skipped by the other:
 * Skein's own state, VCS and dependency folders, OS litter, and editor
 * swap/backup/temp files (the agent's own temp files end in `.tmp`).
 */
export const DEFAULT_IGNORE_PATTERNS: readonly string[] = Object.freeze([
  '.skein/',
  '.git/',
  'node_modules/',
  '.DS_Store',
  '*.swp',
  '.*.swp',
  '*~',
  '.#*',
  '4913',
  '*.tmp',
])

/** Name of the ignore file read from a synced folder's root (gitignore syntax). */
export const IGNORE_FILE = '.skeinignore'
