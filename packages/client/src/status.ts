/** Status of one open document. */
export type DocStatus = 'connecting' | 'syncing' | 'synced' | 'offline' | 'error'

/** Status of the client's socket. */
export type ConnectionStatus = 'connecting' | 'connected' | 'offline' | 'error'

/** A minimal typed listener set: `subscribe(cb) => unsubscribe`. */
export class Listeners<T> {
  private readonly set = new Set<(value: T) => void>()

  subscribe(cb: (value: T) => void): () => void {
    this.set.add(cb)
    return () => this.set.delete(cb)
  }

  emit(value: T): void {
    for (const cb of [...this.set]) cb(value)
  }
}

/**
 * The transaction origin of updates the client applies from the server. The
 * client never sends updates carrying it back (no echo); apps can recognise it
 * with `origin instanceof RemoteOrigin`.
 */
export class RemoteOrigin {
  constructor(readonly doc: string) {}
}
