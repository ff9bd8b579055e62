import type { AgentIssue } from './agent-events.js'

/** Kinds of local files the agent leaves alone (they are reported, not synced). */
export type SkipKind = 'unsyncable-name' | 'symlink' | 'special' | 'case-twin' | 'path-conflict'

/** A local file or folder that is not synced, why, and what the user can do. */
export interface SkippedFile {
  path: string
  kind: SkipKind
  message: string
}

const under = (path: string, dir: string) =>
  dir === '' || path === dir || path.startsWith(dir + '/')

/**
 * Local paths that cannot be synced — names core's path rules refuse,
 * symbolic links, special files, names that differ from another only by
 * letter case or Unicode form, a folder where the workspace has a file. They
 * are a state of the folder, shown by `Agent.status()` until the user fixes
 * them, not failures of the agent: each is reported once (an `issue` event)
 * and forgotten when a later look at its folder no longer finds it.
 */
export class SkippedFiles {
  private readonly byPath = new Map<string, SkippedFile>()
  /** Paths not seen again since the current look began (cleared by `endLook`). */
  private unconfirmed: Set<string> | undefined

  constructor(private readonly report: (issue: AgentIssue) => void) {}

  /** Starts a look at `roots` (`''` = everything): what it does not report again is forgotten. */
  beginLook(roots: readonly string[]): void {
    this.unconfirmed = new Set(
      [...this.byPath.keys()].filter((p) => roots.some((r) => under(p, r))),
    )
  }

  /** Ends the look begun by {@link beginLook}. */
  endLook(): void {
    for (const p of this.unconfirmed ?? []) this.byPath.delete(p)
    this.unconfirmed = undefined
  }

  /** Records a skipped path; reports it when it is new or its reason changed. */
  skip(file: SkippedFile): void {
    this.unconfirmed?.delete(file.path)
    const old = this.byPath.get(file.path)
    if (old?.kind === file.kind && old.message === file.message) return
    this.byPath.set(file.path, file)
    this.report({ path: file.path, kind: file.kind, message: file.message })
  }

  /** Forgets a path that is synced now. */
  forget(path: string): void {
    this.byPath.delete(path)
  }

  /** True when `path` is currently skipped. */
  has(path: string): boolean {
    return this.byPath.has(path)
  }

  /** Every skipped path, sorted. */
  list(): SkippedFile[] {
    return [...this.byPath.values()].sort((a, b) => (a.path < b.path ? -1 : 1))
  }

  get size(): number {
    return this.byPath.size
  }
}

/** The message for a local folder where the workspace has a file (reported by both directions alike). */
export function folderVsFile(path: string): string {
  return `${path} is a folder here but a file in the workspace (from another device); rename one of them and both will sync.`
}
