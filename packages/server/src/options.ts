import type { IncomingMessage, ServerResponse } from 'node:http'
import type { BlobStore, DocStore, Logger } from '@skein/core'
import { noopLogger } from '@skein/core'

/** How connections prove access. */
export type AuthMode =
  /** Everyone may read and write every workspace. Refused unless bound to loopback. */
  | { mode: 'open' }
  /** HMAC-signed tokens (see `signToken` in @skein/protocol). */
  | { mode: 'token'; secret: string }

/** Options of {@link SyncServer}; pass a `Partial` and the rest comes from {@link DEFAULT_SYNC_SERVER_OPTIONS}. */
export interface SyncServerOptions {
  /** Interface to bind; default 127.0.0.1 (open auth is only allowed on loopback). */
  host: string
  /** TCP port; default 0 (a free port, read it from `server.port`). */
  port: number
  /** Access control; default open (loopback only). */
  auth: AuthMode
  /** Where documents are persisted; default in memory (not durable: pass a LevelDocStore). */
  store: DocStore | undefined
  /** Where blobs are kept; default none (the blob endpoint answers 404). */
  blobs: BlobStore | undefined
  /** Largest accepted WebSocket frame in bytes; default 16 MiB (ws defaults to 100 MiB). Oversize → 4413. */
  maxPayload: number
  /** Largest accepted blob upload; default 1 GiB. */
  maxBlobBytes: number
  /** Documents one multiplexed connection may subscribe; default 20,000 (10k notes + headroom). */
  maxDocsPerConnection: number
  /** Open connections in total; further upgrades get HTTP 503; default 10,000. */
  maxConnections: number
  /**
   * Sustained frames per second per connection; over the burst → 4429. Default
   * 100,000 — about what one core of the server processes — so only a client
   * trying to take a whole core for itself beyond its burst is cut off. People
   * type ≤ 20 updates/s, but a replayed editing trace or a bulk import sends one
   * update per keystroke as fast as the server takes them (≈ 40k/s here), and
   * must not be disconnected: the resync after a 4429 costs more than serving it.
   */
  messageRate: number
  /** Frames a connection may send in a burst above the rate; default 100,000 (a full resync of 20k docs with headroom). */
  messageBurst: number
  /** Awareness updates per second per connection; excess updates are dropped; default 20. */
  awarenessRate: number
  /** Largest awareness state of one client (JSON bytes); default 16 KiB. Larger → 4413. */
  maxAwarenessBytes: number
  /** Interval of WebSocket pings; a connection that misses one is dropped; default 30 s. */
  pingIntervalMs: number
  /** Time a multiplexed connection has to send its AUTH frame; default 10 s. */
  authTimeoutMs: number
  /** A connection whose unsent data passes this many bytes is dropped (4508); default 16 MiB. */
  maxBufferedBytes: number
  /** A document nobody subscribes to is written and unloaded after this long; default 30 s. */
  evictAfterMs: number
  /** Stored updates per document before they are compacted into one; default 200. */
  compactAfterUpdates: number
  /**
   * Least time between two store commits of one document; default 10 ms. A write
   * arriving later than that after the last commit is stored at the end of its
   * event-loop turn; writes arriving faster share one commit (and each writer one
   * ack), which caps a busy document at ~100 commits/s. Broadcasts never wait for
   * it; acks do (they still follow the durable write). 0 commits every turn.
   */
  storeIntervalMs: number
  /**
   * Least time between two writes of broadcasts to one socket; default 16 ms
   * (at most ~60 writes per second per socket, a display's frame rate). A
   * socket not written for that long gets its next frame at the end of the
   * turn, so a document with a few typists sees no delay; a socket receiving
   * frames faster gets them together, at most 16 ms late. Replies a client
   * waits for (sync steps, subscriptions, feed pages) and a backlog past 64 KiB
   * always leave at the end of the turn. With 50 clients typing 10 keys/s into
   * one note, a socket write costs about as much CPU as applying the update:
   * 16 ms cuts the server's CPU by about a third (fan-out benchmark) for ~8 ms
   * more median latency. 0 writes every turn (lowest latency, most CPU).
   */
  writeIntervalMs: number
  /** Browser `Origin`s allowed to connect; empty allows any (non-browser clients send none). */
  allowedOrigins: readonly string[]
  /** Time graceful `close()` waits for writes to finish before giving up; default 10 s. */
  shutdownTimeoutMs: number
  /** Structured logs; never receives tokens or document contents; default silent. */
  logger: Logger
  /**
   * Other HTTP requests (e.g. the browser editor's static files): return true when
   * handled. Runs after the server's own routes; default none (404).
   */
  httpFallback: ((req: IncomingMessage, res: ServerResponse) => boolean) | undefined
}

/** The defaults every option falls back to. */
export const DEFAULT_SYNC_SERVER_OPTIONS: SyncServerOptions = {
  host: '127.0.0.1',
  port: 0,
  auth: { mode: 'open' },
  store: undefined,
  blobs: undefined,
  maxPayload: 16 * 1024 * 1024,
  maxBlobBytes: 1024 * 1024 * 1024,
  maxDocsPerConnection: 20_000,
  maxConnections: 10_000,
  messageRate: 100_000,
  messageBurst: 100_000,
  awarenessRate: 20,
  maxAwarenessBytes: 16 * 1024,
  pingIntervalMs: 30_000,
  authTimeoutMs: 10_000,
  maxBufferedBytes: 16 * 1024 * 1024,
  evictAfterMs: 30_000,
  compactAfterUpdates: 200,
  storeIntervalMs: 10,
  writeIntervalMs: 16,
  allowedOrigins: [],
  shutdownTimeoutMs: 10_000,
  logger: noopLogger,
  httpFallback: undefined,
}
