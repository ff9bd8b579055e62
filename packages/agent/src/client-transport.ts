import type * as Y from 'yjs'
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

/** Polls the handle's unacknowledged-update count (the client has no event for it). */
async function whenFlushed(h: DocHandle): Promise<void> {
  await whenHandleSynced(h)
  while (h.unsyncedChanges > 0) await new Promise((r) => setTimeout(r, 5))
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = stream.getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    chunks.push(value)
    size += value.length
  }
  const out = new Uint8Array(size)
  let off = 0
  for (const c of chunks) {
    out.set(c, off)
    off += c.length
  }
  return out
}

/** The agent's transport over one multiplexed `SyncClient` socket and the blob endpoints. */
export function createClientTransport(opts: ClientTransportOptions): SyncTransport {
  const client = new SyncClient({
    url: opts.server,
    token: opts.token,
    WebSocket: opts.WebSocket,
    maxBackoffMs: opts.maxBackoffMs,
    initialBackoffMs: Math.min(250, opts.maxBackoffMs),
    ...(opts.logger ? { logger: opts.logger } : {}),
  })
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
    onConnection: (cb) => client.onStatus((s) => cb(s === 'connected')),
    open(room: string, doc: Y.Doc): DocSession {
      const h = client.open(room, doc)
      return { synced: () => whenHandleSynced(h), flushed: () => whenFlushed(h), close: () => h.close() }
    },
    async putBlob(workspace, hash, bytes) {
      await uploadBlob(target(workspace, hash), bytes)
    },
    async getBlob(workspace, hash) {
      const s = await downloadBlob(target(workspace, hash))
      return s === undefined ? undefined : readAll(s)
    },
    async close() {
      client.close()
    },
  }
}
