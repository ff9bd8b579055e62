/**
 * `SyncServer`: Node http + `ws`. Routes the y-websocket compatible endpoint
 * `/<room>`, the multiplexed `/_skein/v1`, blobs, `/healthz` and `/metrics`.
 */
import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocket, WebSocketServer } from 'ws'
import { MemoryDocStore } from '@skein/core'
import type { DocStore } from '@skein/core'
import { BLOB_PATH, CloseCode, MUX_PATH } from '@skein/protocol'
import { handleBlob } from './blob-http.js'
import type { Connection, ConnectionContext } from './connection.js'
import { WriteBatcher } from './write-batch.js'
import { LegacyConnection } from './legacy-connection.js'
import { ServerMetrics } from './metrics.js'
import { MuxConnection } from './mux-connection.js'
import { DEFAULT_SYNC_SERVER_OPTIONS } from './options.js'
import type { SyncServerOptions } from './options.js'
import { RoomManager } from './room-manager.js'
import { validateOptions } from './validate-options.js'

/** `ws` closes oversize frames with 1009; Skein's documented code is 4413 (PR-L1). */
class SkeinSocket extends WebSocket {
  override close(code?: number, reason?: string | Buffer): void {
    super.close(code === 1009 ? CloseCode.TOO_LARGE : code, code === 1009 ? 'too large' : reason)
  }
}

/** A Skein sync server. `await new SyncServer(opts).listen()`, then `close()`. */
export class SyncServer {
  readonly options: SyncServerOptions
  readonly metrics = new ServerMetrics()
  private readonly store: DocStore
  private readonly rooms: RoomManager
  private readonly http: Server
  private readonly wss: WebSocketServer
  private readonly connections = new Set<Connection>()
  private readonly ctx: ConnectionContext
  private pingTimer: ReturnType<typeof setInterval> | undefined
  private closing: Promise<void> | undefined
  private readonly started = Date.now()

  constructor(options: Partial<SyncServerOptions> = {}) {
    this.options = { ...DEFAULT_SYNC_SERVER_OPTIONS, ...options }
    const o = this.options
    validateOptions(o)
    this.store = o.store ?? new MemoryDocStore()
    const writes = new WriteBatcher(o.writeIntervalMs)
    this.rooms = new RoomManager(
      {
        store: this.store,
        metrics: this.metrics,
        logger: o.logger,
        compactAfterUpdates: o.compactAfterUpdates,
        storeIntervalMs: o.storeIntervalMs,
        maxAwarenessBytes: o.maxAwarenessBytes,
        ticks: writes,
      },
      o.evictAfterMs,
    )
    this.ctx = {
      options: o,
      metrics: this.metrics,
      logger: o.logger,
      rooms: this.rooms,
      writes,
    }
    this.http = createServer((req, res) => void this.onRequest(req, res))
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: o.maxPayload,
      perMessageDeflate: false,
      WebSocket: SkeinSocket,
    })
    this.http.on('upgrade', (req, socket, head) => this.onUpgrade(req, socket, head))
  }

  /** Starts listening; resolves with the bound port. */
  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject)
      this.http.listen(this.options.port, this.options.host, () => resolve())
    })
    this.pingTimer = setInterval(() => {
      for (const c of this.connections) c.heartbeat()
    }, this.options.pingIntervalMs)
    this.pingTimer.unref?.()
    this.options.logger.info('sync server listening', { url: this.url })
    return this.port
  }

  /** The bound port (after `listen`). */
  get port(): number {
    const a = this.http.address()
    return typeof a === 'object' && a ? a.port : this.options.port
  }

  /** `ws://host:port` of this server. */
  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host
    return `ws://${host}:${this.port}`
  }

  /** Documents currently loaded in memory. */
  get loadedDocs(): number {
    return this.rooms.size
  }

  /** Open WebSocket connections. */
  get connectionCount(): number {
    return this.connections.size
  }

  /** The full state of a loaded document as a Yjs update, or undefined (inspection and tests). */
  inspect(doc: string): Uint8Array | undefined {
    return this.rooms.get(doc)?.diff(undefined)
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const o = this.options
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`)
    }
    if (this.closing) return refuse('503 Service Unavailable')
    if (this.connections.size >= o.maxConnections) return refuse('503 Service Unavailable')
    const origin = req.headers.origin
    if (origin && o.allowedOrigins.length > 0 && !o.allowedOrigins.includes(origin)) {
      return refuse('403 Forbidden')
    }
    const url = new URL(req.url ?? '/', 'http://localhost')
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const token = url.searchParams.get('token') ?? undefined
      let conn: Connection
      if (url.pathname === MUX_PATH) {
        conn = new MuxConnection(ws, this.ctx, this.store, token)
      } else {
        let room: string
        try {
          room = decodeURIComponent(url.pathname.slice(1))
        } catch {
          room = ''
        }
        conn = new LegacyConnection(ws, this.ctx, room, token)
      }
      this.connections.add(conn)
      this.metrics.connections++
      ws.on('close', () => this.connections.delete(conn))
    })
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    try {
      if (url.pathname === '/healthz') {
        const body = JSON.stringify({
          status: this.closing ? 'closing' : 'ok',
          connections: this.connections.size,
          docs: this.rooms.size,
          uptimeSeconds: Math.round((Date.now() - this.started) / 1000),
        })
        res.writeHead(this.closing ? 503 : 200, { 'content-type': 'application/json' })
        return void res.end(body)
      }
      if (url.pathname === '/metrics') {
        this.metrics.loadedDocs = this.rooms.size
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' })
        return void res.end(this.metrics.render())
      }
      if (url.pathname.startsWith(BLOB_PATH + '/')) {
        return await handleBlob(
          req,
          res,
          url.pathname.slice(BLOB_PATH.length + 1),
          url,
          this.options,
        )
      }
      if (this.options.httpFallback?.(req, res)) return
      res.writeHead(404, { 'content-type': 'text/plain' })
      res.end('Not found. WebSocket endpoints: /<room> (y-websocket) and /_skein/v1.\n')
    } catch (err) {
      this.options.logger.error('http request failed', { path: url.pathname, error: String(err) })
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
      res.end()
    }
  }

  /**
   * Graceful shutdown: stop accepting, close every connection (1001), flush and
   * unload every document, close the store — bounded by `shutdownTimeoutMs`.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.pingTimer) clearInterval(this.pingTimer)
      const httpClosed = new Promise<void>((r) => this.http.close(() => r()))
      // writes waiting for their room's tick are applied before anything closes
      for (const c of this.connections) c.commitWrites()
      for (const c of this.connections) c.fail(CloseCode.GOING_AWAY, 'server shutting down')
      this.ctx.writes.close() // each connection flushed its frames as it closed
      const flush = this.rooms.closeAll()
      let timer: ReturnType<typeof setTimeout> | undefined
      const timeout = new Promise<void>(
        (r) => (timer = setTimeout(r, this.options.shutdownTimeoutMs)),
      )
      await Promise.race([flush, timeout])
      clearTimeout(timer)
      await this.store.close().catch(() => undefined)
      this.http.closeAllConnections()
      await httpClosed
      this.options.logger.info('sync server closed')
    })()
    return this.closing
  }

  /** Closes gracefully on SIGTERM/SIGINT; returns a function removing the handlers. */
  closeOnSignals(onClosed: () => void = () => process.exit(0)): () => void {
    const handler = () => void this.close().then(onClosed)
    process.once('SIGTERM', handler)
    process.once('SIGINT', handler)
    return () => {
      process.off('SIGTERM', handler)
      process.off('SIGINT', handler)
    }
  }
}
