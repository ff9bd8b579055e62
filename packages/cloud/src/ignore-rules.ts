import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import ignore from 'ignore'
import type { Ignore } from 'ignore'
import { DEFAULT_IGNORE_PATTERNS, IGNORE_FILE } from '@skein/core'
import { isNotFound } from './fs-utils.js'

export { DEFAULT_IGNORE_PATTERNS, IGNORE_FILE }

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
