/** Gathers paths and reports them as one batch after a quiet period. */
export class ChangeBatcher {
  private pending = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private readonly listeners = new Set<(paths: string[]) => void>()

  constructor(private readonly debounceMs: number) {}

  /** Adds a path to the current batch. */
  add(path: string): void {
    this.pending.add(path)
    if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), this.debounceMs)
  }

  /** Reports the current batch now. */
  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    if (this.pending.size === 0) return
    const batch = [...this.pending]
    this.pending = new Set()
    for (const cb of this.listeners) cb(batch)
  }

  /** Subscribes to batches. */
  subscribe(cb: (paths: string[]) => void): () => void {
    this.listeners.add(cb)
    return () => this.listeners.delete(cb)
  }

  /** Drops pending paths and timers. */
  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.pending.clear()
    this.listeners.clear()
  }
}
