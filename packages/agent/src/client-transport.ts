import { SkeinError } from '@skein/core'
import type * as Y from 'yjs'
import { Awareness } from 'y-protocols/awareness'
import { SyncClient, downloadBlob, uploadBlob } from '@skein/client'
import type { DocHandle, WebSocketConstructor } from '@skein/client'
import type { Logger } from '@skein/core'
import type { DocSession, SyncTransport } from './sync-transport.js'

/** Options of {@link createClientTransport}. */
export interface ClientTransportOptions {
  /** Server base URL, `ws://host:port`. */
  server: string
  token: string | undefined
  /** WebSocket implementation (pass the `ws` package on Node < 22). */
  WebSocket: WebSocketConstructor | undefined
  logger: Logger | undefined
  /** Longest reconnect delay. */
  maxBackoffMs: number
  /** Replace the client after this long without a connection (0: never). */
  stallMs: number
  /**
   * Silence from the server that makes the client probe the link (0 disables);
   * default the client's, 15 s. Validated by `SyncClient` (SPEC.md PR-R5).
   */
  heartbeatMs?: number | undefined
  /** How long a probe may go unanswered before the link is replaced; default the client's, 10 s. */
  heartbeatTimeoutMs?: number | undefined
  /** A blob request with no response (or a download with no data) this long fails; default 30 s. */
  blobTimeoutMs?: number | undefined
}

/**
 * An awareness that announces nothing: the agent is no presence participant
 * (no cursor, no user), and a default one per body costs a frame per
 * subscription and a 3-second timer each — for 10,000 notes, a second of a
 * first sync and thousands of timer callbacks a second forever after.
 */
function silentAwareness(doc: Y.Doc): Awareness {
  const a = new Awareness(doc)
  clearInterval((a as unknown as { _checkInterval: NodeJS.Timeout })._checkInterval)
  a.states.delete(doc.clientID)
  a.meta.delete(doc.clientID)
  return a
}

function whenHandleSynced(h: DocHandle): Promise<void> {
  if (h.status === 'synced') return Promise.resolve()
  return new Promise((resolve) => {
    const off = h.onStatus((s) => {
      if (s === 'synced') {
        off()
        resolve()
      }
    })
  })
}

/**
 * Resolves once the server acknowledged every local update. Event-driven: the
 * handle reports each ack as a status event, so no timer polls the count (a
 * body deleted offline used to poll every 5 ms until the link came back).
 */
async function whenFlushed(h: DocHandle): Promise<void> {
  for (;;) {
    await whenHandleSynced(h)
    if (h.unsyncedChanges === 0) return
    await new Promise<void>((resolve) => {
      const off = h.onStatus(() => {
        off()
        resolve()
      })
    })
  }
}

/** Default: blob requests fail after this long without a response (or, downloading, without data). */
const BLOB_TIMEOUT_MS = 30_000
/** Uploads get extra time at this slowest expected rate (bytes/s). */
const BLOB_MIN_BYTES_PER_S = 64 * 1024

/** An abort signal that fires once nothing happened for a while; `arm` restarts the clock. */
class Deadline {
  private readonly ctl = new AbortController()
  private timer: NodeJS.Timeout | undefined
  readonly signal = this.ctl.signal
  constructor(private readonly ms: number) {
    this.arm()
  }
  arm(): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.ctl.abort(), this.ms)
  }
  clear(): void {
    clearTimeout(this.timer)
  }
}

/** Runs a blob request under a {@link Deadline}; a timeout is a TRANSIENT error saying what. */
async function guarded<T>(
  what: string,
  ms: number,
  fn: (deadline: Deadline) => Promise<T>,
): Promise<T> {
  const deadline = new Deadline(ms)
  try {
    return await fn(deadline)
  } catch (err) {
    if (deadline.signal.aborted)
      throw new SkeinError(
        'TRANSIENT',
        `The ${what} stalled for ${Math.round(ms / 1000)} s and was abandoned; it is retried on the next pass.`,
        { cause: err },
      )
    throw err
  } finally {
    deadline.clear()
  }
}

/** Reads a download whole; each chunk re-arms the stall deadline. */
async function readAll(
  stream: ReadableStream<Uint8Array>,
  deadline: Deadline,
): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.length
    deadline.arm()
  }
  const out = new Uint8Array(size)
  let off = 0
  for (const c of chunks) {
    out.set(c, off)
    off += c.length
  }
  return out
}

/**
 * The agent's transport over one multiplexed `SyncClient` socket and the blob
 * endpoints. A watchdog replaces the client when it stays disconnected longer
 * than `stallMs` (a socket accepted by a server that is shutting down can hang
 * without ever closing); every open document is re-attached to the new one.
 */
export function createClientTransport(opts: ClientTransportOptions): SyncTransport {
  const blobTimeoutMs = opts.blobTimeoutMs ?? BLOB_TIMEOUT_MS
  const make = () =>
    new SyncClient({
      url: opts.server,
      token: opts.token,
      WebSocket: opts.WebSocket,
      maxBackoffMs: opts.maxBackoffMs,
      initialBackoffMs: Math.min(250, opts.maxBackoffMs),
      ...(opts.logger ? { logger: opts.logger } : {}),
      ...(opts.heartbeatMs !== undefined ? { heartbeatMs: opts.heartbeatMs } : {}),
      ...(opts.heartbeatTimeoutMs !== undefined
        ? { heartbeatTimeoutMs: opts.heartbeatTimeoutMs }
        : {}),
    })
  let client = make()
  const sessions = new Set<{ room: string; doc: Y.Doc; awareness: Awareness; h: DocHandle }>()
  const listeners = new Set<(connected: boolean) => void>()
  let offStatus: () => void = () => {}
  let since = Date.now()
  const watch = () => {
    offStatus = client.onStatus((st) => {
      if (st !== 'connected') since = Date.now()
      for (const cb of listeners) cb(st === 'connected')
    })
  }
  watch()
  const stallMs = opts.stallMs
  const timer =
    stallMs > 0
      ? setInterval(
          () => {
            if (client.status === 'connected' || Date.now() - since < stallMs) return
            opts.logger?.warn('sync connection stalled; starting a fresh client', {
              ms: Date.now() - since,
            })
            offStatus()
            client.close()
            client = make()
            since = Date.now()
            watch()
            for (const s of sessions) s.h = client.open(s.room, s.doc, { awareness: s.awareness })
          },
          Math.max(stallMs / 4, 50),
        )
      : undefined
  timer?.unref()
  const target = (workspace: string, hash: string) => ({
    url: opts.server,
    workspace,
    hash,
    ...(opts.token ? { token: opts.token } : {}),
  })
  return {
    get connected() {
      return client.status === 'connected'
    },
    onConnection: (cb) => {
      listeners.add(cb)
      return () => listeners.delete(cb)
    },
    open(room: string, doc: Y.Doc): DocSession {
      const awareness = silentAwareness(doc)
      const s = { room, doc, awareness, h: client.open(room, doc, { awareness }) }
      sessions.add(s)
      return {
        synced: () => whenHandleSynced(s.h),
        flushed: () => whenFlushed(s.h),
        settled: () => s.h.status === 'synced' && s.h.unsyncedChanges === 0,
        close: () => {
          sessions.delete(s)
          s.h.close()
          s.awareness.destroy()
        },
      }
    },
    async putBlob(workspace, hash, bytes) {
      // Bounded: a link that died mid-transfer must not hold the agent's pass forever.
      const ms = blobTimeoutMs + (bytes.length / BLOB_MIN_BYTES_PER_S) * 1000
      await guarded(`upload of blob ${hash}`, ms, (d) =>
        uploadBlob({ ...target(workspace, hash), signal: d.signal }, bytes),
      )
    },
    async getBlob(workspace, hash) {
      return guarded(`download of blob ${hash}`, blobTimeoutMs, async (d) => {
        const st = await downloadBlob({ ...target(workspace, hash), signal: d.signal })
        return st === undefined ? undefined : readAll(st, d)
      })
    },
    async feedHead(workspace) {
      return (await client.changes(workspace, Number.MAX_SAFE_INTEGER, 1)).head
    },
    knownHead: (workspace) => client.knownHead(workspace),
    async close() {
      if (timer) clearInterval(timer)
      offStatus()
      client.close()
    },
  }
}
