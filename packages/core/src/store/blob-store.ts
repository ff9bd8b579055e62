import type { ContentHash } from '../ids.js'

/** Metadata of a stored blob. */
export interface BlobInfo {
  /** Size in bytes. */
  size: number
}

/** A readable blob: its size and a stream of its bytes. */
export interface BlobBody extends BlobInfo {
  body: AsyncIterable<Uint8Array>
}

/**
 * Content-addressed binary storage per workspace (the server's blob endpoint).
 * Contract (run `runBlobStoreContract` from `@skein/core/testing`):
 * - `put` streams `body`, verifies its sha-256 equals `hash` and only then makes
 *   it visible; a mismatch rejects with `HASH_MISMATCH` and stores nothing;
 * - a blob is visible to `head`/`get` only whole; not-found is `undefined`;
 * - putting an existing blob again succeeds and leaves it unchanged.
 */
export interface BlobStore {
  /** Size of a stored blob, or `undefined`. */
  head(workspace: string, hash: ContentHash): Promise<BlobInfo | undefined>
  /** A stored blob's bytes as a stream, or `undefined`. */
  get(workspace: string, hash: ContentHash): Promise<BlobBody | undefined>
  /** Stores a blob after verifying its hash. */
  put(workspace: string, hash: ContentHash, body: AsyncIterable<Uint8Array>): Promise<BlobInfo>
  /** Removes a blob; resolves to whether it existed. */
  delete(workspace: string, hash: ContentHash): Promise<boolean>
}
