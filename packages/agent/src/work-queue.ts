import type { FileId } from '@skein/core'

/** What the queue runs for each kind of work. */
export interface WorkHandlers {
  full: () => Promise<void>
  paths: (paths: string[]) => Promise<void>
  ids: (ids: FileId[]) => Promise<void>
  after: () => Promise<void>
  /** While true, nothing runs (the mass-delete guard paused the agent). */
  paused: () => boolean
}

/**
 * One worker draining coalesced work — full rescans, changed disk paths,
 * changed entries — strictly one pass at a time, so disk and CRDT steps of
 * different events never interleave.
 */
export class WorkQueue {
  private full = false
  private paths = new Set<string>()
  private ids = new Set<FileId>()
  private running: Promise<void> | undefined
  private handlers: WorkHandlers | undefined
  private closed = false
  private readonly timers = new Set<NodeJS.Timeout>()

  constructor(private readonly onError: (err: unknown) => void) {}

  setHandlers(h: WorkHandlers): void {
    this.handlers = h
  }

  touchAll(): void {
    this.full = true
    this.kick()
  }

  touchPaths(paths: Iterable<string>): void {
    for (const p of paths) this.paths.add(p)
    this.kick()
  }

  touchId(id: FileId): void {
    this.ids.add(id)
    this.kick()
  }

  /** Retries an entry a little later (a body still arriving, a write that met an edit). */
  touchIdLater(id: FileId, ms = 100): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      this.touchId(id)
    }, ms)
    this.timers.add(t)
  }

  /** Looks at disk paths again a little later (a delete waiting out its grace period). */
  touchPathsLater(paths: string[], ms: number): void {
    const t = setTimeout(() => {
      this.timers.delete(t)
      this.touchPaths(paths)
    }, ms)
    this.timers.add(t)
  }

  private kick(): void {
    if (this.closed || this.running || !this.handlers) return
    this.running = this.drain().finally(() => {
      this.running = undefined
      if (this.hasWork() && !this.handlers?.paused()) this.kick()
    })
  }

  private hasWork(): boolean {
    return this.full || this.paths.size > 0 || this.ids.size > 0
  }

  private async drain(): Promise<void> {
    const h = this.handlers as WorkHandlers
    await new Promise((r) => setImmediate(r))
    while (this.hasWork() && !this.closed && !h.paused()) {
      try {
        if (this.full) {
          this.full = false
          this.paths.clear()
          this.ids.clear()
          await h.full()
        } else if (this.paths.size > 0) {
          const paths = [...this.paths]
          this.paths.clear()
          await h.paths(paths)
        } else {
          const ids = [...this.ids]
          this.ids.clear()
          await h.ids(ids)
        }
      } catch (err) {
        this.onError(err)
      }
    }
    await h.after()
  }

  /** Resolves when the queue has nothing left to do (or is paused). */
  async idle(): Promise<void> {
    while (this.running || (this.hasWork() && !this.closed && !this.handlers?.paused())) {
      this.kick()
      await this.running
      if (!this.running && this.hasWork() && !this.handlers?.paused())
        await new Promise((r) => setImmediate(r))
    }
  }

  async close(): Promise<void> {
    this.closed = true
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    await this.running
  }
}
