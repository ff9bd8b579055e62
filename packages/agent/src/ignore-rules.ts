import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import ignore from 'ignore'
import type { Ignore } from 'ignore'
import { DEFAULT_IGNORE_PATTERNS, IGNORE_FILE } from '@skein/core'
import { isTempName } from './names.js'

export { DEFAULT_IGNORE_PATTERNS, IGNORE_FILE }

/**
 * One matcher, used identically by the scanner, the watcher and remote changes,
 * so a path is never synced one way and skipped the other.
 */
export interface IgnoreMatcher {
  /** True when the workspace-relative POSIX path (a folder when `isDir`) is ignored. */
  ignores(relPath: string, isDir: boolean): boolean
  /** The patterns in force, defaults first. */
  readonly patterns: readonly string[]
}

/** Builds a matcher from the defaults plus extra gitignore lines. */
export function createIgnoreMatcher(extra: readonly string[] = []): IgnoreMatcher {
  const patterns = [...DEFAULT_IGNORE_PATTERNS, ...extra]
  const ig: Ignore = ignore({ allowRelativePaths: false }).add(patterns)
  const cache = new Map<string, boolean>()
  return {
    patterns,
    ignores(relPath, isDir) {
      if (relPath === '' || relPath === '.') return false
      const key = isDir ? relPath + '/' : relPath
      let hit = cache.get(key)
      if (hit === undefined) {
        // A file inside an ignored folder is ignored too (gitignore only says so for
        // the folder; remote paths arrive without their folders being walked).
        // The agent's own temp files are ignored even when a user's `!*.tmp` un-ignores `*.tmp`.
        const slash = relPath.lastIndexOf('/')
        hit =
          (slash > 0 && this.ignores(relPath.slice(0, slash), true)) ||
          (!isDir && isTempName(relPath.slice(slash + 1))) ||
          ig.ignores(key)
        if (cache.size > 50_000) cache.clear()
        cache.set(key, hit)
      }
      return hit
    },
  }
}

/** Parses `.skeinignore` text into pattern lines (blank lines and `#` comments dropped). */
export function parseIgnoreFile(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trimEnd())
    .filter((l) => l !== '' && !l.startsWith('#'))
}

/** Loads the matcher for a workspace folder: defaults plus its `.skeinignore`, if any. */
export function loadIgnoreMatcher(root: string): IgnoreMatcher {
  let text = ''
  try {
    text = readFileSync(join(root, IGNORE_FILE), 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  return createIgnoreMatcher(parseIgnoreFile(text))
}
