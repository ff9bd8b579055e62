/**
 * The y-websocket compatible endpoint `/<room>` (SPEC.md PR-Y1…Y3): one document
 * per socket, bare y-protocols messages, token only as `?token=`.
 */
import type { WebSocket } from 'ws'
import { CloseCode, parseDocName } from '@skein/protocol'
import { allows, authorize } from './auth.js'
import { Connection } from './connection.js'
import type { ConnectionContext } from './connection.js'
import type { Outgoing } from './outgoing.js'
import type { Room } from './room.js'
import { greet, handleYMessage } from './y-handler.js'

/** A stock `WebsocketProvider` connection. */
export class LegacyConnection extends Connection {
  private room: Room | undefined

  constructor(
    ws: WebSocket,
    ctx: ConnectionContext,
    private readonly docName: string,
    token: string | undefined,
  ) {
    super(ws, ctx)
    this.queue.run(() => this.start(token))
  }

  private async start(token: string | undefined): Promise<void> {
    const parsed = parseDocName(this.docName)
    if (!parsed) return this.fail(CloseCode.BAD_FRAME, 'invalid room name')
    this.access = await authorize(this.ctx.options.auth, token)
    if (!this.access) return this.fail(CloseCode.UNAUTHORIZED, 'bad or missing token')
    if (!allows(this.access, parsed.workspace))
      return this.fail(CloseCode.FORBIDDEN, 'room outside token')
    if (this.closed) return
    try {
      this.room = await this.ctx.rooms.join(this.docName, this)
    } catch {
      return this.fail(CloseCode.INTERNAL, 'document failed to load')
    }
    if (this.closed) return this.leave()
    greet(this, this.room, true)
  }

  protected receive(data: Uint8Array): void {
    this.queue.run(() => {
      if (this.closed || !this.room) return
      handleYMessage(this, this.room, data, () => undefined)
    })
  }

  send(out: Outgoing, reply = false): void {
    this.sendWire(out.wire(false), out.message.length, reply)
  }

  ack(): void {}

  private leave(): void {
    if (this.room) this.ctx.rooms.leave(this.room, this)
    this.room = undefined
  }

  protected cleanup(): void {
    this.leave()
  }
}
