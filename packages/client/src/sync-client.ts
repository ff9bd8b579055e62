/**
 * `SyncClient`: one multiplexed socket to `/_skein/v1` carrying many documents.
 * Reconnects with full-jitter backoff; stops on 4401/4403; on reconnect asks the
 * change feed what changed and resubscribes unchanged documents quietly; a
 * heartbeat replaces a connection that went silent (PR-R5).
 */
import type { Awareness } from 'y-protocols/awareness'
import * as Y from 'yjs'
import { SkeinError } from '@skein/core'
import type { ChangePage } from '@skein/core'
import {
  CloseCode,
  FATAL_CLOSE_CODES,
  FrameType,
  MUX_PATH,
  SUBSCRIBE_QUIET,
  decodeFrame,
  encodeFrame,
  encodeMessageFrame,
  parseDocName,
} from '@skein/protocol'
import type { Frame } from '@skein/protocol'
import { DocHandle } from './doc-handle.js'
import type { HandleHost } from './doc-handle.js'
import { Heartbeat } from './heartbeat.js'
import { DEFAULT_SYNC_CLIENT_OPTIONS, backoffDelay, validateClientOptions } from './options.js'
import type { SyncClientOptions, WebSocketLike } from './options.js'
import { Listeners } from './status.js'
import type { ConnectionStatus } from './status.js'

/** The net.Socket under Node's `ws`. */
type Corkable = { cork(): void; uncork(): void }
/** Most frames held in one corked write. */
const MAX_CORKED_FRAMES = 256
/** What `Y.encodeStateVector` gives for a document with no content (a fresh device's every note). */
const EMPTY_STATE_VECTOR = Uint8Array.of(0)

interface FeedRequest {
  workspace: string
  since: number
  limit: number
  resolve: (page: ChangePage) => void
  reject: (err: unknown) => void
}

const OPEN = 1

/** Syncs Yjs documents with a Skein server over one WebSocket. */
export class SyncClient implements HandleHost {
  readonly options: SyncClientOptions
  private ws: WebSocketLike | undefined
  private authed = false
  private statusValue: ConnectionStatus = 'connecting'
  private readonly statusListeners = new Listeners<ConnectionStatus>()
  private readonly handles = new Map<string, DocHandle>()
  private readonly subscribed = new Set<string>()
  /** Per workspace: the change-feed sequence up to which open documents are known current. */
  private readonly heads = new Map<string, number>()
  private readonly feeds = new Map<number, FeedRequest>()
  private nextFeedId = 1
  private attempt = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private connectTimer: ReturnType<typeof setTimeout> | undefined
  private readonly heartbeat: Heartbeat
  /** The workspace the token grants (`*` = all), from AUTH_OK. */
  private authWorkspace = '*'
  private stopped = false
  /** Why the client stopped (a fatal close), if it did. */
  error: SkeinError | undefined

  constructor(options: Partial<SyncClientOptions> & { url: string }) {
    this.options = { ...DEFAULT_SYNC_CLIENT_OPTIONS, ...options }
    validateClientOptions(this.options)
    this.heartbeat = new Heartbeat({
      intervalMs: this.options.heartbeatMs,
      timeoutMs: this.options.heartbeatTimeoutMs,
      probe: () => this.sendProbe(),
      dead: (silentMs) => {
        if (!this.ws) return
        this.options.logger.info('sync connection silent; dropping it and reconnecting', {
          silentMs: Math.round(silentMs),
        })
        this.drop(this.ws, CloseCode.IDLE_TIMEOUT)
      },
    })
    globalThis.addEventListener?.('online', this.onOnline)
    this.connect()
  }

  /** Socket status. */
  get status(): ConnectionStatus {
    return this.statusValue
  }

  /** Subscribes to socket status changes. */
  onStatus(cb: (status: ConnectionStatus) => void): () => void {
    return this.statusListeners.subscribe(cb)
  }

  /** Starts syncing `doc` as document `name` (`<workspace>` or `<workspace>/<fileId>`). */
  open(name: string, doc: Y.Doc, opts: { awareness?: Awareness } = {}): DocHandle {
    if (typeof name !== 'string' || !parseDocName(name)) {
      throw new SkeinError(
        'INVALID_INPUT',
        `Cannot open document ${JSON.stringify(name)}: a name is <workspace> or <workspace>/<segment>… of letters, digits, '.', '_' and '-' (protocol SPEC.md PR-N1).`,
      )
    }
    // duck-typed: an app may bundle another copy of Yjs, where instanceof fails
    const d = doc as Partial<Y.Doc> | undefined
    if (typeof d?.clientID !== 'number' || typeof d.on !== 'function' || !d.store) {
      throw new SkeinError('INVALID_INPUT', `Cannot open document ${name}: pass a Y.Doc to sync.`)
    }
    if (this.handles.has(name)) {
      throw new SkeinError(
        'CONFLICT',
        `Document ${name} is already open on this client: close its handle first.`,
      )
    }
    const handle = new DocHandle(name, doc, this, opts.awareness)
    this.handles.set(name, handle)
    if (this.error) handle.fatal(this.error)
    else if (this.authed) this.subscribe(handle, false, 0)
    else handle.setStatus(this.statusValue === 'offline' ? 'offline' : 'connecting')
    return handle
  }

  /**
   * The latest change-feed sequence of `workspace` this client saw (the feed's
   * head at the last reconnect, then the acks of its own writes), if any.
   */
  knownHead(workspace: string): number | undefined {
    return this.heads.get(workspace)
  }

  /** Documents of `workspace` changed after `since` (the change feed, for the device agent). */
  changes(workspace: string, since: number, limit = 1000): Promise<ChangePage> {
    if (typeof workspace !== 'string' || !parseDocName(workspace) || workspace.includes('/')) {
      return Promise.reject(
        new SkeinError(
          'INVALID_INPUT',
          `Cannot read the change feed of ${JSON.stringify(workspace)}: pass a workspace id (a document name without '/').`,
        ),
      )
    }
    if (!Number.isSafeInteger(since) || since < 0 || !Number.isInteger(limit) || limit < 1) {
      return Promise.reject(
        new SkeinError(
          'INVALID_INPUT',
          `Cannot read the change feed of ${workspace} since ${since} (limit ${limit}): since must be a whole number ≥ 0 and limit ≥ 1.`,
        ),
      )
    }
    if (this.error) return Promise.reject(this.error)
    return new Promise((resolve, reject) => {
      const id = this.nextFeedId++
      this.feeds.set(id, { workspace, since, limit, resolve, reject })
      if (this.authed) this.sendFeed(id)
    })
  }

  /** Closes every handle and the socket; no reconnect. */
  close(): void {
    this.stopped = true
    globalThis.removeEventListener?.('online', this.onOnline)
    if (this.timer) clearTimeout(this.timer)
    if (this.connectTimer) clearTimeout(this.connectTimer)
    this.heartbeat.stop()
    for (const h of [...this.handles.values()]) h.close()
    for (const [, f] of this.feeds) f.reject(new SkeinError('CLOSED', 'SyncClient was closed.'))
    this.feeds.clear()
    this.ws?.close(CloseCode.NORMAL)
    this.setStatus('offline')
  }

  private readonly onOnline = () => {
    if (this.statusValue === 'offline' && !this.stopped && !this.error) {
      if (this.timer) clearTimeout(this.timer)
      this.connect()
    }
  }

  private setStatus(s: ConnectionStatus): void {
    if (s === this.statusValue) return
    this.statusValue = s
    this.statusListeners.emit(s)
  }

  private endpoint(): string {
    const u = this.options.url.replace(/\/+$/, '')
    return u.endsWith(MUX_PATH) ? u : u + MUX_PATH
  }

  private connect(): void {
    if (this.stopped) return
    this.setStatus('connecting')
    const Ctor =
      this.options.WebSocket ??
      (globalThis as { WebSocket?: SyncClientOptions['WebSocket'] }).WebSocket
    if (!Ctor)
      throw new SkeinError(
        'UNSUPPORTED',
        'No WebSocket available: pass the `ws` package as options.WebSocket.',
      )
    const ws = new Ctor(this.endpoint())
    // `ws` (Node) hands a frame over as a Buffer viewing what it read, not a
    // copy per frame; browsers ignore the unknown value and take ArrayBuffers
    ws.binaryType = 'nodebuffer'
    if (ws.binaryType !== 'nodebuffer') ws.binaryType = 'arraybuffer'
    this.ws = ws
    if (this.connectTimer) clearTimeout(this.connectTimer)
    this.connectTimer = setTimeout(() => {
      if (ws !== this.ws || this.authed) return
      this.options.logger.info('sync connection attempt timed out; retrying', {
        ms: this.options.connectTimeoutMs,
      })
      this.drop(ws, CloseCode.GOING_AWAY)
    }, this.options.connectTimeoutMs)
    ws.onopen = () => void this.onOpen(ws)
    ws.onmessage = (ev) => {
      if (ws !== this.ws) return
      this.heartbeat.heard()
      const data = ev.data
      const bytes =
        data instanceof Uint8Array
          ? data
          : data instanceof ArrayBuffer
            ? new Uint8Array(data)
            : undefined
      if (!bytes) return ws.close(CloseCode.BAD_FRAME)
      try {
        this.onFrame(decodeFrame(bytes))
      } catch (err) {
        this.options.logger.warn('bad frame from server', { error: String(err) })
        ws.close(CloseCode.BAD_FRAME)
      }
    }
    ws.onclose = (ev) => this.onClose(ws, ev.code)
    ws.onerror = () => undefined
  }

  private async onOpen(ws: WebSocketLike): Promise<void> {
    const t = this.options.token
    const token = typeof t === 'function' ? await t() : t
    if (token !== undefined && ws === this.ws) ws.send(encodeFrame({ type: FrameType.AUTH, token }))
  }

  /**
   * Gives up on `ws` now and takes the normal reconnect path. `ws` (Node) is
   * terminated: its `close()` would wait up to 30 s for a closing handshake a
   * dead link never delivers, holding the socket; browsers only have `close()`.
   */
  private drop(ws: WebSocketLike, code: number): void {
    const t = (ws as { terminate?: () => void }).terminate
    if (typeof t === 'function') t.call(ws)
    else ws.close()
    this.onClose(ws, code)
  }

  private onClose(ws: WebSocketLike, code: number): void {
    if (ws !== this.ws) return
    if (this.connectTimer) clearTimeout(this.connectTimer)
    this.heartbeat.stop()
    this.ws = undefined
    this.authed = false
    this.subscribed.clear()
    for (const h of this.handles.values()) h.resetConnection()
    if (this.stopped) return
    if (FATAL_CLOSE_CODES.has(code)) {
      this.error = new SkeinError(
        code === CloseCode.UNAUTHORIZED ? 'NOT_AUTHORIZED' : 'FORBIDDEN',
        code === CloseCode.UNAUTHORIZED
          ? 'The sync server refused the token (missing, wrong or expired): get a new token and reconnect.'
          : 'The token does not grant this workspace: use a token issued for it.',
      )
      this.setStatus('error')
      for (const h of this.handles.values()) h.fatal(this.error)
      for (const [, f] of this.feeds) f.reject(this.error)
      this.feeds.clear()
      return
    }
    this.setStatus('offline')
    for (const h of this.handles.values()) h.setStatus('offline')
    const delay = backoffDelay(this.attempt++, this.options)
    this.options.logger.info('sync connection lost; reconnecting', { code, delayMs: delay })
    this.timer = setTimeout(() => this.connect(), delay)
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.AUTH_OK:
        if (this.connectTimer) clearTimeout(this.connectTimer)
        this.authed = true
        this.attempt = 0
        this.authWorkspace = frame.workspace
        this.heartbeat.start()
        this.setStatus('connected')
        for (const id of this.feeds.keys()) this.sendFeed(id)
        void this.resync()
        return
      case FrameType.SUBSCRIBED: {
        const h = this.handles.get(frame.doc)
        if (h && frame.quiet) h.setStatus('synced')
        return
      }
      case FrameType.MESSAGE:
        this.handles.get(frame.doc)?.receive(frame.payload)
        return
      case FrameType.ACK: {
        this.handles.get(frame.doc)?.ack(frame.count)
        const ws = this.handles.get(frame.doc)?.workspace
        if (ws && frame.seq > (this.heads.get(ws) ?? 0) && this.heads.has(ws))
          this.heads.set(ws, frame.seq)
        return
      }
      case FrameType.DOC_ERROR: {
        this.options.logger.warn('document error from server', { doc: frame.doc, code: frame.code })
        this.handles.get(frame.doc)?.setStatus('error')
        // a refused change-feed request is answered with an error naming the workspace (PR-F5)
        for (const [id, f] of this.feeds) {
          if (f.workspace !== frame.doc) continue
          this.feeds.delete(id)
          f.reject(
            new SkeinError(
              frame.code === CloseCode.FORBIDDEN ? 'FORBIDDEN' : 'TRANSIENT',
              `Change feed of ${f.workspace} refused: ${frame.message}.`,
            ),
          )
        }
        return
      }
      case FrameType.FEED_RESPONSE: {
        const req = this.feeds.get(frame.id)
        this.feeds.delete(frame.id)
        req?.resolve({ head: frame.head, changes: frame.entries, more: frame.more })
        return
      }
      default:
        return
    }
  }

  /** The socket while corked until the turn ends (see {@link cork}), and the frames held. */
  private corked: Corkable | undefined
  private corkedFrames = 0

  private sendFeed(id: number): void {
    const f = this.feeds.get(id)
    if (!f) return
    this.sendRaw(
      encodeFrame({
        type: FrameType.FEED_REQUEST,
        id,
        workspace: f.workspace,
        since: f.since,
        limit: f.limit,
      }),
    )
  }

  /**
   * The heartbeat probe (PR-R5): a change-feed request for the head only (since
   * past every sequence, so the store reads no entries), for a workspace the
   * token grants. Its id comes from the feed ids but is not registered, so the
   * answer is ignored; any frame arriving is what counts.
   */
  private sendProbe(): void {
    const workspace =
      this.authWorkspace !== '*'
        ? this.authWorkspace
        : (this.handles.values().next().value?.workspace ?? 'heartbeat')
    this.sendRaw(
      encodeFrame({
        type: FrameType.FEED_REQUEST,
        id: this.nextFeedId++,
        workspace,
        since: Number.MAX_SAFE_INTEGER,
        limit: 1,
      }),
    )
  }

  /** After (re)authentication: learn what changed per workspace, then resubscribe (PR-R2). */
  private async resync(): Promise<void> {
    const ws = this.ws
    const byWorkspace = new Map<string, DocHandle[]>()
    for (const h of this.handles.values()) {
      const list = byWorkspace.get(h.workspace) ?? []
      list.push(h)
      byWorkspace.set(h.workspace, list)
    }
    await Promise.all(
      [...byWorkspace].map(async ([workspace, handles]) => {
        const since = this.heads.get(workspace) ?? 0
        let changed: Set<string> | undefined
        try {
          const page = await this.changes(
            workspace,
            since > 0 ? since : Number.MAX_SAFE_INTEGER,
            1000,
          )
          if (since > 0 && page.head >= since && !page.more)
            changed = new Set(page.changes.map((c) => c.doc))
          this.heads.set(workspace, page.head)
        } catch {
          changed = undefined
        }
        if (ws !== this.ws) return
        for (const h of handles) {
          if (this.subscribed.has(h.name) || this.handles.get(h.name) !== h) continue
          const quiet =
            changed !== undefined && !changed.has(h.name) && h.everSynced && h.unsyncedChanges === 0
          this.subscribe(h, quiet, since)
        }
      }),
    )
  }

  private subscribe(h: DocHandle, quiet: boolean, since: number): void {
    this.subscribed.add(h.name)
    h.setStatus('syncing')
    // The state vector goes along even when asking quietly: the feed page that
    // made the document look unchanged can be stale by the time the server
    // handles this frame (another writer got in between). The server then
    // refuses quiet and answers with step 2 for this vector; without it the
    // handle would wait for a step 2 that never comes and miss that write.
    this.sendRaw(
      encodeFrame({
        type: FrameType.SUBSCRIBE,
        doc: h.name,
        flags: quiet ? SUBSCRIBE_QUIET : 0,
        since,
        sv: h.doc.store.clients.size === 0 ? EMPTY_STATE_VECTOR : Y.encodeStateVector(h.doc),
      }),
    )
    h.sendAwareness()
  }

  private sendRaw(data: Uint8Array): void {
    const ws = this.ws
    if (ws?.readyState !== OPEN) return
    if (this.corked) {
      // a long synchronous burst (a script applying thousands of edits) must not
      // hold everything until it ends: the server could not start on it meanwhile
      if (++this.corkedFrames >= MAX_CORKED_FRAMES) {
        this.corked.uncork()
        this.corked.cork()
        this.corkedFrames = 0
      }
    } else this.cork(ws)
    ws.send(data)
  }

  /**
   * Under Node's `ws`, holds the socket's writes until the end of this
   * event-loop turn (or {@link MAX_CORKED_FRAMES} frames), so a burst of frames
   * (subscribing to a whole workspace) leaves in a few writes, not one system
   * call per frame. `ws` keeps its net.Socket private (`_socket`); browsers
   * buffer sends themselves.
   */
  private cork(ws: WebSocketLike): void {
    const socket = (ws as { _socket?: Partial<Corkable> })._socket
    if (typeof socket?.cork !== 'function' || typeof socket.uncork !== 'function') return
    const corked = socket as Corkable
    corked.cork()
    this.corked = corked
    this.corkedFrames = 0
    setImmediate(() => {
      if (this.corked === corked) this.corked = undefined
      corked.uncork()
    })
  }

  /** @internal */
  sendMessage(doc: string, message: Uint8Array): void {
    this.sendRaw(encodeMessageFrame(doc, message))
  }

  /** @internal */
  sendFrame(_doc: string, frame: Uint8Array): void {
    this.sendRaw(frame)
  }

  /** @internal */
  canSend(doc: string): boolean {
    return this.authed && this.subscribed.has(doc)
  }

  /** @internal */
  release(handle: DocHandle): void {
    if (this.handles.get(handle.name) !== handle) return
    this.handles.delete(handle.name)
    if (this.subscribed.delete(handle.name)) {
      this.sendRaw(encodeFrame({ type: FrameType.UNSUBSCRIBE, doc: handle.name }))
    }
  }
}
