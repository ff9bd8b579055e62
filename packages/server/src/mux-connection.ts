/**
 * The multiplexed endpoint `/_skein/v1` (SPEC.md §Frames): many documents per
 * socket, per-document queues (one slow load never stalls the others), acks,
 * per-document errors and the change feed.
 */
import type { WebSocket } from 'ws'
import {
  CloseCode,
  FrameType,
  SUBSCRIBE_QUIET,
  decodeFrame,
  encodeFrame,
  parseDocName,
} from '@skein/protocol'
import type { Frame } from '@skein/protocol'
import type { DocStore } from '@skein/core'
import { allows, authorize } from './auth.js'
import { Connection } from './connection.js'
import type { ConnectionContext } from './connection.js'
import type { Room } from './room.js'
import type { Outgoing } from './outgoing.js'
import { SerialQueue } from './serial-queue.js'
import { greet, handleYMessage } from './y-handler.js'
import { YSyncType } from '@skein/protocol'

interface Subscription {
  room: Room | undefined
  queue: SerialQueue
  active: boolean
}

/** A SyncClient connection. */
export class MuxConnection extends Connection {
  private readonly subs = new Map<string, Subscription>()
  private authTimer: ReturnType<typeof setTimeout> | undefined

  constructor(
    ws: WebSocket,
    ctx: ConnectionContext,
    private readonly store: DocStore,
    token: string | undefined,
  ) {
    super(ws, ctx)
    if (token !== undefined || ctx.options.auth.mode === 'open') {
      this.queue.run(() => this.authenticate(token))
    } else {
      this.authTimer = setTimeout(
        () => this.fail(CloseCode.UNAUTHORIZED, 'no auth frame in time'),
        ctx.options.authTimeoutMs,
      )
      this.authTimer.unref?.()
    }
  }

  private async authenticate(token: string | undefined): Promise<void> {
    if (this.authTimer) clearTimeout(this.authTimer)
    this.access = await authorize(this.ctx.options.auth, token)
    if (!this.access) return this.fail(CloseCode.UNAUTHORIZED, 'bad or missing token')
    this.sendRaw(
      encodeFrame({
        type: FrameType.AUTH_OK,
        workspace: this.access.workspace,
        scope: this.access.scope,
      }),
    )
  }

  protected receive(data: Uint8Array): void {
    let frame: Frame
    try {
      frame = decodeFrame(data)
    } catch {
      return this.fail(CloseCode.BAD_FRAME, 'malformed frame')
    }
    if (frame.type === FrameType.AUTH && !this.access && this.authTimer) {
      clearTimeout(this.authTimer)
      this.authTimer = undefined
      return this.queue.run(() => this.authenticate(frame.token))
    }
    this.queue.run(() => this.dispatch(frame))
  }

  private dispatch(frame: Frame): void {
    if (this.closed) return
    if (!this.access) return this.fail(CloseCode.UNAUTHORIZED, 'frame before auth')
    if (frame.type !== FrameType.MESSAGE) this.commitWrites()
    switch (frame.type) {
      case FrameType.SUBSCRIBE:
        return this.subscribe(frame.doc, frame.flags, frame.since, frame.sv)
      case FrameType.UNSUBSCRIBE:
        return this.unsubscribe(frame.doc)
      case FrameType.MESSAGE: {
        const sub = this.subs.get(frame.doc)
        if (!sub) return this.fail(CloseCode.BAD_FRAME, 'message for an unsubscribed document')
        return sub.queue.run(() => {
          if (!sub.room || !sub.active || this.closed) return
          handleYMessage(this, sub.room, frame.payload, () =>
            this.docError(frame.doc, CloseCode.FORBIDDEN, 'read-only token: update refused'),
          )
        })
      }
      case FrameType.FEED_REQUEST:
        return this.feed(frame.id, frame.workspace, frame.since, frame.limit)
      case FrameType.AUTH:
        return
      default:
        return this.fail(CloseCode.BAD_FRAME, 'server-to-client frame from a client')
    }
  }

  private subscribe(doc: string, flags: number, since: number, sv: Uint8Array): void {
    if (this.subs.has(doc)) return
    const parsed = parseDocName(doc)
    if (!parsed) return this.docError(doc, CloseCode.BAD_FRAME, 'invalid document name')
    if (!allows(this.access!, parsed.workspace)) {
      return this.docError(doc, CloseCode.FORBIDDEN, 'document outside the token workspace')
    }
    if (this.subs.size >= this.ctx.options.maxDocsPerConnection) {
      return this.fail(CloseCode.TOO_MANY_DOCS, 'too many documents on one connection')
    }
    const sub: Subscription = {
      room: undefined,
      active: true,
      queue: new SerialQueue((err) => this.crash(err)),
    }
    this.subs.set(doc, sub)
    sub.queue.run(async () => {
      let room: Room
      try {
        room = await this.ctx.rooms.join(doc, this)
      } catch {
        this.subs.delete(doc)
        return this.docError(doc, CloseCode.INTERNAL, 'document failed to load; retry later')
      }
      if (this.closed || !sub.active) return this.ctx.rooms.leave(room, this)
      sub.room = room
      const askedQuiet = (flags & SUBSCRIBE_QUIET) !== 0
      const quiet = askedQuiet && since > 0 && room.seq <= since && room.idle
      this.sendRaw(encodeFrame({ type: FrameType.SUBSCRIBED, doc, seq: room.seq, quiet }))
      // A refused quiet request with no state vector still gets a step 2 (of the
      // whole state): the client's feed page was stale and it is waiting for one.
      if (!quiet && (sv.length > 0 || askedQuiet)) {
        let diff: Uint8Array
        try {
          diff = room.diff(sv.length > 0 ? sv : undefined)
        } catch {
          return this.fail(CloseCode.BAD_FRAME, 'malformed state vector')
        }
        this.send(room.syncMessage(YSyncType.STEP2, diff), true)
      }
      // A client whose vector is empty holds nothing the server could lack: no
      // step 1 for it (nor its empty step 2 and our ack) — a new device syncing a
      // workspace then costs three frames per document instead of six.
      greet(this, room, !quiet && !(sv.length === 1 && sv[0] === 0))
    })
  }

  private unsubscribe(doc: string): void {
    const sub = this.subs.get(doc)
    if (!sub) return
    sub.active = false
    this.subs.delete(doc)
    sub.queue.run(() => {
      if (sub.room) this.ctx.rooms.leave(sub.room, this)
      sub.room = undefined
    })
  }

  private feed(id: number, workspace: string, since: number, limit: number): void {
    if (!allows(this.access!, workspace)) {
      return this.docError(
        workspace,
        CloseCode.FORBIDDEN,
        'change feed outside the token workspace',
      )
    }
    this.store.changes(workspace, since, Math.min(Math.max(limit, 1), 10_000)).then(
      (page) =>
        this.sendRaw(
          encodeFrame({
            type: FrameType.FEED_RESPONSE,
            id,
            head: page.head,
            entries: page.changes,
            more: page.more,
          }),
        ),
      () => this.docError(workspace, CloseCode.INTERNAL, 'change feed unavailable; retry later'),
    )
  }

  private docError(doc: string, code: number, message: string): void {
    this.sendRaw(encodeFrame({ type: FrameType.DOC_ERROR, doc, code, message }))
  }

  send(out: Outgoing, reply = false): void {
    this.sendWire(out.wire(true), out.frame.length, reply)
  }

  ack(doc: string, count: number, seq: number): void {
    if (this.subs.has(doc))
      this.sendRaw(encodeFrame({ type: FrameType.ACK, doc, count, seq }), false)
  }

  protected cleanup(): void {
    if (this.authTimer) clearTimeout(this.authTimer)
    for (const [, sub] of this.subs) {
      sub.active = false
      if (sub.room) this.ctx.rooms.leave(sub.room, this)
      sub.room = undefined
    }
    this.subs.clear()
  }
}
