/**
 * Loads rooms on first subscription and unloads them after `evictAfterMs`
 * without subscribers (SPEC.md PR-M1): written, compacted, destroyed — never
 * while a write of the room is in flight.
 */
import { Room } from './room.js'
import type { RoomDeps } from './room.js'
import type { Peer } from './peer.js'

/** The rooms of one server. */
export class RoomManager {
  private readonly rooms = new Map<string, Room>()
  private readonly timers = new Map<Room, ReturnType<typeof setTimeout>>()

  constructor(
    private readonly deps: RoomDeps,
    private readonly evictAfterMs: number,
  ) {}

  /** Loaded documents. */
  get size(): number {
    return this.rooms.size
  }

  /** A loaded room by name (for inspection and tests). */
  get(name: string): Room | undefined {
    return this.rooms.get(name)
  }

  /** Subscribes `peer` to `name`, loading the document first. Rejects when the store fails. */
  async join(name: string, peer: Peer): Promise<Room> {
    for (;;) {
      let room = this.rooms.get(name)
      if (room?.broken && !room.evicting) void this.evict(room, true)
      if (room?.evicting) {
        await room.evicting
        continue
      }
      if (!room) room = this.create(name)
      this.cancelEviction(room)
      room.addPeer(peer)
      try {
        await room.ready
      } catch (err) {
        room.removePeer(peer)
        throw err
      }
      return room
    }
  }

  /** Unsubscribes `peer`; schedules eviction when the room becomes empty. */
  leave(room: Room, peer: Peer): void {
    room.removePeer(peer)
    if (room.broken && room.size === 0) void this.evict(room)
    else if (room.size === 0 && this.rooms.get(room.name) === room && !room.evicting) {
      this.cancelEviction(room)
      const t = setTimeout(() => void this.evict(room), this.evictAfterMs)
      t.unref?.()
      this.timers.set(room, t)
    }
  }

  private create(name: string): Room {
    const room = new Room(name, this.deps)
    this.rooms.set(name, room)
    this.deps.metrics.loadedDocs = this.rooms.size
    room.ready = room.load().catch((err: unknown) => {
      this.deps.logger.error('document failed to load', { doc: name, error: String(err) })
      this.drop(room)
      throw err
    })
    return room
  }

  private cancelEviction(room: Room): void {
    const t = this.timers.get(room)
    if (t !== undefined) clearTimeout(t)
    this.timers.delete(room)
  }

  private drop(room: Room): void {
    if (this.rooms.get(room.name) === room) this.rooms.delete(room.name)
    this.cancelEviction(room)
    room.destroy()
    this.deps.metrics.loadedDocs = this.rooms.size
  }

  /** Writes, compacts and unloads an unsubscribed room. */
  private evict(room: Room, force = false): Promise<void> {
    this.timers.delete(room)
    if ((room.size > 0 && !force) || room.evicting) return room.evicting ?? Promise.resolve()
    room.evicting = (async () => {
      try {
        await room.ready.catch(() => undefined)
        await room.whenIdle()
        await room.compact()
      } catch (err) {
        this.deps.logger.warn('compaction before unload failed', {
          doc: room.name,
          error: String(err),
        })
      } finally {
        this.drop(room)
      }
    })()
    return room.evicting
  }

  /** Flushes every room and unloads it (shutdown). */
  async closeAll(): Promise<void> {
    await Promise.all(
      [...this.rooms.values()].map(async (room) => {
        await room.ready.catch(() => undefined)
        await room.whenIdle()
        await room.compact().catch(() => undefined)
        this.drop(room)
      }),
    )
  }
}
