/**
 * Runs tasks in order. A task runs synchronously when nothing is queued, so the
 * hot path (an already-loaded room) costs no promise; async tasks hold the queue.
 */
export class SerialQueue {
  private tail: Promise<void> | undefined
  private depth = 0

  constructor(private readonly onError: (err: unknown) => void) {}

  /** Queues `task`; errors go to `onError`. */
  run(task: () => void | Promise<void>): void {
    if (this.tail === undefined) {
      let result: void | Promise<void>
      try {
        result = task()
      } catch (err) {
        this.onError(err)
        return
      }
      if (result instanceof Promise) this.hold(result)
      return
    }
    this.hold(this.tail.then(task))
  }

  private hold(p: Promise<void>): void {
    this.depth++
    this.tail = p
      .catch((err: unknown) => this.onError(err))
      .finally(() => {
        if (--this.depth === 0) this.tail = undefined
      })
  }
}
