import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import ignore from 'ignore'
import type { Ignore } from 'ignore'
import { isNotFound } from './fs-utils.js'

/**
 * Built-in ignore patterns (gitignore syntax), the same list the device agent
 * uses: Skein's own state, VCS and dependency folders, OS litter, editor
 * swap/backup/temp files. Exported so the agent and the cloud layer agree.
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

/** Name of the ignore file read from the synced folder's root (gitignore syntax). */
export const IGNORE_FILE = '.skeinignore'

/** Decides which paths sync; used for local files and remote keys alike. */
export interface PathFilter {
  /** True when the relative POSIX path (a folder when `isDir`) is ignored. */
  ignores(path: string, isDir?: boolean): boolean
}

/** A matcher over the defaults plus `extra` gitignore lines. */
export function createPathFilter(extra: readonly string[] = []): PathFilter {
  const ig: Ignore = ignore({ allowRelativePaths: false }).add([
    ...DEFAULT_IGNORE_PATTERNS,
    ...extra,
  ])
  const dirs = new Map<string, boolean>()
  const dirIgnored = (dir: string): boolean => {
    let hit = dirs.get(dir)
    if (hit === undefined) {
      const slash = dir.lastIndexOf('/')
      hit = (slash > 0 && dirIgnored(dir.slice(0, slash))) || ig.ignores(dir + '/')
      dirs.set(dir, hit)
    }
    return hit
  }
  return {
    ignores(path, isDir = false) {
      if (isDir) return dirIgnored(path)
      const slash = path.lastIndexOf('/')
      return (slash > 0 && dirIgnored(path.slice(0, slash))) || ig.ignores(path)
    },
  }
}

/** Reads `<root>/.skeinignore` (empty when absent) and builds the filter. */
export async function loadPathFilter(
  root: string,
  extra: readonly string[] = [],
): Promise<PathFilter> {
  let lines: string[] = []
  try {
    lines = (await readFile(join(root, IGNORE_FILE), 'utf8')).split(/\r?\n/)
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
  return createPathFilter([...extra, ...lines])
}
