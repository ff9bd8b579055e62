import type * as Y from 'yjs'

/** One document attached to a room of the sync service. */
export interface DocSession {
  /** Resolves once the document has fully exchanged state with the server since the latest (re)connect. */
  synced(): Promise<void>
  /**
   * Resolves once the server has acknowledged every local update made so far
   * (so anything the server sequenced before them has been received too).
   */
  flushed(): Promise<void>
  /** True when no local update awaits the server's acknowledgement. */
  settled(): boolean
  /** Detaches the document; it keeps its state. */
  close(): void
}

/**
 * What the agent needs from the network: rooms for Yjs documents, the
 * connection state, and a content-addressed blob store. `createClientTransport`
 * implements it over `@skein/client`; tests may wrap it for fault injection.
 */
export interface SyncTransport {
  /** Attaches `doc` to `room`; updates flow both ways while connected. */
  open(room: string, doc: Y.Doc): DocSession
  /** True while connected to the server. */
  readonly connected: boolean
  /** Subscribes to connection changes; returns the unsubscribe function. */
  onConnection(cb: (connected: boolean) => void): () => void
  /** Uploads a blob under its sha-256 (the server verifies the hash). */
  putBlob(workspace: string, hash: string, bytes: Uint8Array): Promise<void>
  /** Downloads a blob, or undefined when the server has none under that hash. */
  getBlob(workspace: string, hash: string): Promise<Uint8Array | undefined>
  /**
   * The workspace's change-feed head (the sequence of its latest stored update).
   * It only grows on a server that keeps its data; optional (the agent then
   * cannot tell a server that lost its data).
   */
  feedHead?(workspace: string): Promise<number>
  /** The latest feed sequence seen without asking (acks of this device's writes); optional. */
  knownHead?(workspace: string): number | undefined
  /** Closes every session and the connection. */
  close(): Promise<void>
}
