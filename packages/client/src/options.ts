import type { Logger } from '@skein/core'
import { SkeinError, noopLogger } from '@skein/core'

/** The parts of the WHATWG `WebSocket` the client uses (browser global or the `ws` package). */
export interface WebSocketLike {
  binaryType: string
  readonly readyState: number
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onclose: ((ev: { code: number; reason: string }) => void) | null
  onerror: ((ev: unknown) => void) | null
  send(data: Uint8Array): void
  close(code?: number, reason?: string): void
}

/** A WebSocket constructor (`globalThis.WebSocket`, or `ws` in Node). */
export type WebSocketConstructor = new (url: string) => WebSocketLike

/** Options of {@link SyncClient}. */
export interface SyncClientOptions {
  /** Server base URL `ws://host:port` (the `/_skein/v1` path is appended) or the full endpoint URL. Required. */
  url: string
  /** Access token, or a function fetching a fresh one per connection; default none (open servers on loopback). */
  token: string | (() => string | Promise<string>) | undefined
  /** WebSocket implementation; default `globalThis.WebSocket` (pass `ws` in Node < 22). */
  WebSocket: WebSocketConstructor | undefined
  /** First reconnect delay bound; default 250 ms. */
  initialBackoffMs: number
  /** Largest reconnect delay; default 30 s. */
  maxBackoffMs: number
  /**
   * Time a connection attempt has to reach AUTH_OK before it is abandoned and
   * retried; default 10 s. Without it a socket whose handshake never completes
   * (a half-open TCP connection, a stopped server) would wait forever.
   */
  connectTimeoutMs: number
  /**
   * While connected, silence from the server this long makes the client send a
   * probe (a change-feed request the server always answers); default 15 s, 0
   * disables. A half-open socket (NAT drop, blackholed link) delivers nothing and
   * reports no error, so without it a dead link would look connected until the
   * server's own idle timeout finally closes it, a minute or more.
   */
  heartbeatMs: number
  /**
   * How long a heartbeat probe may go without any frame arriving before the
   * socket is dropped and the client reconnects; default 10 s. Keep it above the
   * time the slowest expected link needs to deliver the largest frame (liveness
   * is seen per whole frame).
   */
  heartbeatTimeoutMs: number
  /** Source of randomness for full jitter; default Math.random (inject for reproducible tests). */
  random: () => number
  /** Logs (never tokens or document contents); default silent. */
  logger: Logger
}

/** Defaults for {@link SyncClientOptions} (except `url`). */
export const DEFAULT_SYNC_CLIENT_OPTIONS: Omit<SyncClientOptions, 'url'> = {
  token: undefined,
  WebSocket: undefined,
  initialBackoffMs: 250,
  maxBackoffMs: 30_000,
  connectTimeoutMs: 10_000,
  heartbeatMs: 15_000,
  heartbeatTimeoutMs: 10_000,
  random: Math.random,
  logger: noopLogger,
}

/** Full-jitter exponential backoff: uniform in [0, min(max, initial·2^attempt)]. */
export function backoffDelay(
  attempt: number,
  o: Pick<SyncClientOptions, 'initialBackoffMs' | 'maxBackoffMs' | 'random'>,
): number {
  const cap = Math.min(o.maxBackoffMs, o.initialBackoffMs * 2 ** Math.min(attempt, 30))
  return Math.floor(o.random() * cap)
}

/** Throws `INVALID_INPUT` naming the bad option and what to pass instead. */
export function validateClientOptions(o: SyncClientOptions): void {
  const bad = (message: string) => new SkeinError('INVALID_INPUT', message)
  if (typeof o.url !== 'string' || !/^wss?:\/\/[^/]/.test(o.url))
    throw bad(
      `SyncClient url must be a ws:// or wss:// address (e.g. ws://127.0.0.1:8787), got ${JSON.stringify(o.url)}.`,
    )
  for (const name of ['initialBackoffMs', 'maxBackoffMs', 'connectTimeoutMs'] as const) {
    const v = o[name]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw bad(`SyncClient option ${name} must be a number of milliseconds ≥ 0, got ${String(v)}.`)
  }
  // setTimeout fires at once for delays past 2^31-1 ms: a probe storm, not "never"
  const MAX_TIMER = 2_147_483_647
  for (const name of ['heartbeatMs', 'heartbeatTimeoutMs'] as const) {
    const v = o[name]
    const min = name === 'heartbeatMs' ? 0 : 1
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > MAX_TIMER)
      throw bad(
        `SyncClient option ${name} must be a number of milliseconds from ${min} to ${MAX_TIMER}${
          name === 'heartbeatMs' ? ' (0 disables the heartbeat)' : ''
        }, got ${String(v)}.`,
      )
  }
  const t = o.token
  if (t !== undefined && typeof t !== 'string' && typeof t !== 'function')
    throw bad('SyncClient option token must be a string or a function returning one.')
}
