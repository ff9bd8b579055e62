/**
 * Hashes the agent itself just wrote, per path, so the watcher never re-ingests
 * the agent's own writes (DESIGN §5). Entries expire so a later identical edit by
 * the user is still seen.
 */
export class OwnWrites {
  private readonly entries = new Map<string, { hash: string; until: number }[]>()

  constructor(
    /** How long a recorded write suppresses events; default 30 s (slow watchers, big folders). */
    private readonly ttlMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records that the agent is about to put `hash` at `path`. */
  add(path: string, hash: string): void {
    const list = (this.entries.get(path) ?? []).filter((e) => e.until > this.now())
    list.push({ hash, until: this.now() + this.ttlMs })
    this.entries.set(path, list)
  }

  /** True when `hash` at `path` is the agent's own recent write. */
  isOwn(path: string, hash: string): boolean {
    const list = this.entries.get(path)
    if (!list) return false
    const t = this.now()
    const live = list.filter((e) => e.until > t)
    if (live.length === 0) this.entries.delete(path)
    else this.entries.set(path, live)
    return live.some((e) => e.hash === hash)
  }

  /** Forgets everything recorded for a path. */
  forget(path: string): void {
    this.entries.delete(path)
  }
}
